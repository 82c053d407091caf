# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run).

# ensure_venv EXTRAS: create $VENV with $PYTHON (default python3, 3.11+) and install the project
# with the given extras; skipped when pyproject.toml has not changed since the last install.
ensure_venv() {
  local extras=$1
  PYTHON=${PYTHON:-python3}
  VENV=${VENV:-.venv}
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    echo "Creating the virtual environment $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-${extras:-base}"
  local digest
  digest=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "Installing the project and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if [ -n "$extras" ]; then
      "$VENV/bin/python" -m pip install --quiet -e ".[$extras]"
    else
      "$VENV/bin/python" -m pip install --quiet -e .
    fi
    echo "$digest" >"$stamp"
  fi
}

# compile_translations: build the .mo catalogues the app reads from the .po files (they are
# committed too, so that a machine without gettext still has French). msgfmt comes from Debian's
# gettext package; without it the committed .mo files are used as they are.
compile_translations() {
  if command -v msgfmt >/dev/null; then
    "$VENV/bin/python" manage.py compilemessages --ignore '.venv*' --ignore node_modules \
      --ignore staticfiles >/dev/null
  else
    echo "Note: msgfmt (apt-get install gettext) is missing: using the committed .mo files."
  fi
}

# ensure_axe: axe-core (npm registry) for the accessibility tests, installed from the committed
# package-lock.json into tests/axe/node_modules. Without npm they are skipped, except under CI.
ensure_axe() {
  local dir=tests/axe
  if [ -f "$dir/node_modules/axe-core/axe.min.js" ] && \
     [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  if command -v npm >/dev/null; then
    echo "Installing axe-core for the accessibility tests (npm ci in $dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  elif [ -n "${CI:-}" ]; then
    echo "npm is missing: the accessibility tests need axe-core (apt-get install npm)." >&2
    exit 1
  else
    echo "Note: npm is missing; the accessibility tests will be skipped (apt-get install npm)."
  fi
}

# ensure_chromium: the browser tests drive Debian's chromium. Installed here when missing and we
# may (root); under CI its absence is an error.
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif [ -n "${CI:-}" ]; then
    echo "chromium is missing and cannot be installed (not root): the browser tests need it." >&2
    exit 1
  else
    echo "Note: /usr/bin/chromium is missing; the browser tests will be skipped" \
         "(as root: apt-get install chromium)."
  fi
}

# postgres_reachable URL: true when the PostgreSQL server of URL answers.
postgres_reachable() {
  "$VENV/bin/python" - "$1" <<'PY'
import sys

import dj_database_url
import psycopg

cfg = dj_database_url.parse(sys.argv[1])
try:
    psycopg.connect(
        host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
        password=cfg["PASSWORD"] or None, dbname="postgres", connect_timeout=5,
    ).close()
except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
    print(f"PostgreSQL at {cfg['HOST']}:{cfg['PORT']} is not reachable: {error}", file=sys.stderr)
    sys.exit(1)
PY
}
