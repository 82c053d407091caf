"""Reading the history: who set which value, and who overwrote whom.

Every save of an order leaves a django-simple-history row with the acting employee, the company
they acted for, the kind (created / edited / synced) and, for a copy, the order it came from.
Each row also holds ``customer_*_set_by`` / ``customer_*_set_for``: whose value the field held
at that moment. A **cross-company overwrite** is a row in which a field's non-empty value is
replaced by a value set for another company than the one that set the value before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intercompany.history import ChangeKind
from intercompany.models import Company, Employee
from orders.models import CUSTOMER_INFORMATION_FIELDS, Order, OrderType, PurchaseOrder, SalesOrder

FIELD_LABELS = {
    "customer_reference": gettext_lazy("Customer reference"),
    "customer_requisition": gettext_lazy("Customer requisition"),
    "status": gettext_lazy("Status"),
}
HISTORY_FIELDS = (*CUSTOMER_INFORMATION_FIELDS, "status")


def how_it_came(kind: str, source_role: str, source_number: str) -> tuple[str, str]:
    """How a change came about, as the words and the number of the order it came from:
    ("copied from intercompany sales order", "DEMF-SO-000412"), or ("edited here", "")."""
    if source_number and kind in (ChangeKind.SYNCED, ChangeKind.CREATED):
        # The role is stored in English (intercompany/history.py); shown in the reader's words.
        role = _(source_role) if source_role else _("order")
        if kind == ChangeKind.SYNCED:
            return _("copied from %(role)s") % {"role": role}, source_number
        return _("created from %(role)s") % {"role": role}, source_number
    return (_("created here") if kind == ChangeKind.CREATED else _("edited here")), ""


@dataclass(frozen=True)
class Setter:
    """An employee acting for a company (either may be unknown for system changes)."""

    employee_id: int | None
    employee_name: str
    company_id: int | None
    company_code: str

    def __str__(self) -> str:
        if self.company_code:
            return f"{self.employee_name} ({self.company_code})"
        return self.employee_name


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str
    overwrote: Setter | None  # whose value was replaced, when it was another company's

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field]


@dataclass(frozen=True)
class HistoryEntry:
    history_id: int
    at: datetime
    by: Setter
    kind: str  # "created", "edited", "synced"
    source_number: str
    source_role: str
    source_type: str
    source_id: int | None
    changes: tuple[FieldChange, ...]

    @property
    def how_parts(self) -> tuple[str, str]:
        return how_it_came(self.kind, self.source_role, self.source_number)

    @property
    def how(self) -> str:
        return " ".join(part for part in self.how_parts if part)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    value: str
    previous_value: str
    set_by: Setter
    kind: str
    source_number: str
    overwrote: Setter | None


@dataclass(frozen=True)
class Overwrite:
    """A value set for one company replaced by an employee acting for another."""

    history_id: int
    at: datetime
    order_type: str
    order_id: int
    order_number: str
    order_company_code: str
    field: str
    old_value: str
    old_setter: Setter
    new_value: str
    new_setter: Setter
    kind: str
    source_number: str
    source_role: str

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field]

    @property
    def how(self) -> str:
        return " ".join(
            part for part in how_it_came(self.kind, self.source_role, self.source_number) if part
        )

    def describe(self) -> str:
        """E.g. "customer requisition `PO-7781` (set by Alice Martin, USMF) was overwritten by
        `PO-7790` by Jonas Weber, DEMF, via intercompany sales order DEMF-SO-000412, ..."."""
        if self.kind == "synced":
            via = _("via %(role)s %(number)s") % {
                "role": _(self.source_role), "number": self.source_number
            }
        else:
            via = _("on %(number)s") % {"number": self.order_number}
        when = date_format(timezone.localtime(self.at), "j M Y H:i")
        return _(
            "%(field)s `%(old)s` (set by %(old_name)s, %(old_company)s) was overwritten by "
            "`%(new)s` by %(new_name)s, %(new_company)s, %(via)s, %(when)s"
        ) % {
            "field": str(self.label).lower(), "old": self.old_value,
            "old_name": self.old_setter.employee_name, "old_company": self.old_setter.company_code,
            "new": self.new_value, "new_name": self.new_setter.employee_name,
            "new_company": self.new_setter.company_code, "via": via, "when": when,
        }


class _Names:
    """Employee and company names for many rows in two queries."""

    def __init__(self, employee_ids, company_ids):
        employee_ids = {pk for pk in employee_ids if pk}
        company_ids = {pk for pk in company_ids if pk}
        employees = Employee.objects.filter(pk__in=employee_ids)
        self.employees = {e.pk: e.display_name for e in employees}
        self.companies = dict(Company.objects.filter(pk__in=company_ids).values_list("pk", "code"))

    def setter(self, employee_id, company_id) -> Setter:
        return Setter(
            employee_id,
            self.employees.get(
                employee_id, _("system") if employee_id is None else _("former employee")
            ),
            company_id,
            self.companies.get(company_id, ""),
        )


def _history_rows(order: Order):
    return list(order.history.order_by("history_date", "history_id"))


def _overwritten(previous, row, field) -> tuple[int | None, int | None] | None:
    """(employee_id, company_id) whose value of ``field`` ``row`` replaced, if another company's."""
    if previous is None:
        return None
    old, new = getattr(previous, field), getattr(row, field)
    old_for = getattr(previous, f"{field}_set_for_id")
    new_for = getattr(row, f"{field}_set_for_id")
    if old == new or old == "" or old_for is None or new_for is None or old_for == new_for:
        return None
    return getattr(previous, f"{field}_set_by_id"), old_for


def order_history(*, order: Order) -> list[HistoryEntry]:
    """Every change of ``order``, newest first, with per-field old → new values."""
    rows = _history_rows(order)
    ids_e, ids_c = set(), set()
    for row in rows:
        ids_e.add(row.history_user_id)
        ids_c.add(row.history_company_id)
        for field in CUSTOMER_INFORMATION_FIELDS:
            ids_e.add(getattr(row, f"{field}_set_by_id"))
            ids_c.add(getattr(row, f"{field}_set_for_id"))
    names = _Names(ids_e, ids_c)
    entries = []
    previous = None
    for row in rows:
        changes = []
        for field in HISTORY_FIELDS:
            old = getattr(previous, field) if previous is not None else ""
            new = getattr(row, field)
            if previous is None and field == "status":
                continue
            if old == new:
                continue
            overwrote = None
            if field in CUSTOMER_INFORMATION_FIELDS:
                replaced = _overwritten(previous, row, field)
                if replaced is not None:
                    overwrote = names.setter(*replaced)
            changes.append(FieldChange(field, old, new, overwrote))
        entries.append(
            HistoryEntry(
                history_id=row.history_id,
                at=row.history_date,
                by=names.setter(row.history_user_id, row.history_company_id),
                kind=row.history_kind,
                source_number=row.history_source_number,
                source_role=row.history_source_role,
                source_type=row.history_source_type,
                source_id=row.history_source_id,
                changes=tuple(changes),
            )
        )
        previous = row
    entries.reverse()
    return entries


def customer_information_timeline(*, order: Order, field: str) -> list[TimelineEntry]:
    """The values ``field`` has held on ``order``, oldest first, with who set each and whose
    value each replaced when that was another company's."""
    if field not in CUSTOMER_INFORMATION_FIELDS:
        raise ValueError(f"{field} is not a customer-information field")
    rows = _history_rows(order)
    names = _Names(
        [getattr(r, f"{field}_set_by_id") for r in rows],
        [getattr(r, f"{field}_set_for_id") for r in rows],
    )
    timeline = []
    previous = None
    for row in rows:
        value = getattr(row, field)
        if previous is None or getattr(previous, field) != value:
            replaced = _overwritten(previous, row, field)
            timeline.append(
                TimelineEntry(
                    at=row.history_date,
                    value=value,
                    previous_value=getattr(previous, field) if previous is not None else "",
                    set_by=names.setter(
                        getattr(row, f"{field}_set_by_id"), getattr(row, f"{field}_set_for_id")
                    ),
                    kind=row.history_kind,
                    source_number=row.history_source_number,
                    overwrote=names.setter(*replaced) if replaced else None,
                )
            )
        previous = row
    return timeline


def _overwrite_sql(model, field: str, *, company_id, since, until, other_company_id):
    """SQL selecting (history_id, old value, old setter) of the overwrites of ``field`` in the
    history table of ``model``. LAG over each order's rows finds the value each row replaced;
    the date and company filters apply outside, so the previous row is never filtered away."""
    table = connection.ops.quote_name(model.history.model._meta.db_table)
    inner_where, params = "", []
    if company_id is not None:
        inner_where = "WHERE h.company_id = %s"
        params.append(company_id)
    outer = [
        "t.old_value IS NOT NULL", "t.old_value <> ''", "t.new_value <> t.old_value",
        "t.new_for IS NOT NULL", "t.old_for IS NOT NULL", "t.new_for <> t.old_for",
    ]
    if since is not None:
        outer.append("t.history_date >= %s")
        params.append(connection.ops.adapt_datetimefield_value(since))
    if until is not None:
        outer.append("t.history_date < %s")
        params.append(connection.ops.adapt_datetimefield_value(until))
    if other_company_id is not None:
        outer.append("(t.new_for = %s OR t.old_for = %s)")
        params += [other_company_id, other_company_id]
    sql = f"""
        SELECT '{model.order_type}' AS order_type, '{field}' AS field, t.history_id,
               t.history_date, t.old_value, t.old_by, t.old_for
        FROM (
            SELECT h.history_id, h.history_date,
                   h.{field} AS new_value, h.{field}_set_for_id AS new_for,
                   LAG(h.{field}) OVER w AS old_value,
                   LAG(h.{field}_set_by_id) OVER w AS old_by,
                   LAG(h.{field}_set_for_id) OVER w AS old_for
            FROM {table} h
            {inner_where}
            WINDOW w AS (PARTITION BY h.id ORDER BY h.history_date, h.history_id)
        ) t
        WHERE {" AND ".join(outer)}
    """
    return sql, params


def cross_company_overwrites(
    *,
    company: Company | None = None,
    other_company: Company | None = None,
    field: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Overwrite]:
    """Cross-company overwrites across all orders, newest first.

    ``company``: only on the orders of this company. ``other_company``: only where this company
    set the replaced value or the new one. ``field``: one customer-information field.
    ``since`` (inclusive) / ``until`` (exclusive): when the overwrite happened.
    """
    fields = [field] if field else list(CUSTOMER_INFORMATION_FIELDS)
    if field is not None and field not in CUSTOMER_INFORMATION_FIELDS:
        raise ValueError(f"{field} is not a customer-information field")
    parts, params = [], []
    for model in (SalesOrder, PurchaseOrder):
        for name in fields:
            sql, part_params = _overwrite_sql(
                model,
                name,
                company_id=getattr(company, "pk", None),
                since=since,
                until=until,
                other_company_id=getattr(other_company, "pk", None),
            )
            parts.append(sql)
            params += part_params
    query = " UNION ALL ".join(f"SELECT * FROM ({part}) p{i}" for i, part in enumerate(parts))
    query = f"SELECT * FROM ({query}) u ORDER BY history_date DESC, history_id DESC"
    if limit is not None:
        query += " LIMIT %s"
        params.append(int(limit))
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        found = cursor.fetchall()

    by_type: dict[str, set[int]] = {OrderType.SALES: set(), OrderType.PURCHASE: set()}
    for order_type, _field, history_id, *_rest in found:
        by_type[order_type].add(history_id)
    rows = {}
    for model in (SalesOrder, PurchaseOrder):
        for row in model.history.filter(history_id__in=by_type[model.order_type]).select_related(
            "company"
        ):
            rows[(model.order_type, row.history_id)] = row
    names = _Names(
        [r.history_user_id for r in rows.values()]
        + [getattr(r, f"{f}_set_by_id") for r in rows.values() for f in fields]
        + [item[5] for item in found],
        [r.history_company_id for r in rows.values()]
        + [getattr(r, f"{f}_set_for_id") for r in rows.values() for f in fields]
        + [item[6] for item in found],
    )
    overwrites = []
    for order_type, name, history_id, _date, old_value, old_by, old_for in found:
        row = rows[(order_type, history_id)]
        overwrites.append(
            Overwrite(
                history_id=history_id,
                at=row.history_date,
                order_type=order_type,
                order_id=row.id,
                order_number=row.number,
                order_company_code=row.company.code,
                field=name,
                old_value=old_value,
                old_setter=names.setter(old_by, old_for),
                new_value=getattr(row, name),
                new_setter=names.setter(
                    getattr(row, f"{name}_set_by_id"), getattr(row, f"{name}_set_for_id")
                ),
                kind=row.history_kind,
                source_number=row.history_source_number,
                source_role=row.history_source_role,
            )
        )
    return overwrites
