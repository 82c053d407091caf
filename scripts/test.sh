#!/usr/bin/env bash
# Set up the virtual environment and run the whole suite: on SQLite, then on PostgreSQL.
#
# PostgreSQL: $TEST_POSTGRES_URL, else $DATABASE_URL if it is a PostgreSQL URL, else
# postgres://postgres@127.0.0.1:5432/intercompany (pytest-django creates test_<name>).
# Without a reachable PostgreSQL the second run is skipped, except under CI, where it fails.
# Extra arguments go to pytest (e.g. scripts/test.sh -k history). TEST_DATABASES=postgres runs the
# PostgreSQL pass only (CI's second Python does, to stay within its time). The tests run in
# parallel, one process per core up to 4 (pytest-xdist; each process has its own test database);
# TEST_PROCESSES=0 runs them in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_common.sh
ensure_venv "test"
compile_translations
ensure_chromium
ensure_axe

pg_url=${TEST_POSTGRES_URL:-}
if [ -z "$pg_url" ] && [[ "${DATABASE_URL:-}" == postgres* ]]; then pg_url=$DATABASE_URL; fi
pg_url=${pg_url:-postgres://postgres@127.0.0.1:5432/intercompany}

databases=${TEST_DATABASES:-sqlite postgres}
processes=${TEST_PROCESSES:-auto}
parallel=()
if [ "$processes" != 0 ]; then parallel=(-n "$processes" --maxprocesses 4); fi
if [[ " $databases " == *" sqlite "* ]]; then
  echo "== Tests on SQLite ($("$VENV/bin/python" --version)) =="
  env -u DATABASE_URL "$VENV/bin/python" -m pytest "${parallel[@]}" "$@"
fi

if postgres_reachable "$pg_url"; then
  echo "== Tests on PostgreSQL ($("$VENV/bin/python" --version)) =="
  DATABASE_URL=$pg_url "$VENV/bin/python" -m pytest "${parallel[@]}" "$@"
elif [ -n "${CI:-}" ]; then
  echo "CI: PostgreSQL must be reachable at $pg_url; the suite did not run on it." >&2
  exit 1
else
  echo "Skipped the PostgreSQL run: no server at $pg_url (set TEST_POSTGRES_URL)."
fi
