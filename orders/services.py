"""Writes on orders: create orders and chains, edit customer information, cancel.

Every service takes the acting employee explicitly, checks that they work for the company that
owns the order, validates its input before writing anything, and runs in one transaction. The
copies to the other orders of a chain are made by ``orders/sync.py`` inside that transaction.
"""

from __future__ import annotations

import dataclasses

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from intercompany.exceptions import InactiveRelationshipError, NotAllowedError
from intercompany.history import ChangeContext, ChangeKind, attach_change_context
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from intercompany.validators import clean_text
from orders.domain_signals import customer_information_changed, order_cancelled, order_created
from orders.exceptions import StaleOrderError
from orders.models import (
    CUSTOMER_REFERENCE_MAX_LENGTH,
    CUSTOMER_REQUISITION_MAX_LENGTH,
    NumberSequence,
    Order,
    OrderChain,
    OrderStatus,
    PurchaseOrder,
    SalesOrder,
)
from orders.sync import SyncResult, copy_at_creation, lock_order, save_customer_information

UNSET = object()

_LIMITS = {
    "customer_reference": (gettext_lazy("Customer reference"), CUSTOMER_REFERENCE_MAX_LENGTH),
    "customer_requisition": (
        gettext_lazy("Customer requisition"), CUSTOMER_REQUISITION_MAX_LENGTH
    ),
}


def clean_customer_information(values: dict[str, object]) -> dict[str, str]:
    """Trim and check customer reference and customer requisition.

    Raises ``ValidationError`` keyed by field, with messages that name the field.
    """
    cleaned, errors = {}, {}
    for name, value in values.items():
        label, max_length = _LIMITS[name]
        try:
            cleaned[name] = clean_text(value, label=label, max_length=max_length)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def check_works_for(employee: Employee, company: Company) -> None:
    if employee is None or not (employee.is_superuser or employee.works_for(company)):
        raise NotAllowedError(
            _("%(employee)s does not work for %(company)s.")
            % {"employee": employee, "company": company.code}
        )


def active_relationship(
    *, buying_company: Company, selling_company: Company
) -> TradingRelationship:
    relationship = (
        TradingRelationship.objects.select_related(
            "buying_company", "selling_company", "intercompany_vendor", "intercompany_customer"
        )
        .filter(buying_company=buying_company, selling_company=selling_company)
        .first()
    )
    if relationship is None:
        raise InactiveRelationshipError(
            _("There is no trading relationship in which %(buyer)s buys from %(seller)s.")
            % {"buyer": buying_company.code, "seller": selling_company.code}
        )
    if not relationship.active:
        raise InactiveRelationshipError(
            _(
                "The trading relationship %(buyer)s buys from %(seller)s is inactive: no "
                "intercompany order can be created on it. Nothing was created."
            ) % {"buyer": buying_company.code, "seller": selling_company.code}
        )
    return relationship


def allocate_number(*, company: Company, document: str) -> str:
    """The next free number, e.g. ``USMF-SO-000042``.

    The sequence row stays locked until the creating transaction ends, so two clerks creating at
    once get consecutive numbers; a number already taken (imported by hand) is skipped.
    """
    sequence, _created = NumberSequence.objects.select_for_update().get_or_create(
        company=company, document=document
    )
    model = SalesOrder if document == "SO" else PurchaseOrder
    value = sequence.last_value
    while True:
        value += 1
        number = f"{company.code}-{document}-{value:06d}"
        if not model.objects.filter(company=company, number=number).exists():
            break
    sequence.last_value = value
    sequence.save(update_fields=["last_value"])
    return number


def lock_number_sequences(*keys: tuple[Company, str]) -> None:
    """Lock the number sequences a creation is about to use, ``(company, document)`` pairs.

    Why: a two-legged chain numbers one order in each company, and the two ends create in
    opposite orders (USMF orders from DEMF: USMF-PO then DEMF-SO; DEMF sells to USMF: DEMF-SO
    then USMF-PO). Locking every sequence up front, in one order for everybody (company id,
    then document), makes such creations queue up instead of deadlocking.
    """
    for company_id, document in sorted({(company.pk, document) for company, document in keys}):
        NumberSequence.objects.select_for_update().get_or_create(
            company_id=company_id, document=document
        )


def _save_new(order: Order, *, employee: Employee, company: Company, source: Order | None = None,
              source_role: str = ""):
    """Save a new order as ``employee`` acting for ``company``; ``source`` is the order its
    values were copied from (``source_role`` when its role is not yet what its links will say:
    a sales order to an intercompany customer, before its purchase order exists)."""
    source_ref = source.source_reference if source is not None else None
    if source_ref is not None and source_role:
        source_ref = dataclasses.replace(source_ref, role=source_role)
    attach_change_context(
        order,
        ChangeContext(
            employee=employee, company=company, kind=ChangeKind.CREATED, source=source_ref
        ),
    )
    order.created_by = employee
    order.save()
    return order


def _create_intercompany_sales_order(
    *, purchase_order: PurchaseOrder, relationship: TradingRelationship, employee: Employee
) -> SalesOrder:
    sales_order = SalesOrder(
        company=relationship.selling_company,
        number=allocate_number(company=relationship.selling_company, document="SO"),
        customer=relationship.intercompany_customer,
        intercompany_purchase_order=purchase_order,
        chain_id=purchase_order.chain_id,
        original_sales_order_id=purchase_order.original_sales_order_id,
    )
    copy_at_creation(source=purchase_order, target=sales_order)
    return _save_new(
        sales_order, employee=employee, company=purchase_order.company, source=purchase_order
    )


def create_sales_order(
    *,
    employee: Employee,
    company: Company,
    customer: Customer,
    customer_reference: str = "",
    customer_requisition: str = "",
) -> SalesOrder:
    """Create a sales order. To an intercompany customer, it also creates the intercompany
    purchase order in the buying company (a two-legged chain)."""
    check_works_for(employee, company)
    values = clean_customer_information(
        {"customer_reference": customer_reference, "customer_requisition": customer_requisition}
    )
    if customer.company_id != company.pk:
        raise ValidationError({"customer": _(
            "Customer %(account)s is not a customer of %(company)s."
        ) % {"account": customer.account, "company": company.code}})
    relationship = None
    if customer.is_intercompany:
        relationship = active_relationship(
            buying_company=customer.represents_company, selling_company=company
        )
    with transaction.atomic():
        if relationship is not None:
            lock_number_sequences((company, "SO"), (relationship.buying_company, "PO"))
        chain = OrderChain.objects.create() if relationship else None
        sales_order = SalesOrder(
            company=company,
            number=allocate_number(company=company, document="SO"),
            customer=customer,
            chain=chain,
            **values,
        )
        if not customer.is_intercompany:
            sales_order.take_customer_as_original_customer()
        _save_new(sales_order, employee=employee, company=company)
        if relationship is not None:
            purchase_order = PurchaseOrder(
                company=relationship.buying_company,
                number=allocate_number(company=relationship.buying_company, document="PO"),
                vendor=relationship.intercompany_vendor,
                trading_relationship=relationship,
                chain=chain,
            )
            copy_at_creation(source=sales_order, target=purchase_order)
            _save_new(purchase_order, employee=employee, company=company, source=sales_order,
                      source_role=gettext_noop("intercompany sales order"))
            # The link is not customer information: written directly, it adds no history row.
            SalesOrder.objects.filter(pk=sales_order.pk).update(
                intercompany_purchase_order=purchase_order
            )
            sales_order.intercompany_purchase_order = purchase_order
        order_created.send(SalesOrder, order=sales_order, employee=employee,
                           orders=[o for o in [sales_order.intercompany_purchase_order] if o])
    return sales_order


def create_purchase_order(
    *,
    employee: Employee,
    company: Company,
    vendor: Vendor,
    customer_reference: str = "",
    customer_requisition: str = "",
) -> PurchaseOrder:
    """Create a purchase order. To an intercompany vendor, it also creates the intercompany sales
    order in the selling company (a two-legged chain)."""
    check_works_for(employee, company)
    values = clean_customer_information(
        {"customer_reference": customer_reference, "customer_requisition": customer_requisition}
    )
    if vendor.company_id != company.pk:
        raise ValidationError({"vendor": _(
            "Vendor %(account)s is not a vendor of %(company)s."
        ) % {"account": vendor.account, "company": company.code}})
    relationship = None
    if vendor.is_intercompany:
        relationship = active_relationship(
            buying_company=company, selling_company=vendor.represents_company
        )
    with transaction.atomic():
        if relationship is not None:
            lock_number_sequences((company, "PO"), (relationship.selling_company, "SO"))
        purchase_order = PurchaseOrder(
            company=company,
            number=allocate_number(company=company, document="PO"),
            vendor=vendor,
            trading_relationship=relationship,
            chain=OrderChain.objects.create() if relationship else None,
            **values,
        )
        _save_new(purchase_order, employee=employee, company=company)
        if relationship is not None:
            # Kept on the reverse accessor: callers get the new order without another query.
            purchase_order.intercompany_sales_order = _create_intercompany_sales_order(
                purchase_order=purchase_order, relationship=relationship, employee=employee
            )
        order_created.send(PurchaseOrder, order=purchase_order, employee=employee,
                           orders=[purchase_order.intercompany_sales_order] if relationship else [])
    return purchase_order


def create_intercompany_purchase_order(
    *, employee: Employee, sales_order: SalesOrder, vendor: Vendor
) -> PurchaseOrder:
    """Source ``sales_order`` from an intercompany vendor (three legs, or more along A → B → C).

    Creates the intercompany purchase order in the sales order's company and, from it, the
    intercompany sales order in the vendor's company, in one transaction. Customer information
    (the original customer included) is copied at creation along the edges the rule in
    ``orders/sync.py`` switches on.
    """
    company = sales_order.company
    check_works_for(employee, company)
    if vendor.company_id != company.pk:
        raise ValidationError({"vendor": _(
            "Vendor %(account)s is not a vendor of %(company)s."
        ) % {"account": vendor.account, "company": company.code}})
    if not vendor.is_intercompany:
        raise ValidationError({"vendor": _(
            "Vendor %(account)s is not an intercompany vendor."
        ) % {"account": vendor.account}})
    relationship = active_relationship(
        buying_company=company, selling_company=vendor.represents_company
    )
    with transaction.atomic():
        # The permission is checked again under the lock, as an edit does.
        current, _snapshot = lock_order(sales_order, acting=employee)
        if current.is_cancelled:
            raise ValidationError(
                _("%(number)s is cancelled: it cannot be sourced.") % {"number": current.number}
            )
        lock_number_sequences((company, "PO"), (relationship.selling_company, "SO"))
        if current.chain_id is None:
            # Joining a chain: the new chain row is ours until commit, so nobody else can lock it.
            chain = OrderChain.objects.create()
            SalesOrder.objects.filter(pk=current.pk).update(chain=chain)
            current.chain_id = chain.pk
        purchase_order = PurchaseOrder(
            company=company,
            number=allocate_number(company=company, document="PO"),
            vendor=vendor,
            origin_sales_order=current,
            trading_relationship=relationship,
            chain_id=current.chain_id,
            # An original sales order starts the chain; an intercompany one passes its start on.
            original_sales_order_id=(
                current.pk if current.is_original else current.original_sales_order_id
            ),
        )
        copy_at_creation(source=current, target=purchase_order)
        _save_new(purchase_order, employee=employee, company=company, source=current)
        purchase_order.intercompany_sales_order = _create_intercompany_sales_order(
            purchase_order=purchase_order, relationship=relationship, employee=employee
        )
        order_created.send(PurchaseOrder, order=purchase_order, employee=employee,
                           orders=[purchase_order.intercompany_sales_order])
    sales_order.chain_id = current.chain_id
    return purchase_order


def check_new_customer(order: Order, customer: object) -> Customer:
    """The checks a change of customer needs before anything is locked: the right kind of order,
    a customer of the order's company, not an intercompany customer. Raises ``ValidationError``
    keyed ``customer`` (forms call it to show the reason on the field)."""
    if not isinstance(order, SalesOrder):
        raise ValidationError({"customer": _("Only a sales order has a customer.")})
    if not isinstance(customer, Customer) or customer.pk is None:
        raise ValidationError({"customer": _("Choose one of the customers of %(company)s.")
                               % {"company": order.company.code}})
    if customer.company_id != order.company_id:
        raise ValidationError({"customer": _(
            "Customer %(account)s is not a customer of %(company)s: choose one of its customers."
        ) % {"account": customer.account, "company": order.company.code}})
    if customer.is_intercompany:
        raise ValidationError({"customer": _(
            "%(account)s %(name)s is an intercompany customer: a sale to it is an intercompany "
            "sales order, another kind of chain. Create a new sales order to it instead; the "
            "customer of %(number)s was not changed."
        ) % {"account": customer.account, "name": customer.name, "number": order.number}})
    return customer


def refuse_customer_change_of(current: SalesOrder) -> None:
    """Refuse (``ValidationError`` on ``customer``) a change of customer of a cancelled or an
    intercompany sales order. The service checks it on the order as locked; the API also
    before, to answer on the field."""
    if current.is_cancelled:
        raise ValidationError({"customer": _(
            "%(number)s is cancelled: its customer cannot be changed."
        ) % {"number": current.number}})
    if current.is_intercompany:
        raise ValidationError({"customer": _(
            "%(number)s is an intercompany sales order: its customer is the intercompany "
            "customer %(account)s, which stands for the buying company, and cannot be changed."
        ) % {"number": current.number, "account": current.customer.account}})


def update_customer_information(
    *,
    order: Order,
    employee: Employee,
    customer: object = UNSET,
    customer_reference: object = UNSET,
    customer_requisition: object = UNSET,
    expected_version: int | None = None,
) -> SyncResult:
    """Edit the customer information of ``order`` as ``employee``, acting for the order's
    company, and copy the change along the chain as the switches say.

    ``customer`` (a sales order that is open and not an intercompany one, to another customer
    of its company that is not an intercompany customer) changes the customer and with it the
    original customer, which then travels outward along the chain like the customer reference
    and the customer requisition. ``expected_version`` is the version the clerk's form was
    opened at: if the order changed since (a colleague, another company, a synced copy),
    ``StaleOrderError`` is raised and nothing is saved. Bad input raises ``ValidationError``
    naming the field; nothing is saved.
    """
    company = order.company
    given = {
        name: value
        for name, value in (
            ("customer_reference", customer_reference),
            ("customer_requisition", customer_requisition),
        )
        if value is not UNSET
    }
    values = clean_customer_information(given)
    if customer is not UNSET:
        check_new_customer(order, customer)
    with transaction.atomic():
        # The permission is checked in the transaction that writes: an employee who no
        # longer works for the company when the edit lands cannot make it.
        current, snapshot = lock_order(order, acting=employee)
        if expected_version is not None and current.version != expected_version:
            raise StaleOrderError(current=current)
        new_customer = customer is not UNSET and current.customer_id != customer.pk
        if new_customer:
            refuse_customer_change_of(current)
        if not new_customer and all(
            getattr(current, name) == value for name, value in values.items()
        ):
            return SyncResult(order=current)
        for name, value in values.items():
            setattr(current, name, value)
        if new_customer:
            current.customer = customer
            current.take_customer_as_original_customer()
        attach_change_context(
            current, ChangeContext(employee=employee, company=company, kind=ChangeKind.EDITED)
        )
        current._chain_snapshot = snapshot
        if new_customer:
            # The customer is a column the fast path does not write: a full save (its hooks
            # lock, stamp, record and copy exactly as the fast path does).
            current.save()
        else:
            save_customer_information(order=current)
        customer_information_changed.send(type(current), order=current, employee=employee,
                                          result=current.sync_result)
    return current.sync_result


def cancel_order(
    *, order: Order, employee: Employee, expected_version: int | None = None
) -> Order:
    """Cancel ``order``. A cancelled order keeps its values and no longer sends or receives
    customer-information copies. With ``expected_version``, refuses (``StaleOrderError``) when
    the order changed since the caller read it at that version."""
    with transaction.atomic():
        current, snapshot = lock_order(order, acting=employee)
        if expected_version is not None and current.version != expected_version:
            raise StaleOrderError(current=current)
        if current.status == OrderStatus.CANCELLED:
            return current
        current.status = OrderStatus.CANCELLED
        attach_change_context(
            current,
            ChangeContext(employee=employee, company=current.company, kind=ChangeKind.EDITED),
        )
        current._chain_snapshot = snapshot
        current.save()
        order_cancelled.send(type(current), order=current, employee=employee)
    return current


__all__ = [
    "StaleOrderError",
    "allocate_number",
    "cancel_order",
    "check_new_customer",
    "clean_customer_information",
    "create_intercompany_purchase_order",
    "create_purchase_order",
    "create_sales_order",
    "update_customer_information",
]
