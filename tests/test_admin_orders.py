"""The order admin writes through the services: sync, history and the stale-form refusal."""

import pytest

from orders.models import OrderStatus, PurchaseOrder, SalesOrder
from tests.conftest import make_relationship, make_three_legged_chain


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(
        usmf, demf, sales_policy_syncs_intercompany_purchase_order=True
    )
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )


def change_url(order):
    return f"/admin/orders/{order._meta.model_name}/{order.pk}/change/"


def test_admin_edit_of_customer_requisition_is_copied_along_the_chain(client, admin, chain):
    client.force_login(admin)
    response = client.post(change_url(chain.mirror), {
        "customer_reference": "", "customer_requisition": "PO-7790", "status": "open",
        "opened_version": chain.fresh("mirror").version,
    })
    assert response.status_code == 302
    assert chain.values() == {"original": "PO-7790", "purchase": "PO-7790", "mirror": "PO-7790"}
    assert chain.fresh("original").history.first().history_user == admin


def test_admin_cancel_cancels_the_order_and_records_it(client, admin, chain):
    client.force_login(admin)
    order = chain.fresh("original")
    response = client.post(change_url(order), {
        "customer_reference": "", "customer_requisition": "PO-7781", "status": "cancelled",
        "opened_version": order.version,
    })
    assert response.status_code == 302
    cancelled = SalesOrder.objects.get(pk=order.pk)
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.history.first().status == OrderStatus.CANCELLED


def test_admin_form_opened_before_a_copy_is_refused_and_changes_nothing(
    client, admin, jonas, chain
):
    from orders.services import update_customer_information

    client.force_login(admin)
    opened_at = chain.fresh("purchase").version
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")
    response = client.post(change_url(chain.purchase), {
        "customer_reference": "", "customer_requisition": "PO-0000", "status": "open",
        "opened_version": opened_at,
    })
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    assert PurchaseOrder.objects.get(pk=chain.purchase.pk).customer_requisition == "PO-7790"


def test_admin_post_without_the_opened_version_is_refused(client, admin, chain):
    client.force_login(admin)
    response = client.post(change_url(chain.purchase), {
        "customer_reference": "", "customer_requisition": "PO-0000", "status": "open",
    })
    assert response.status_code == 200
    assert PurchaseOrder.objects.get(pk=chain.purchase.pk).customer_requisition == "PO-7781"


def test_admin_change_of_customer_moves_the_original_customer_along_the_chain(
    client, admin, chain, usmf
):
    from tests.conftest import make_customer

    contoso = make_customer(usmf, "US-002", "Contoso Retail")
    client.force_login(admin)
    order = chain.fresh("original")
    response = client.post(change_url(order), {
        "customer": contoso.pk, "customer_reference": "", "customer_requisition": "PO-7781",
        "status": "open", "opened_version": order.version,
    })

    assert response.status_code == 302
    assert chain.fresh("original").customer == contoso
    assert chain.values("original_customer") == dict.fromkeys(
        ("original", "purchase", "mirror"), "US-002 Contoso Retail"
    )
    assert chain.fresh("mirror").history.first().history_user == admin


def test_admin_refuses_an_intercompany_customer_and_keeps_the_intercompany_one_fixed(
    client, admin, chain, usmf, gbsi
):
    intercompany_customer = make_relationship(gbsi, usmf).intercompany_customer
    client.force_login(admin)
    order = chain.fresh("original")
    response = client.post(change_url(order), {
        "customer": intercompany_customer.pk, "customer_reference": "",
        "customer_requisition": "PO-7781", "status": "open", "opened_version": order.version,
    })

    assert response.status_code == 200
    assert "is an intercompany customer" in response.content.decode()
    assert chain.fresh("original").customer == order.customer
    # On the intercompany sales order the customer is shown, not offered.
    form = client.get(change_url(chain.mirror)).content.decode()
    assert 'name="customer"' not in form
