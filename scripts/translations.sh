#!/usr/bin/env bash
# Update the French catalogue after texts were added or changed (README, "Translations"):
#
#   1. makemessages: every message of the code and templates into locale/fr/LC_MESSAGES/django.po
#   2. lists the messages that still need their French (new, or fuzzy: changed in English);
#      fill in their msgstr in django.po (and drop the "#, fuzzy" line), then run this again;
#   3. once none is left, compilemessages builds django.mo (committed with the .po).
#
# Needs gettext (apt-get install gettext). tests/test_translations.py fails while a message lacks
# its French, exactly as step 2 reports it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_common.sh
ensure_venv "test"
po=locale/fr/LC_MESSAGES/django.po

env -u DATABASE_URL "$VENV/bin/python" manage.py makemessages -l fr --no-obsolete \
  --ignore '.venv*' --ignore node_modules --ignore staticfiles >/dev/null
todo=$( { msgattrib --no-wrap --no-obsolete --untranslated "$po"; \
          msgattrib --no-wrap --no-obsolete --only-fuzzy "$po"; } | grep -c '^msgid "[^"]' || true)
if [ "$todo" -gt 0 ]; then
  echo "$todo message(s) need their French in $po:"
  msgattrib --no-wrap --no-obsolete --untranslated "$po" | grep -E '^(#:|msgid)' | grep -v '^msgid ""$'
  msgattrib --no-wrap --no-obsolete --only-fuzzy "$po" | grep -E '^(#:|msgid)' | grep -v '^msgid ""$'
  echo "Fill them in (and remove their '#, fuzzy' line), then run bash scripts/translations.sh again."
  exit 1
fi
compile_translations
msgfmt --statistics -o /dev/null "$po"
