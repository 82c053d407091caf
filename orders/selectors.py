"""Reads the clerk screens share: which orders an employee may see, the lists, the chain panel,
the history tab and the overwrites report.

Every read of order data by a view goes through one of the ``*_visible_to`` querysets, so that an
order of a company the employee does not work for is, for them, an order that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateformat import format as format_datetime
from django.utils.translation import gettext as _

from intercompany.models import Company, Customer, Employee, Vendor
from orders.history import HistoryEntry, Overwrite, order_history, overwrite_records
from orders.models import (
    Order,
    OrderStatus,
    OrderType,
    OverwriteRecord,
    PurchaseOrder,
    SalesOrder,
)
from orders.sync import Link, read_chain

# Who set the current customer information: shown on the order page and in a stale refusal.
SET_BY_FIELDS = (
    "customer_reference_set_by",
    "customer_reference_set_for",
    "customer_requisition_set_by",
    "customer_requisition_set_for",
    "original_customer_account_set_by",
    "original_customer_account_set_for",
    "original_sales_order__company",
)


# -- Companies ----------------------------------------------------------------------------------


def companies_of(employee: Employee) -> QuerySet[Company]:
    """The companies ``employee`` acts for on the clerk screens, by code: those they work for;
    every company of the group for a superuser (the services let a superuser act for any
    company, so the screens do too: "View site" from the admin lands on a company's orders)."""
    if not getattr(employee, "is_authenticated", False):
        return Company.objects.none()
    if employee.is_superuser:
        return Company.objects.order_by("code")
    return Company.objects.filter(employees=employee).order_by("code")


def _company_ids_of(employee: Employee):
    # A subquery, not a list: the scope is one SQL query whatever the number of companies.
    return companies_of(employee).order_by().values("pk")


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


PAGE_SIZES = (25, 50, 100)
PAGE_SIZE = 50


@dataclass(frozen=True)
class SortColumn:
    """A column a list can be sorted by: ``field`` is the value the rows are ordered by, with the
    order's id after it so that every row has its own place (key = (value, id))."""

    name: str  # as in the URL: ?sort=customer_reference or ?sort=-customer_reference
    field: str  # ORM path of the sort value
    unique: bool = False  # the value alone tells rows apart (the number, within a company)


SORT_COLUMNS = {
    "number": SortColumn("number", "number", unique=True),
    "partner": SortColumn("partner", "{partner}__account"),
    "customer_reference": SortColumn("customer_reference", "customer_reference"),
    "customer_requisition": SortColumn("customer_requisition", "customer_requisition"),
    "updated_at": SortColumn("updated_at", "updated_at"),
}
DEFAULT_SORT = "-number"


def parse_sort(value: str) -> tuple[SortColumn, bool]:
    """``"-number"`` -> (the number column, descending). An unknown column gives the default."""
    descending = value.startswith("-")
    column = SORT_COLUMNS.get(value.lstrip("-"))
    if column is None:
        return SORT_COLUMNS["number"], True
    return column, descending


@dataclass(frozen=True)
class OrderFilters:
    q: str = ""
    intercompany: str = ""  # "", "yes", "no"
    status: str = ""  # "", "open", "cancelled"


@dataclass(frozen=True)
class Cursor:
    """A place in a sorted list: the sort value and the id of one row. In the URL as
    ``<id>.<value>`` (``?after=812.USMF-SO-000812``): it names a row, not a position, so a link
    keeps showing the rows after that row when orders are added or removed meanwhile."""

    pk: int
    value: str

    def encode(self) -> str:
        return f"{self.pk}.{self.value}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        pk, dot, value = (text or "").partition(".")
        if not dot or not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
            return None
        return cls(int(pk), value)


@dataclass
class KeysetPage:
    """One page of a list read by key, without counting the whole list (no COUNT(*) over a
    million rows). ``next_cursor`` / ``previous_cursor`` are the ``after`` / ``before`` of the
    links to the neighbouring pages, or "" where there is none."""

    rows: list
    page_size: int
    next_cursor: str = ""
    previous_cursor: str = ""
    is_first: bool = True

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)


class OrderPage(KeysetPage):
    @property
    def orders(self) -> list[Order]:
        return self.rows


def _page_of(rows: list, *, page_size: int, cursor, backwards: bool, key) -> dict:
    """The rows of a page and its links, from up to ``page_size + 1`` rows read past the cursor
    (in reading order: backwards means from the cursor towards the start)."""
    more = len(rows) > page_size
    rows = rows[:page_size]
    if backwards:
        rows.reverse()
        has_previous, has_next = more, True
    else:
        has_previous, has_next = cursor is not None, more
    return {
        "rows": rows,
        "page_size": page_size,
        "next_cursor": key(rows[-1]) if rows and has_next else "",
        "previous_cursor": key(rows[0]) if rows and has_previous else "",
        "is_first": not has_previous,
    }


def _decode_cursors(after: str, before: str) -> tuple[Cursor | None, bool]:
    """The cursor of the page asked for, and whether it is read backwards (``before``)."""
    cursor = Cursor.decode(after)
    if cursor is not None:
        return cursor, False
    cursor = Cursor.decode(before)
    return cursor, cursor is not None


def _aware_datetime(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text)
        # A time the database cannot hold once in UTC (year 9999 at UTC-14) is no cursor.
        return None if timezone.is_naive(value) else value.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None


def _row_compare(model, columns: tuple[str, ...], greater: bool, values: tuple) -> RawSQL:
    """``(a, b, c) > (%s, %s, %s)``: one range of the index on those columns, where the same
    test spelled with OR makes the database walk every row before the cursor (as OFFSET did)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(
        f"{table}.{connection.ops.quote_name(model._meta.get_field(c).column)}" for c in columns
    )
    marks = ", ".join(["%s"] * len(values))
    return RawSQL(
        f"({names}) {'>' if greater else '<'} ({marks})", values, output_field=BooleanField()
    )


def _sort_value(order: Order, column: SortColumn, partner: str) -> str:
    if column.name == "partner":
        return getattr(order, partner).account
    value = getattr(order, column.field)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _cursor_value(column: SortColumn, text: str):
    """The sort value of a cursor as the database compares it, or None if it cannot be one."""
    if column.name == "updated_at":
        value = _aware_datetime(text)
        return None if value is None else connection.ops.adapt_datetimefield_value(value)
    return text


def _keyset_condition(queryset, column: SortColumn, field: str, value, pk: int, *,
                      company: Company, greater: bool):
    """The rows whose key (value, id) is greater (or smaller) than the cursor's."""
    op = "gt" if greater else "lt"
    if column.unique:
        return queryset.filter(**{f"{field}__{op}": value})
    if column.name == "partner":
        # The value lives in the partner's table: the plain form, and the bound on the
        # partner's account alone that lets its index start at the cursor.
        return queryset.filter(
            Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"pk__{op}": pk}),
            **{f"{field}__{op}e": value},
        )
    return queryset.filter(_row_compare(
        queryset.model, ("company", field, "id"), greater, (company.pk, value, pk)
    ))


def _partners_matching(company: Company, order_type: str, q: str) -> list[int]:
    """The company's customers (or vendors) whose account or name contains ``q``; none when
    more than ``MAX_MATCHING_PARTNERS`` do (then the search looks at the orders' own columns:
    an arbitrary part of the matches would drop orders at random)."""
    partners = (Customer if order_type == OrderType.SALES else Vendor).objects.filter(
        company=company
    )
    found = list(
        partners.filter(Q(account__icontains=q) | Q(name__icontains=q))
        .order_by("pk").values_list("pk", flat=True)[: MAX_MATCHING_PARTNERS + 1]
    )
    return [] if len(found) > MAX_MATCHING_PARTNERS else found


# A search for "a" matches every account: past this many, the search looks at the order's own
# columns only rather than hand the database an endless list.
MAX_MATCHING_PARTNERS = 1000


def _number_matches(company: Company, order_type: str, q: str) -> Q:
    """The orders whose number contains ``q`` (any case). Numbers are ``USMF-SO-000042``
    (``services.allocate_number``): when ``q`` starts with the list's own prefix and goes on
    with digits, a number contains it exactly when it starts with it, which a btree index
    answers by range (migration 0010), where the trigram index reads lists that grow with the
    company (every number holds ``USMF-SO-0``): 9.6 ms -> 0.7 ms at a million orders."""
    prefix = f"{company.code}-{'SO' if order_type == OrderType.SALES else 'PO'}-"
    digits = q[len(prefix):]
    if q.upper().startswith(prefix.upper()) and (digits == "" or digits.isascii() and
                                                  digits.isdigit()):
        return Q(number__startswith=prefix + digits)
    return Q(number__icontains=q)


def filtered_orders(*, company: Company, order_type: str, filters: OrderFilters) -> QuerySet:
    """The orders of ``company`` matching the list's search and filters (unordered); the list
    page and the API's list both read through it."""
    if order_type == OrderType.SALES:
        queryset = SalesOrder.objects.select_related("customer", "original_sales_order__company")
        partner = "customer"
    else:
        queryset = PurchaseOrder.objects.select_related(
            "vendor", "original_sales_order__company"
        )
        partner = "vendor"
    queryset = queryset.filter(company=company)
    q = filters.q.strip()
    if q:
        # The matching customers (or vendors) are looked up first, in their own small table,
        # and handed over as values: an ``IN (subquery)`` inside this OR would keep PostgreSQL
        # from combining the trigram indexes of the searched columns (migration 0007).
        condition = (
            _number_matches(company, order_type, q)
            | Q(customer_reference__icontains=q)
            | Q(customer_requisition__icontains=q)
            | Q(original_customer_account__icontains=q)
            | Q(original_customer_name__icontains=q)
        )
        partner_ids = _partners_matching(company, order_type, q)
        if partner_ids:
            condition |= Q(**{f"{partner}_id__in": partner_ids})
        queryset = queryset.filter(condition)
    if filters.intercompany == "yes":
        queryset = queryset.filter(chain__isnull=False)
    elif filters.intercompany == "no":
        queryset = queryset.filter(chain__isnull=True)
    if filters.status in OrderStatus.values:
        queryset = queryset.filter(status=filters.status)
    return queryset


def order_list(
    *,
    company: Company,
    order_type: str,
    filters: OrderFilters,
    sort: str = DEFAULT_SORT,
    after: str = "",
    before: str = "",
    page_size: int = PAGE_SIZE,
) -> OrderPage:
    """One page of the orders of ``company`` for its list page, sorted by ``sort``
    (``SORT_COLUMNS``, "-" for descending): the first page, the page after the row named by
    the cursor ``after``, or the page before the row named by ``before``.

    Paging is by key, never by OFFSET: every page costs what the first one does, and a link to
    a page keeps pointing at the same rows when orders are added."""
    page_size = max(1, min(page_size, max(PAGE_SIZES)))
    column, descending = parse_sort(sort)
    partner = "customer" if order_type == OrderType.SALES else "vendor"
    field = column.field.format(partner=partner)
    queryset = filtered_orders(company=company, order_type=order_type, filters=filters)
    if column.name == "partner":
        # Always true (a company's orders name its own customers or vendors), but said, it lets
        # PostgreSQL walk the company's partners in account order (their unique index) and
        # fetch their orders, stopping after a page, instead of sorting every order of the
        # company: 86 ms -> 5 ms at a million orders.
        queryset = queryset.filter(**{f"{partner}__company": company})

    cursor, backwards = _decode_cursors(after, before)
    value = _cursor_value(column, cursor.value) if cursor else None
    if cursor is not None and value is not None:
        queryset = _keyset_condition(
            queryset, column, field, value, cursor.pk, company=company,
            greater=(not backwards) != descending,
        )
    else:
        cursor, backwards = None, False
    # Going back reads the rows before the cursor in the opposite order, then turns them round.
    reverse = descending != backwards
    ordering = [f"-{field}" if reverse else field]
    if not column.unique:
        ordering.append("-pk" if reverse else "pk")
    # One row more than a page tells whether there is a page beyond, without a count.
    rows = list(queryset.order_by(*ordering)[: page_size + 1])
    if backwards and not rows:  # nothing before the cursor any more: the first page
        return order_list(company=company, order_type=order_type, filters=filters, sort=sort,
                          page_size=page_size)

    def key(order: Order) -> str:
        return Cursor(order.pk, _sort_value(order, column, partner)).encode()

    return OrderPage(**_page_of(rows, page_size=page_size, cursor=cursor, backwards=backwards,
                                key=key))


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
    # Why this order does not show the original sales order's customer, or "".
    original_customer_note: str = ""


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
    original: Order | None = None  # the original sales order of the chain, if it has one

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
    notes = _original_customer_notes(snapshot)
    rows = [
        ChainRow(
            order=o,
            is_current=o.node == order.node,
            may_open=o.company_id in company_ids,
            original_customer_note=notes.get(o.node, ""),
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
    original = next((row.order for row in rows if row.order.order_type == OrderType.SALES
                     and row.order.is_original and row.order.chain_id), None)
    return ChainPanel(rows=rows, connections=connections, original=original)


def _original_customer_notes(snapshot) -> dict[tuple[str, int], str]:
    """For each order of the chain that does not hold the original sales order's customer, why:
    the switched-off link on its way from the original sales order, or, when every link is on
    now, that a switch was off when the customer changed (switching copies nothing by itself)."""
    original = next(
        (so for so in snapshot.sales_orders.values() if so.is_original and so.chain_id), None
    )
    if original is None:
        return {}
    # The way from the original sales order to every order: its links outward (a tree).
    way_in: dict[tuple[str, int], Link] = {}
    outgoing: dict[tuple[str, int], list[Link]] = {}
    for link in snapshot.links():
        outgoing.setdefault(link.source.node, []).append(link)
    queue = [original.node]
    while queue:
        here = queue.pop()
        for link in outgoing.get(here, []):
            target = link.target.node
            if target != original.node and target not in way_in:
                way_in[target] = link
                queue.append(target)
    notes = {}
    for order in snapshot.orders():
        if order.node == original.node or not order.chain_id:
            continue
        if order.original_customer == original.original_customer:
            continue
        way, node = [], order.node
        while node in way_in:
            way.append(way_in[node])
            node = way_in[node].source.node
        blocked = next((link for link in reversed(way) if not link.is_on), None)
        if blocked is not None:
            notes[order.node] = _(
                "Keeps its original customer: %(customer)s was not copied here because %(reason)s."
            ) % {"customer": original.original_customer, "reason": blocked.off_reason}
        else:
            notes[order.node] = _(
                "Keeps its original customer: a switch on the way from %(number)s was off when "
                "its customer became %(customer)s (switching a policy copies nothing by itself)."
            ) % {"number": original.number, "customer": original.original_customer}
    return notes


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
    anchor: str = ""  # the line's id in the page, e.g. "change-812-customer_requisition"


def history_anchor(history_id: int, field: str = "") -> str:
    """The id of a History tab line: alerts link to it (``history/#change-812-...``)."""
    return f"change-{history_id}-{field}" if field else f"change-{history_id}"


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
                    anchor=history_anchor(entry.history_id, change.field if change else ""),
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


OVERWRITES_PAGE_SIZE = 100


@dataclass(frozen=True)
class OverwriteFilters:
    since: dt.date | None = None  # first day, inclusive
    until: dt.date | None = None  # last day, inclusive
    field: str = ""
    other_company: Company | None = None


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def overwrite_records_of(*, company: Company, filters: OverwriteFilters) -> QuerySet:
    """The overwrite records on ``company``'s orders that ``filters`` keep, newest first: the
    rows of the CSV export (read with a cursor, never as a list)."""
    return overwrite_records(
        company=company,
        other_company=filters.other_company,
        field=filters.field or None,
        since=_start_of_day(filters.since) if filters.since else None,
        until=_start_of_day(filters.until + dt.timedelta(days=1)) if filters.until else None,
    )


def overwrites_page(
    *, company: Company, filters: OverwriteFilters, after: str = "", before: str = "",
    page_size: int = OVERWRITES_PAGE_SIZE,
) -> KeysetPage:
    """One page of the Overwrites page, newest first, read by key (when, id): the first page,
    the page after the overwrite named by ``after`` or the one before ``before``."""
    cursor, backwards = _decode_cursors(after, before)
    at = _aware_datetime(cursor.value) if cursor else None
    if at is None:
        cursor, backwards = None, False
    base = overwrite_records_of(
        company=company, filters=OverwriteFilters(filters.since, filters.until, filters.field)
    )
    other = filters.other_company
    # Why two reads for another company: it may have set the replaced value or the new one.
    # Each side has its index (company, side, when), read in order from the cursor; one OR
    # would make the database sort every overwrite of the pair to find the newest.
    parts = [base] if other is None else [base.filter(old_set_for=other),
                                           base.filter(new_set_for=other)]
    found = []
    for part in parts:
        if cursor is not None:
            part = part.filter(_row_compare(
                OverwriteRecord, ("order_company", "at", "id"), backwards,
                (company.pk, connection.ops.adapt_datetimefield_value(at), cursor.pk),
            ))
        if backwards:
            part = part.order_by("at", "id")
        found += part[: page_size + 1]
    found.sort(key=lambda r: (r.at, r.pk), reverse=not backwards)
    rows = found[: page_size + 1]
    if backwards and not rows:
        return overwrites_page(company=company, filters=filters, page_size=page_size)
    page = _page_of(
        [Overwrite.from_record(r) for r in rows], page_size=page_size, cursor=cursor,
        backwards=backwards,
        key=lambda o: Cursor(o.record_id, o.at.astimezone(dt.UTC).isoformat()).encode(),
    )
    return KeysetPage(**page)


def other_companies(company: Company) -> QuerySet[Company]:
    return Company.objects.exclude(pk=company.pk).order_by("code")
