"""The JSON bodies of the change events (Standard Webhooks shape: ``type``, ``timestamp``,
``data``). Each builder takes the objects the domain signals carry; the company codes come from
a map given by the caller, so building an event costs no query per order."""

from __future__ import annotations

from typing import Any

from intercompany.models import TradingRelationship


def actor(employee, company_code: str | None) -> dict[str, Any] | None:
    """Who made the change and for which company."""
    if employee is None:
        return None
    return {
        "id": employee.pk,
        "username": employee.username,
        "name": employee.get_full_name() or employee.username,
        "company": company_code,
    }


def order_ref(order, codes: dict[int, str]) -> dict[str, Any]:
    """An order of the chain as every company of the chain sees it (the Intercompany panel)."""
    return {
        "id": order.pk,
        "type": str(order.order_type),
        "role": order.role,
        "number": order.number,
        "company": codes.get(order.company_id),
    }


def order_summary(order, codes: dict[int, str]) -> dict[str, Any]:
    """The order of the event, which belongs to the receiving company."""
    return {
        **order_ref(order, codes),
        "status": order.status,
        "customer_reference": order.customer_reference,
        "customer_requisition": order.customer_requisition,
        "version": order.version,
        "chain_id": order.chain_id,
    }


def order_created(*, order, created_with, employee, acting_code, codes) -> dict[str, Any]:
    return {
        "order": order_summary(order, codes),
        "created_by": actor(employee, acting_code),
        "created_with": [order_ref(other, codes) for other in created_with],
    }


def customer_information_edited(*, result, employee, codes) -> dict[str, Any]:
    order = result.order
    return {
        "order": order_summary(order, codes),
        "changed_fields": list(result.changed_fields),
        "how": "edited",
        "changed_by": actor(employee, codes.get(order.company_id)),
        "copied_to": [order_ref(target, codes) for target in result.copied_to],
        "not_copied": [
            {"order": order_ref(link.target, codes), "reason": link.off_reason}
            for link in result.not_copied
        ],
    }


def customer_information_copied(*, target, result, employee, codes) -> dict[str, Any]:
    source = result.order
    return {
        "order": order_summary(target, codes),
        "changed_fields": list(result.changed_fields),
        "how": "copied",
        "changed_by": actor(employee, codes.get(source.company_id)),
        "copied_from": order_ref(source, codes),
    }


def _setter(employee_id, employees: dict, company_id, codes) -> dict[str, Any]:
    employee = employees.get(employee_id)
    return {
        "employee": actor(employee, codes.get(company_id)) if employee else (
            {"id": employee_id, "username": None, "name": None, "company": codes.get(company_id)}
            if employee_id else None
        ),
        "company": codes.get(company_id),
    }


def customer_information_overwritten(*, record, employees, codes) -> dict[str, Any]:
    """One cross-company overwrite record (orders.models.OverwriteRecord)."""
    via = None
    if record.source_number:
        via = {
            "id": record.source_id,
            "type": record.source_type,
            "role": record.source_role,
            "number": record.source_number,
        }
    return {
        "order": {
            "id": record.order_id,
            "type": record.order_type,
            "number": record.order_number,
            "company": codes.get(record.order_company_id),
        },
        "field": record.field,
        "old": {"value": record.old_value,
                **_setter(record.old_set_by_id, employees, record.old_set_for_id, codes)},
        "new": {"value": record.new_value,
                **_setter(record.new_set_by_id, employees, record.new_set_for_id, codes)},
        "how": "copied" if via else "edited",
        "via": via,
        "at": record.at.isoformat(),
    }


def order_cancelled(*, order, employee, codes) -> dict[str, Any]:
    return {
        "order": order_summary(order, codes),
        "cancelled_by": actor(employee, codes.get(order.company_id)),
    }


def trading_relationship_changed(*, relationship, changes, employee) -> dict[str, Any]:
    switches = ("active", *TradingRelationship.POLICY_FIELDS)
    meta = TradingRelationship._meta
    return {
        "relationship": {
            "id": relationship.pk,
            "buying_company": relationship.buying_company.code,
            "selling_company": relationship.selling_company.code,
            **{name: getattr(relationship, name) for name in switches},
        },
        "changes": [
            {
                "switch": name,
                "label": str(meta.get_field(name).verbose_name),
                "policy_of": (
                    None if name == "active" else relationship.policy_owner(name).code
                ),
                "old": old,
                "new": new,
            }
            for name, (old, new) in changes.items()
        ],
        "changed_by": actor(employee, None),
    }
