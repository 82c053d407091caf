"""The reads of the alerts app. Every read goes through ``alerts_visible_to``: an alert about an
order of a company the employee no longer works for is, for them, gone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert
from intercompany.models import Company, Employee
from orders.history import FIELD_LABELS, how_it_came
from orders.models import OrderType, PurchaseOrder, SalesOrder
from orders.selectors import history_anchor

PAGE_SIZE = 50
ATTENTION_DAYS = 7
URL_PREFIXES = {OrderType.SALES: "sales-order", OrderType.PURCHASE: "purchase-order"}


def _company_ids_of(employee: Employee):
    # A subquery: the scope is part of the one query, whatever the number of companies.
    return Company.objects.filter(employees=employee).order_by().values("pk")


def alerts_visible_to(employee: Employee) -> QuerySet[Alert]:
    """The employee's alerts about orders of the companies they work for now."""
    if not getattr(employee, "is_authenticated", False) or not employee.is_active:
        return Alert.objects.none()  # a deactivated employee is told nothing more
    return Alert.objects.filter(recipient=employee, order_company_id__in=_company_ids_of(employee))


def unread_alert_count(employee: Employee) -> int:
    """The header's count: one query on the partial index of unread alerts."""
    return alerts_visible_to(employee).filter(read_at__isnull=True).count()


def order_page_url(order_type: str, order_id: int, action: str = "detail") -> str:
    return reverse(f"orders:{URL_PREFIXES[order_type]}-{action}", args=[order_id])


@dataclass(frozen=True)
class AlertLine:
    """One alert as the Alerts page, the Needs attention page and the emails show it."""

    id: int
    unread: bool
    at: dt.datetime
    reason: str
    order_number: str
    order_company: str
    field: str
    old: str
    old_set_by: str
    new: str
    new_set_by: str
    new_set_for: str
    how: str  # "edited here", "copied from intercompany sales order"
    source_number: str
    history_url: str  # the order's History tab, at the line of the change
    source_url: str  # the source order, where the employee may open it, or ""

    @property
    def summary(self) -> str:
        return _("%(field)s on %(order)s: %(old)s → %(new)s, by %(who)s (%(company)s)") % {
            "field": self.field, "order": self.order_number, "old": self.old, "new": self.new,
            "who": self.new_set_by, "company": self.new_set_for,
        }


def alert_lines(alerts: list[Alert], *, company_ids: set[int]) -> list[AlertLine]:
    """``alerts`` (fetched with ``with_details``) as lines; the source order is linked only
    when the employee works for its company (one query)."""
    wanted: dict[str, set[int]] = {OrderType.SALES: set(), OrderType.PURCHASE: set()}
    for alert in alerts:
        record = alert.overwrite
        if record.source_id and record.source_type in wanted:
            wanted[record.source_type].add(record.source_id)
    allowed: set[tuple[str, int]] = set()
    for order_type, model in ((OrderType.SALES, SalesOrder), (OrderType.PURCHASE, PurchaseOrder)):
        if wanted[order_type]:
            allowed.update(
                (order_type, pk) for pk in model.objects.filter(
                    pk__in=wanted[order_type], company_id__in=company_ids
                ).values_list("pk", flat=True)
            )
    lines = []
    for alert in alerts:
        record = alert.overwrite
        how, source_number = how_it_came(record.kind, record.source_role, record.source_number)
        history_url = (
            order_page_url(record.order_type, record.order_id, "history")
            + "#" + history_anchor(record.history_id, record.field)
        )
        source_url = ""
        if (record.source_type, record.source_id) in allowed:
            source_url = order_page_url(record.source_type, record.source_id)
        lines.append(AlertLine(
            id=alert.pk,
            unread=alert.read_at is None,
            at=record.at,
            reason=alert.reason,
            order_number=record.order_number,
            order_company=alert.order_company.code,
            field=str(FIELD_LABELS.get(record.field, record.field)),
            old=record.old_value,
            old_set_by=_display(record.old_set_by, record.old_set_by_id),
            new=record.new_value,
            new_set_by=_display(record.new_set_by, record.new_set_by_id),
            new_set_for=record.new_set_for.code,
            how=how,
            source_number=source_number,
            history_url=history_url,
            source_url=source_url,
        ))
    return lines


def _display(employee: Employee | None, employee_id: int | None) -> str:
    if employee is not None:
        return employee.display_name
    return _("a former employee") if employee_id else _("nobody")


def with_details(queryset: QuerySet[Alert]) -> QuerySet[Alert]:
    return queryset.select_related(
        "order_company", "overwrite", "overwrite__old_set_by", "overwrite__new_set_by",
        "overwrite__new_set_for",
    )


@dataclass
class AlertPage:
    lines: list[AlertLine]
    number: int
    has_next: bool
    unread: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def alert_page(*, employee: Employee, company_ids: set[int], page: int = 1,
               unread_only: bool = False, page_size: int = PAGE_SIZE) -> AlertPage:
    """One page of the employee's alerts, newest first (on the recipient index; no count of all
    alerts)."""
    queryset = alerts_visible_to(employee)
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    page = max(1, page)
    offset = (page - 1) * page_size
    ordered = with_details(queryset.order_by("-created_at", "-id"))
    rows = list(ordered[offset : offset + page_size + 1])
    return AlertPage(
        lines=alert_lines(rows[:page_size], company_ids=company_ids),
        number=page,
        has_next=len(rows) > page_size,
        unread=unread_alert_count(employee),
    )


# -- Needs attention --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangedOrder:
    order_type: str
    order_id: int
    number: str
    customer_reference: str
    customer_requisition: str
    changes: int
    last_at: dt.datetime
    by_companies: str  # "DEMF, GBSI"
    url: str
    history_url: str


def orders_changed_by_other_companies(
    *, company: Company, days: int = ATTENTION_DAYS, limit: int = 50
) -> list[ChangedOrder]:
    """The orders of ``company`` that employees acting for other companies changed (directly
    or through a synced copy) in the last ``days`` days, most recent change first."""
    since = timezone.now() - dt.timedelta(days=days)
    found = []
    for order_type, model in ((OrderType.SALES, SalesOrder), (OrderType.PURCHASE, PurchaseOrder)):
        changes = (
            model.history.filter(company_id=company.pk, history_date__gte=since,
                                 history_company__isnull=False)
            .exclude(history_company_id=company.pk)
        )
        per_order = list(
            changes.order_by().values("id")
            .annotate(last_at=Max("history_date"), changes=Count("history_id"))
            .order_by("-last_at")[:limit]
        )
        if not per_order:
            continue
        who: dict[int, set[str]] = {}
        for order_id, code in changes.filter(
            id__in=[row["id"] for row in per_order]
        ).values_list("id", "history_company__code").distinct():
            who.setdefault(order_id, set()).add(code)
        orders = model.objects.in_bulk([row["id"] for row in per_order])
        for row in per_order:
            order = orders.get(row["id"])
            if order is None:
                continue
            found.append(ChangedOrder(
                order_type=order_type, order_id=order.pk, number=order.number,
                customer_reference=order.customer_reference,
                customer_requisition=order.customer_requisition,
                changes=row["changes"], last_at=row["last_at"],
                by_companies=", ".join(sorted(who.get(order.pk, ()))),
                url=order_page_url(order_type, order.pk),
                history_url=order_page_url(order_type, order.pk, "history"),
            ))
    found.sort(key=lambda changed: changed.last_at, reverse=True)
    return found[:limit]
