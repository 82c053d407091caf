"""Reads the clerk screens share: which orders an employee may see, the lists, the chain panel,
the history tab and the overwrites report.

Every read of order data by a view goes through one of the ``*_visible_to`` querysets, so that an
order of a company the employee does not work for is, for them, an order that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateformat import format as format_datetime
from django.utils.translation import gettext as _

from intercompany.models import Company, Customer, Employee, Vendor
from orders.history import HistoryEntry, Overwrite, cross_company_overwrites, order_history
from orders.models import Order, OrderStatus, OrderType, PurchaseOrder, SalesOrder
from orders.sync import Link, read_chain

PAGE_SIZE = 50

# Who set the current customer information: shown on the order page and in a stale refusal.
SET_BY_FIELDS = (
    "customer_reference_set_by",
    "customer_reference_set_for",
    "customer_requisition_set_by",
    "customer_requisition_set_for",
)


# -- Companies ----------------------------------------------------------------------------------


def companies_of(employee: Employee) -> QuerySet[Company]:
    """The companies ``employee`` works for, by code. Clerk screens are scoped to these only,
    for administrators too (they configure the group in the admin)."""
    if not getattr(employee, "is_authenticated", False):
        return Company.objects.none()
    return Company.objects.filter(employees=employee).order_by("code")


def _company_ids_of(employee: Employee):
    # A subquery, not a list: the scope is one SQL query whatever the number of companies.
    return Company.objects.filter(employees=employee).values("pk")


# -- Orders an employee may see -----------------------------------------------------------------


def sales_orders_visible_to(employee: Employee) -> QuerySet[SalesOrder]:
    return SalesOrder.objects.filter(company_id__in=_company_ids_of(employee))


def purchase_orders_visible_to(employee: Employee) -> QuerySet[PurchaseOrder]:
    return PurchaseOrder.objects.filter(company_id__in=_company_ids_of(employee))


def orders_visible_to(employee: Employee, order_type: str) -> QuerySet:
    if order_type == OrderType.SALES:
        return sales_orders_visible_to(employee)
    return purchase_orders_visible_to(employee)


def order_for_page(employee: Employee, order_type: str, pk: int) -> Order | None:
    """One order with everything its page shows, or None if it does not exist *for this
    employee* (another company's order is not told apart from a missing one)."""
    partner = "customer" if order_type == OrderType.SALES else "vendor"
    return (
        orders_visible_to(employee, order_type)
        .select_related("company", partner, *SET_BY_FIELDS)
        .filter(pk=pk)
        .first()
    )


# -- Lists --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""
    intercompany: str = ""  # "", "yes", "no"
    status: str = ""  # "", "open", "cancelled"


@dataclass
class OrderPage:
    """One page of a list, without counting the whole list (no COUNT(*) over 100k rows)."""

    orders: list[Order]
    number: int
    has_next: bool
    page_size: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.page_size + 1 if self.orders else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.page_size + len(self.orders)


def order_list(
    *, company: Company, order_type: str, filters: OrderFilters, page: int = 1,
    page_size: int = PAGE_SIZE,
) -> OrderPage:
    """The orders of ``company`` for its list page, newest number first."""
    if order_type == OrderType.SALES:
        queryset = SalesOrder.objects.select_related("customer")
        partner, partners = "customer", Customer.objects.filter(company=company)
    else:
        queryset = PurchaseOrder.objects.select_related("vendor")
        partner, partners = "vendor", Vendor.objects.filter(company=company)
    queryset = queryset.filter(company=company)
    q = filters.q.strip()
    if q:
        # The matching customers (or vendors) as a subquery: the database finds the few
        # accounts once, instead of joining and testing an account for each of 100k orders.
        matching_partners = partners.filter(
            Q(account__icontains=q) | Q(name__icontains=q)
        ).values("pk")
        queryset = queryset.filter(
            Q(number__icontains=q)
            | Q(customer_reference__icontains=q)
            | Q(customer_requisition__icontains=q)
            | Q(**{f"{partner}_id__in": matching_partners})
        )
    if filters.intercompany == "yes":
        queryset = queryset.filter(chain__isnull=False)
    elif filters.intercompany == "no":
        queryset = queryset.filter(chain__isnull=True)
    if filters.status in OrderStatus.values:
        queryset = queryset.filter(status=filters.status)
    # Why by number: (company, number) is the unique index of both tables, so the database walks
    # the index backwards and stops after one page, whatever the size of the company. Numbers are
    # zero-padded, so their text order is their numeric order.
    queryset = queryset.order_by("-number")
    page = max(1, page)
    offset = (page - 1) * page_size
    # One row more than a page tells whether there is a next page, without a count.
    rows = list(queryset[offset : offset + page_size + 1])
    return OrderPage(
        orders=rows[:page_size], number=page, has_next=len(rows) > page_size,
        page_size=page_size,
    )


# -- Choice lists of the forms ------------------------------------------------------------------


def customers_of(company: Company) -> QuerySet[Customer]:
    return Customer.objects.filter(company=company).order_by("account")


def vendors_of(company: Company) -> QuerySet[Vendor]:
    return Vendor.objects.filter(company=company).order_by("account")


def active_intercompany_vendors_of(company: Company) -> QuerySet[Vendor]:
    """Vendors of ``company`` that represent a company it buys from on an active relationship."""
    return (
        Vendor.objects.filter(
            company=company,
            represents_company__isnull=False,
            trading_relationship__active=True,
            trading_relationship__buying_company=company,
        )
        .select_related("represents_company")
        .order_by("account")
    )


# -- The Intercompany panel ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChainRow:
    order: Order
    is_current: bool
    may_open: bool  # the employee works for the order's company


@dataclass(frozen=True)
class ChainConnection:
    """Two linked orders and the two directions customer information may travel between them."""

    left: Order
    right: Order
    directions: tuple[Link, ...]


@dataclass(frozen=True)
class ChainPanel:
    rows: list[ChainRow]
    connections: list[ChainConnection]

    @property
    def is_chain(self) -> bool:
        return len(self.rows) > 1


def chain_panel(*, order: Order, employee: Employee, company_ids: set[int]) -> ChainPanel:
    """Every order of ``order``'s chain, and each link with its switch in both directions.

    Other companies' orders are listed (company, type, number, customer information); ``may_open``
    says whether the employee may follow the link to them.
    """
    snapshot = read_chain(order)
    orders = sorted(snapshot.orders(), key=lambda o: (o.created_at, o.order_type != "sales", o.pk))
    rows = [
        ChainRow(
            order=o,
            is_current=o.node == order.node,
            may_open=o.company_id in company_ids,
        )
        for o in orders
    ]
    position = {o.node: index for index, o in enumerate(orders)}
    pairs: dict[frozenset, list[Link]] = {}
    for link in snapshot.links():
        pairs.setdefault(frozenset((link.source.node, link.target.node)), []).append(link)
    connections = []
    for links in pairs.values():
        # Show each pair in chain order: the earlier order on the left, its direction first.
        links.sort(key=lambda link: position[link.source.node])
        connections.append(
            ChainConnection(left=links[0].source, right=links[0].target, directions=tuple(links))
        )
    connections.sort(key=lambda c: (position[c.left.node], position[c.right.node]))
    return ChainPanel(rows=rows, connections=connections)


# -- The History tab ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One line of the History tab: one field changed by one history entry. The entry's when,
    who and how are on its first line only (``first``)."""

    first: bool
    at: dt.datetime
    at_text: str
    employee: str
    company: str
    field: str  # label, e.g. "Customer requisition"
    old: str
    new: str
    overwrote: str  # e.g. "PO-7781 set by Alice Martin (USMF)", or ""
    how: str  # e.g. "copied from intercompany sales order" (the number follows)
    source_number: str
    source_url: str  # where the employee may open the source order, or ""


def history_lines(*, order: Order, company_ids: set[int], url_of) -> list[HistoryLine]:
    """The History tab of ``order``, newest first, flattened to one line per changed field.

    ``url_of(order_type, pk)`` gives an order's page; the source of a copy is linked only when
    the employee works for its company (two queries, whatever the number of rows)."""
    entries = order_history(order=order)
    wanted: dict[str, set[int]] = {OrderType.SALES: set(), OrderType.PURCHASE: set()}
    for entry in entries:
        if entry.source_id and entry.source_type in wanted:
            wanted[entry.source_type].add(entry.source_id)
    allowed: set[tuple[str, int]] = set()
    for order_type, model in ((OrderType.SALES, SalesOrder), (OrderType.PURCHASE, PurchaseOrder)):
        if wanted[order_type]:
            allowed.update(
                (order_type, pk)
                for pk in model.objects.filter(
                    pk__in=wanted[order_type], company_id__in=company_ids
                ).values_list("pk", flat=True)
            )
    lines = []
    for entry in entries:
        how, source_number = entry.how_parts
        source_url = ""
        if (entry.source_type, entry.source_id) in allowed:
            source_url = url_of(entry.source_type, entry.source_id)
        common = {
            "at": entry.at,
            "at_text": format_datetime(timezone.localtime(entry.at), "j M Y H:i:s"),
            "employee": entry.by.employee_name,
            "company": entry.by.company_code,
            "how": how,
            "source_number": source_number,
            "source_url": source_url,
        }
        changes = entry.changes or (None,)
        for index, change in enumerate(changes):
            lines.append(
                HistoryLine(
                    first=index == 0,
                    field=change.label if change else "",
                    old=_shown_value(change, change.old) if change else "",
                    new=_shown_value(change, change.new) if change else "",
                    overwrote=(
                        _("%(value)s set by %(setter)s")
                        % {"value": change.old, "setter": change.overwrote}
                        if change and change.overwrote else ""
                    ),
                    **common,
                )
            )
    return lines


def _shown_value(change, value: str) -> str:
    """A status as its label in the reader's language ("Open"); other values as stored."""
    if change.field == "status" and value in OrderStatus.values:
        return str(OrderStatus(value).label)
    return value


def changes_since(*, order: Order, version: int) -> list[HistoryEntry]:
    """The history entries of ``order`` written after it was at ``version`` (newest first):
    what a clerk whose form was opened at ``version`` has not seen."""
    newer = set(
        order.history.filter(version__gt=version).values_list("history_id", flat=True)
    )
    if not newer:
        return []
    return [entry for entry in order_history(order=order) if entry.history_id in newer]


# -- The Overwrites page ------------------------------------------------------------------------


OVERWRITES_PAGE_LIMIT = 200


@dataclass(frozen=True)
class OverwriteFilters:
    since: dt.date | None = None  # first day, inclusive
    until: dt.date | None = None  # last day, inclusive
    field: str = ""
    other_company: Company | None = None


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def overwrites_of(
    *, company: Company, filters: OverwriteFilters, limit: int | None = None
) -> list[Overwrite]:
    """Cross-company overwrites on ``company``'s orders, newest first."""
    return cross_company_overwrites(
        company=company,
        other_company=filters.other_company,
        field=filters.field or None,
        since=_start_of_day(filters.since) if filters.since else None,
        until=_start_of_day(filters.until + dt.timedelta(days=1)) if filters.until else None,
        limit=limit,
    )


def other_companies(company: Company) -> QuerySet[Company]:
    return Company.objects.exclude(pk=company.pk).order_by("code")
