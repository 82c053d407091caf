"""The cross-company overwrites, reconstructed from the whole history the way ``orders/history.py``
found them before they were recorded: kept as the reference the records are checked against.

For each order, its history rows in order (date, then id); a row overwrites a field when the
previous row held a non-empty value set for one company and this row holds a different value set
for another company (both companies known).
"""

from __future__ import annotations

from orders.models import CUSTOMER_INFORMATION_FIELDS, PurchaseOrder, SalesOrder


def _overwritten(previous, row, field):
    if previous is None:
        return None
    old, new = getattr(previous, field), getattr(row, field)
    old_for = getattr(previous, f"{field}_set_for_id")
    new_for = getattr(row, f"{field}_set_for_id")
    if old == new or old == "" or old_for is None or new_for is None or old_for == new_for:
        return None
    return getattr(previous, f"{field}_set_by_id"), old_for


def reconstructed_overwrites() -> list[tuple]:
    """Sorted tuples: (order type, order id, history id, field, old value, old set by, old set
    for, new value, new set by, new set for, at, kind, source type, source id, source number,
    source role, order number, order company id)."""
    found = []
    for model in (SalesOrder, PurchaseOrder):
        previous = None
        for row in model.history.order_by("id", "history_date", "history_id"):
            if previous is not None and previous.id != row.id:
                previous = None
            for field in CUSTOMER_INFORMATION_FIELDS:
                replaced = _overwritten(previous, row, field)
                if replaced is None:
                    continue
                found.append((
                    model.order_type, row.id, row.history_id, field, getattr(previous, field),
                    replaced[0], replaced[1], getattr(row, field),
                    getattr(row, f"{field}_set_by_id"), getattr(row, f"{field}_set_for_id"),
                    row.history_date, row.history_kind, row.history_source_type or "",
                    row.history_source_id, row.history_source_number or "",
                    row.history_source_role or "", row.number, row.company_id,
                ))
            previous = row
    return sorted(found)
