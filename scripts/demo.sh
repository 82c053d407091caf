#!/usr/bin/env bash
# Set up the virtual environment, migrate the database (SQLite file db.sqlite3 unless DATABASE_URL
# says otherwise), load the demo group and start the app on http://127.0.0.1:8000, with a
# background worker beside it (it sends the alert emails; the demo prints them here). Ctrl+C
# stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_common.sh
ensure_venv ""
compile_translations
"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py load_demo
echo
port=${PORT:-8000}
echo "Open http://127.0.0.1:$port and log in with one of the accounts above (Ctrl+C stops)."

# The worker runs the queued background tasks (django-tasks-db: the queue is in the database).
# Started in the background, it is stopped with the server, whichever way the script ends.
"$VENV/bin/python" manage.py db_worker --no-reload --queue-name '*' --exclude-queues webhooks &
worker_pid=$!
# A second worker for the change events (webhooks): a slow receiver never delays the mail.
"$VENV/bin/python" manage.py db_worker --no-reload --queue-name webhooks &
webhooks_worker_pid=$!
stop_worker() {
  for pid in "$worker_pid" "$webhooks_worker_pid"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap stop_worker EXIT
trap 'exit 130' INT TERM
"$VENV/bin/python" manage.py runserver "127.0.0.1:$port"
