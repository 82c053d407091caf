"""Orders, chains, history and relationships as the API shows them (plain dicts the schemas in
``api/schemas.py`` check). Built from what the selectors already loaded: no query here unless
a docstring says so.

Every word meant for people (roles, switch labels, policies, field labels, reasons, messages)
is turned into a plain ``str`` in the active language here: the models and ``orders.sync`` hold
lazy translations (``gettext_lazy``) or English words translated where shown (an order's
``role``), and the schemas take only ``str``."""

from __future__ import annotations

from urllib.parse import quote

from django.utils.translation import gettext

from intercompany.admin_scoping import (
    NOT_A_RELATIONSHIP_ADMINISTRATOR,
    may_administer_relationships,
)
from intercompany.models import TradingRelationship
from intercompany.switches import PolicyRights
from orders.history import FIELD_LABELS, HistoryEntry, Overwrite, Setter, TimelineEntry
from orders.models import Order, OrderType, PurchaseOrder, SalesOrder
from orders.selectors import ChainPanel
from orders.sync import SWITCH_LABELS, SyncResult

API_ROOT = "/api/v1/"
SEGMENTS = {OrderType.SALES: "sales-orders", OrderType.PURCHASE: "purchase-orders"}


def text(value) -> str | None:
    """A lazy translation (or any words) as a plain string in the active language."""
    return None if value is None else str(value)


def role(english: str) -> str:
    """An order's role (``Order.role``, stored in English in the history) in the active
    language."""
    return gettext(english) if english else gettext("order")


def etag_of(order: Order) -> str:
    return f'"{order.version}"'


def order_url(order_type: str, company_code: str, number: str) -> str:
    return f"{API_ROOT}companies/{quote(company_code)}/{SEGMENTS[order_type]}/{quote(number)}"


def account(obj) -> dict | None:
    if obj is None:
        return None
    represents = obj.represents_company.code if obj.represents_company_id else None
    return {"account": obj.account, "name": obj.name, "represents_company": represents}


def setter(setter_obj: Setter | None) -> dict | None:
    if setter_obj is None:
        return None
    return {"employee": text(setter_obj.employee_name),
            "company": setter_obj.company_code or None}


def _set_by(order: Order, field: str) -> dict | None:
    employee = getattr(order, f"{field}_set_by")
    company = getattr(order, f"{field}_set_for")
    if employee is None and company is None:
        return None
    name = employee.display_name if employee is not None else gettext("system")
    return {"employee": name, "company": company.code if company is not None else None}


def order_summary(order: Order, company_code: str) -> dict:
    """An order of a list (its customer or vendor loaded with the company it represents)."""
    is_sales = order.order_type == OrderType.SALES
    return {
        "type": order.order_type,
        "number": order.number,
        "company": company_code,
        "role": role(order.role),
        "status": order.status,
        "version": order.version,
        "etag": etag_of(order),
        "customer": account(order.customer) if is_sales else None,
        "vendor": None if is_sales else account(order.vendor),
        "customer_reference": order.customer_reference,
        "customer_requisition": order.customer_requisition,
        "is_intercompany": order.is_intercompany,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "url": order_url(order.order_type, company_code, order.number),
        "customer_reference_set_by": None,
        "customer_requisition_set_by": None,
        "original_customer": original_customer(order),
        "original_customer_set_by": None,
        "original_sales_order": _original_sales_order(order),
    }


def original_customer(order: Order) -> dict | None:
    if not (order.original_customer_account or order.original_customer_name):
        return None
    return {"account": order.original_customer_account, "name": order.original_customer_name}


def _original_sales_order(order: Order) -> dict | None:
    """The chain's original sales order (loaded with its company). A list links it when it is
    in the listed company (which the caller works for); ``order_detail`` links it wherever
    the caller works."""
    original = order.original_sales_order
    if original is None:
        return None
    code = original.company.code
    return {
        "type": OrderType.SALES, "number": original.number, "company": code,
        "role": role(original.role),
        "url": order_url(OrderType.SALES, code, original.number)
        if original.company_id == order.company_id else None,
    }


def order_detail(order: Order, panel: ChainPanel, company_ids: set[int]) -> dict:
    """One order with who set its values and its chain (``order`` loaded by
    ``api.selectors.order_by_number``, ``panel`` by ``orders.selectors.chain_panel``)."""
    data = order_summary(order, order.company.code)
    data["customer_reference_set_by"] = _set_by(order, "customer_reference")
    data["customer_requisition_set_by"] = _set_by(order, "customer_requisition")
    data["original_customer_set_by"] = _set_by(order, "original_customer_account")
    if order.original_sales_order is not None:
        data["original_sales_order"] = order_ref(
            order.original_sales_order, order.original_sales_order.company.code, company_ids
        )
    data["chain"] = {
        "orders": [
            {
                "type": row.order.order_type,
                "number": row.order.number,
                "company": row.order.company.code,
                "role": role(row.order.role),
                "status": row.order.status,
                "customer_reference": row.order.customer_reference,
                "customer_requisition": row.order.customer_requisition,
                "original_customer": original_customer(row.order),
                "original_customer_note": text(row.original_customer_note) or None,
                "is_current": row.is_current,
                "url": order_url(row.order.order_type, row.order.company.code, row.order.number)
                if row.order.company_id in company_ids else None,
            }
            for row in panel.rows
        ],
        "links": [
            {
                "source": link.source.number,
                "target": link.target.number,
                "on": link.is_on,
                "off_reason": text(link.off_reason),
                "switch": link.switch,
                "switch_label": text(link.switch_label),
                "policy": text(link.policy),
                "policy_company": link.policy_company.code,
                "trading_relationship": link.relationship.pk,
            }
            for connection in panel.connections
            for link in connection.directions
        ],
    }
    return data


def order_ref(order: Order, company_code: str, company_ids: set[int]) -> dict:
    return {
        "type": order.order_type,
        "number": order.number,
        "company": company_code,
        "role": role(order.role),
        "url": order_url(order.order_type, company_code, order.number)
        if order.company_id in company_ids else None,
    }


def save_result(result: SyncResult, codes: dict[int, str], company_ids: set[int]) -> dict:
    """``codes``: company id -> code of every order the result names."""
    return {
        "message": text(result.message),
        "changed_fields": list(result.changed_fields),
        "copied_to": [order_ref(o, codes[o.company_id], company_ids) for o in result.copied_to],
        "not_copied": [
            {
                "number": link.target.number,
                "company": codes[link.target.company_id],
                "reason": text(link.off_reason),
            }
            for link in result.not_copied
        ],
    }


def history_entry(entry: HistoryEntry, sources: dict[tuple[str, int], str]) -> dict:
    """``sources``: (type, id) -> company code of the source orders the caller may open."""
    source = None
    if entry.source_number and entry.source_type in SEGMENTS:
        code = sources.get((entry.source_type, entry.source_id))
        source = {
            "type": entry.source_type,
            "number": entry.source_number,
            "company": code or entry.source_number.split("-")[0],
            "role": role(entry.source_role),
            "url": order_url(entry.source_type, code, entry.source_number) if code else None,
        }
    return {
        "id": entry.history_id,
        "at": entry.at,
        "by": setter(entry.by),
        "kind": entry.kind,
        "how": text(entry.how),
        "source": source,
        "changes": [
            {
                "field": change.field,
                "label": text(change.label),
                "old": change.old,
                "new": change.new,
                "overwrote": setter(change.overwrote),
            }
            for change in entry.changes
        ],
    }


def timeline_entry(entry: TimelineEntry) -> dict:
    return {
        "at": entry.at,
        "value": entry.value,
        "previous_value": entry.previous_value,
        "set_by": setter(entry.set_by),
        "kind": entry.kind,
        "source_number": entry.source_number,
        "overwrote": setter(entry.overwrote),
    }


def overwrite(row: Overwrite) -> dict:
    return {
        "at": row.at,
        "order": {
            "type": row.order_type,
            "number": row.order_number,
            "company": row.order_company_code,
            "role": text((SalesOrder if row.order_type == OrderType.SALES else PurchaseOrder)
                         ._meta.verbose_name),
            "url": order_url(row.order_type, row.order_company_code, row.order_number),
        },
        "field": row.field,
        "label": text(FIELD_LABELS[row.field]),
        "old_value": row.old_value,
        "old_set_by": setter(row.old_setter),
        "new_value": row.new_value,
        "new_set_by": setter(row.new_setter),
        "how": text(row.how),
        "description": text(row.describe()),
    }


class RelationshipRights:
    """What one employee may change on trading relationships, read once for a whole list."""

    def __init__(self, employee):
        self.administers = may_administer_relationships(employee)
        self.is_superuser = employee.is_superuser
        self.company_ids = frozenset(employee.companies.values_list("pk", flat=True))

    def on(self, relationship: TradingRelationship) -> PolicyRights:
        return PolicyRights(relationship, self.is_superuser, self.company_ids)


def trading_relationship(relationship: TradingRelationship, *,
                         rights: RelationshipRights) -> dict:
    """The relationship with what the employee may change on it, switch by switch, as the
    admin shows it (each company changes its own policy)."""
    administers = rights.administers
    policy_rights = rights.on(relationship)

    def why_not(name: str) -> str | None:
        if not administers:
            return text(NOT_A_RELATIONSHIP_ADMINISTRATOR)
        refusal = policy_rights.refusal(name)
        return None if refusal is None else text(refusal)

    switches = [
        {
            "name": name,
            "label": text(SWITCH_LABELS[name][1]),
            "policy": text(SWITCH_LABELS[name][0]),
            "company": relationship.policy_owner(name).code,
            "on": getattr(relationship, name),
            "may_change": why_not(name) is None,
            "why_not": why_not(name),
        }
        for name in TradingRelationship.POLICY_FIELDS
    ]
    return {
        "id": relationship.pk,
        "buying_company": relationship.buying_company.code,
        "selling_company": relationship.selling_company.code,
        "intercompany_vendor": relationship.intercompany_vendor.account,
        "intercompany_customer": relationship.intercompany_customer.account,
        "active": relationship.active,
        **{name: getattr(relationship, name) for name in TradingRelationship.POLICY_FIELDS},
        "switches": switches,
        "may_change": any(switch["may_change"] for switch in switches),
        "may_change_active": why_not("active") is None,
    }
