from orders.models import PurchaseOrder, SalesOrder
from orders.services import (
    create_intercompany_purchase_order,
    create_sales_order,
    update_customer_information,
)


def test_edit_on_intercompany_sales_order_reaches_original_when_every_switch_is_on(
    alice, jonas, usmf, demf, external_customer
):
    from tests.conftest import make_relationship

    relationship = make_relationship(usmf, demf, sales_policy_syncs_intercompany_purchase_order=True)
    original = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_requisition="PO-7781"
    )
    purchase = create_intercompany_purchase_order(
        employee=alice, sales_order=original, vendor=relationship.intercompany_vendor
    )
    mirror = purchase.intercompany_sales_order

    result = update_customer_information(order=mirror, employee=jonas, customer_requisition="PO-7790")

    assert {o.number for o in result.copied_to} == {original.number, purchase.number}
    assert SalesOrder.objects.get(pk=original.pk).customer_requisition == "PO-7790"
    assert PurchaseOrder.objects.get(pk=purchase.pk).customer_requisition == "PO-7790"
