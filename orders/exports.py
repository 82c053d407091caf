"""The CSV export of the Overwrites page, written while it is read.

The rows come from the overwrite records (``orders.OverwriteRecord``) through a server-side
cursor on PostgreSQL (``QuerySet.iterator``): the process holds one chunk of rows at a time
whatever the number of overwrites, the first bytes (the header) leave before the query has
finished, and no query carries a list of ids.

The file opens as it should in a spreadsheet of the clerk's language: UTF-8 with a byte-order
mark (without it Excel reads UTF-8 as the local code page: "Ã©" for "é"), and in French the
separator is ``;``, because ``,`` is the decimal separator there and Excel expects ``;``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from orders.history import FIELD_LABELS, how_it_came
from orders.models import OrderType

BYTE_ORDER_MARK = "\ufeff"
ROWS_PER_CHUNK = 500  # rows per piece of the response: few writes, little memory
CURSOR_CHUNK = 2000  # rows fetched from the database cursor at a time

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# The columns the export reads from each record, by name; employee names by join, so that the
# rows need no second query.
RECORD_VALUES = (
    "at", "order_company__code", "order_number", "order_type", "field",
    "old_value", "old_set_by_id", "old_set_by__first_name", "old_set_by__last_name",
    "old_set_by__username", "old_set_for__code",
    "new_value", "new_set_by_id", "new_set_by__first_name", "new_set_by__last_name",
    "new_set_by__username", "new_set_for__code",
    "kind", "source_role", "source_number",
)


def csv_delimiter(language: str | None = None) -> str:
    """``;`` for a French spreadsheet, ``,`` otherwise."""
    language = (language if language is not None else get_language()) or ""
    return ";" if language.lower().split("-")[0] == "fr" else ","


def _cell(value) -> str:
    # Values typed by clerks of other companies: never let a spreadsheet run one as a formula.
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Line:
    """What csv.writer writes to: hands back the line instead of storing it."""

    def write(self, text: str) -> str:
        return text


def header() -> list[str]:
    zone = timezone.get_current_timezone_name()
    return [
        _("When (%(zone)s)") % {"zone": zone}, _("Company"), _("Order"), _("Order type"),
        _("Field"), _("Old value"), _("Old value set by"), _("Old value set for"),
        _("New value"), _("Overwritten by"), _("Overwritten for"), _("How"),
    ]


def overwrite_csv_lines(records, *, delimiter: str) -> Iterator[bytes]:
    """The export of ``records`` (an OverwriteRecord QuerySet, in the order wanted) as UTF-8
    pieces: the byte-order mark and the header first, then ``ROWS_PER_CHUNK`` rows at a time.

    The language and time zone are taken now, in the request: the pieces are made later, while
    the server sends them, when the request's settings may be gone."""
    writer = csv.writer(_Line(), delimiter=delimiter)
    first = (BYTE_ORDER_MARK + writer.writerow(header())).encode("utf-8")
    words = {
        "zone": timezone.get_current_timezone(),
        "fields": {name: str(label) for name, label in FIELD_LABELS.items()},
        "types": {value: str(label) for value, label in OrderType.choices},
        "system": _("system"),
        "former": _("former employee"),
    }
    rows = records.values_list(*RECORD_VALUES)
    return _pieces(first, writer, rows, words, get_language())


def _pieces(first: bytes, writer, rows, words: dict, language: str | None) -> Iterator[bytes]:
    yield first
    with translation.override(language):
        yield from _chunks(writer, rows.iterator(chunk_size=CURSOR_CHUNK), words)


def _chunks(writer, rows: Iterable[tuple], words: dict) -> Iterator[bytes]:
    def employee(employee_id, first, last, username) -> str:
        if employee_id is None:
            return words["system"]
        if username is None:  # the id of an employee deleted since
            return words["former"]
        return f"{first or ''} {last or ''}".strip() or username

    zone = words["zone"]
    piece: list[str] = []
    for (at, company, number, order_type, field, old_value, old_by, old_first, old_last,
         old_username, old_for, new_value, new_by, new_first, new_last, new_username, new_for,
         kind, source_role, source_number) in rows:
        how = " ".join(part for part in how_it_came(kind, source_role, source_number) if part)
        piece.append(writer.writerow([_cell(v) for v in (
            timezone.localtime(at, zone).strftime("%Y-%m-%d %H:%M:%S"),
            company,
            number,
            words["types"].get(order_type, order_type),
            words["fields"].get(field, field),
            old_value,
            employee(old_by, old_first, old_last, old_username),
            old_for,
            new_value,
            employee(new_by, new_first, new_last, new_username),
            new_for,
            how,
        )]))
        if len(piece) >= ROWS_PER_CHUNK:
            yield "".join(piece).encode("utf-8")
            piece = []
    if piece:
        yield "".join(piece).encode("utf-8")
