"""Reading the history: who set which value, and who overwrote whom.

Every save of an order leaves a django-simple-history row with the acting employee, the company
they acted for, the kind (created / edited / synced) and, for a copy, the order it came from.
Each row also holds ``customer_*_set_by`` / ``customer_*_set_for``: whose value the field held
at that moment. A **cross-company overwrite** is a row in which a field's non-empty value is
replaced by a value set for another company than the one that set the value before
(``OverwriteRecord.is_overwrite``). The sync stores each one as an ``OverwriteRecord`` when it
happens; everything here that shows overwrites reads those records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intercompany.history import ChangeKind
from intercompany.models import Company, Customer, Employee
from orders.models import (
    CUSTOMER_INFORMATION_FIELDS,
    Order,
    OrderType,
    OverwriteRecord,
)

FIELD_LABELS = {
    "customer_reference": gettext_lazy("Customer reference"),
    "customer_requisition": gettext_lazy("Customer requisition"),
    "original_customer_account": gettext_lazy("Original customer account"),
    "original_customer_name": gettext_lazy("Original customer name"),
    "customer": gettext_lazy("Customer"),
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
    record_id: int | None = None  # the OverwriteRecord's id: with ``at``, a key to page by

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field]

    @property
    def how(self) -> str:
        return " ".join(
            part for part in how_it_came(self.kind, self.source_role, self.source_number) if part
        )

    @classmethod
    def from_record(cls, record: OverwriteRecord) -> Overwrite:
        """The overwrite as shown, from its record (with ``overwrite_records``' related rows)."""
        return cls(
            history_id=record.history_id,
            at=record.at,
            order_type=record.order_type,
            order_id=record.order_id,
            order_number=record.order_number,
            order_company_code=record.order_company.code,
            field=record.field,
            old_value=record.old_value,
            old_setter=_related_setter(record, "old"),
            new_value=record.new_value,
            new_setter=_related_setter(record, "new"),
            kind=record.kind,
            source_number=record.source_number,
            source_role=record.source_role,
            record_id=record.pk,
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


def _employee_name(employee_id, employee) -> str:
    if employee is not None:
        return employee.display_name
    return "system" if employee_id is None else "former employee"


def _related_setter(record: OverwriteRecord, side: str) -> Setter:
    """Whose value one side of a record is, from the employee and company selected with it."""
    employee_id = getattr(record, f"{side}_set_by_id")
    company = getattr(record, f"{side}_set_for")
    return Setter(
        employee_id,
        _employee_name(employee_id, getattr(record, f"{side}_set_by")),
        company.pk,
        company.code,
    )


def _history_rows(order: Order):
    return list(order.history.order_by("history_date", "history_id"))


def _overwrite_marks(order: Order) -> dict[tuple[int, str], tuple[int | None, int]]:
    """{(history id, field): (employee id, company id) whose value it overwrote}, from the
    overwrite records of ``order`` (one indexed query)."""
    records = OverwriteRecord.objects.filter(
        order_type=order.order_type, order_id=order.pk
    ).values_list("history_id", "field", "old_set_by_id", "old_set_for_id")
    return {(history_id, name): (by, for_) for history_id, name, by, for_ in records}


def order_history(*, order: Order) -> list[HistoryEntry]:
    """Every change of ``order``, newest first, with per-field old → new values."""
    rows = _history_rows(order)
    marks = _overwrite_marks(order)
    ids_e = {by for by, _ in marks.values()}
    ids_c = {for_ for _, for_ in marks.values()}
    for row in rows:
        ids_e.add(row.history_user_id)
        ids_c.add(row.history_company_id)
        for field in CUSTOMER_INFORMATION_FIELDS:
            ids_e.add(getattr(row, f"{field}_set_by_id"))
            ids_c.add(getattr(row, f"{field}_set_for_id"))
    names = _Names(ids_e, ids_c)
    fields, customers = HISTORY_FIELDS, {}
    if order.order_type == OrderType.SALES:
        # A change of customer shows as "Customer: old → new", both as account and name.
        fields = ("customer", *HISTORY_FIELDS)
        customers = {
            customer.pk: str(customer)
            for customer in Customer.objects.filter(pk__in={row.customer_id for row in rows})
        }

    def value_of(row, field):
        if field == "customer":
            return customers.get(row.customer_id, "")
        return getattr(row, field)

    entries = []
    previous = None
    for row in rows:
        changes = []
        for field in fields:
            old = value_of(previous, field) if previous is not None else ""
            new = value_of(row, field)
            if previous is None and field in ("status", "customer"):
                continue
            if old == new:
                continue
            overwrote = None
            replaced = marks.get((row.history_id, field))
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
    marks = {
        history_id: setter
        for (history_id, name), setter in _overwrite_marks(order).items()
        if name == field
    }
    names = _Names(
        [getattr(r, f"{field}_set_by_id") for r in rows] + [by for by, _ in marks.values()],
        [getattr(r, f"{field}_set_for_id") for r in rows] + [for_ for _, for_ in marks.values()],
    )
    timeline = []
    previous = None
    for row in rows:
        value = getattr(row, field)
        if previous is None or getattr(previous, field) != value:
            replaced = marks.get(row.history_id)
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


_RECORD_RELATED = ("order_company", "old_set_by", "old_set_for", "new_set_by", "new_set_for")


def overwrite_records(
    *,
    company: Company | None = None,
    other_company: Company | None = None,
    field: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[OverwriteRecord]:
    """The recorded cross-company overwrites, newest first (``-at``, ``-id``), lazily.

    ``company``: only on the orders of this company. ``other_company``: only where this company
    set the replaced value or the new one. ``field``: one customer-information field.
    ``since`` (inclusive) / ``until`` (exclusive): when the overwrite happened. Every filter is
    served by an index of ``OverwriteRecord`` together with the order; the orders' company and
    both setters come in the same query. Slice it, page it by (at, id), or stream it with
    ``.iterator()``; ``Overwrite.from_record`` gives each row its words.
    """
    if field is not None and field not in CUSTOMER_INFORMATION_FIELDS:
        raise ValueError(f"{field} is not a customer-information field")
    records = OverwriteRecord.objects.select_related(*_RECORD_RELATED)
    if company is not None:
        records = records.filter(order_company=company)
    if other_company is not None:
        records = records.filter(Q(old_set_for=other_company) | Q(new_set_for=other_company))
    if field is not None:
        records = records.filter(field=field)
    if since is not None:
        records = records.filter(at__gte=since)
    if until is not None:
        records = records.filter(at__lt=until)
    return records.order_by("-at", "-id")


def cross_company_overwrites(
    *,
    company: Company | None = None,
    other_company: Company | None = None,
    field: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[Overwrite]:
    """Cross-company overwrites across all orders, newest first (see ``overwrite_records`` for
    the filters), at most ``limit``."""
    records = overwrite_records(
        company=company, other_company=other_company, field=field, since=since, until=until
    )
    if limit is not None:
        records = records[: int(limit)]
    return [Overwrite.from_record(record) for record in records]
