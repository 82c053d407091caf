"""Reads of the API, built on the clerk screens' scoped selectors: an order, a company or a
relationship the employee may not see is, for them, one that does not exist."""

from __future__ import annotations

import base64
import binascii
import json

from django.db.models import Q, QuerySet

from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from orders import selectors as order_selectors
from orders.models import Order, OrderType, PurchaseOrder, SalesOrder


class BadCursor(ValueError):
    pass


def encode_cursor(value: str) -> str:
    raw = json.dumps({"after": value}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
        raise BadCursor(cursor) from None
    if not isinstance(value, str):
        raise BadCursor(cursor)
    return value


def company_ids_of(employee: Employee) -> set[int]:
    return set(order_selectors.companies_of(employee).values_list("pk", flat=True))


def company_for(employee: Employee, code: str) -> Company | None:
    return order_selectors.companies_of(employee).filter(code=code).first()


def order_by_number(employee: Employee, order_type: str, company: str, number: str) -> Order | None:
    """The order with everything its detail shows, if the employee works for its company."""
    partner = "customer" if order_type == OrderType.SALES else "vendor"
    return (
        order_selectors.orders_visible_to(employee, order_type)
        .select_related("company", f"{partner}__represents_company",
                        *order_selectors.SET_BY_FIELDS)
        .filter(company__code=company, number=number)
        .first()
    )


def order_page(
    *, company: Company, order_type: str, filters: order_selectors.OrderFilters,
    after: str | None, limit: int,
) -> tuple[list[Order], bool]:
    """One page of the list, newest number first, after the number ``after`` (keyset: as fast
    on the last page as on the first); and whether more follow."""
    partner = "customer" if order_type == OrderType.SALES else "vendor"
    queryset = order_selectors.filtered_orders(
        company=company, order_type=order_type, filters=filters
    ).select_related(f"{partner}__represents_company")
    if after is not None:
        queryset = queryset.filter(number__lt=after)
    rows = list(queryset.order_by("-number")[: limit + 1])
    return rows[:limit], len(rows) > limit


def account_page(*, company: Company, model, q: str, after: str | None, limit: int):
    queryset = model.objects.filter(company=company).select_related("represents_company")
    if q.strip():
        queryset = queryset.filter(Q(account__icontains=q.strip()) | Q(name__icontains=q.strip()))
    if after is not None:
        queryset = queryset.filter(account__gt=after)
    rows = list(queryset.order_by("account")[: limit + 1])
    return rows[:limit], len(rows) > limit


def account_by_code(model, company: Company, code: str) -> Customer | Vendor | None:
    return model.objects.filter(company=company, account=code).first()


def source_orders_visible(entries, company_ids: set[int]) -> dict[tuple[str, int], str]:
    """(type, id) -> company code of the sources of copies in ``entries`` that the employee may
    open (one query per order table, only if there are copies)."""
    wanted: dict[str, set[int]] = {OrderType.SALES: set(), OrderType.PURCHASE: set()}
    for entry in entries:
        if entry.source_id and entry.source_type in wanted:
            wanted[entry.source_type].add(entry.source_id)
    found = {}
    for order_type, model in ((OrderType.SALES, SalesOrder), (OrderType.PURCHASE, PurchaseOrder)):
        if wanted[order_type]:
            for pk, code in model.objects.filter(
                pk__in=wanted[order_type], company_id__in=company_ids
            ).values_list("pk", "company__code"):
                found[(order_type, pk)] = code
    return found


def relationships_visible_to(employee: Employee) -> QuerySet[TradingRelationship]:
    """Relationships in which a company the employee works for buys or sells."""
    mine = Company.objects.filter(employees=employee).values("pk")
    return (
        TradingRelationship.objects.filter(
            Q(buying_company__in=mine) | Q(selling_company__in=mine)
        )
        .select_related("buying_company", "selling_company", "intercompany_vendor",
                        "intercompany_customer")
        .order_by("buying_company__code", "selling_company__code")
    )
