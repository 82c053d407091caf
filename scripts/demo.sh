#!/usr/bin/env bash
# Set up the virtual environment, migrate the database (SQLite file db.sqlite3 unless DATABASE_URL
# says otherwise), load the demo group and start the app on http://127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_common.sh
ensure_venv ""
compile_translations
"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py load_demo
echo
echo "Open http://127.0.0.1:8000 and log in with one of the accounts above (Ctrl+C stops)."
exec "$VENV/bin/python" manage.py runserver 127.0.0.1:8000
