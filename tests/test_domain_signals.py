"""The domain signals the services send (orders/domain_signals.py,
intercompany.signals.trading_relationship_changed): what each carries, that it is sent inside the
transaction of the change, once, and never for a change that did not happen."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from intercompany.exceptions import NotAllowedError
from intercompany.services import update_trading_relationship
from intercompany.signals import trading_relationship_changed
from orders import services
from orders.domain_signals import customer_information_changed, order_cancelled, order_created
from orders.exceptions import StaleOrderError
from orders.models import PurchaseOrder, SalesOrder
from tests.conftest import EVERY_SWITCH_ON, make_relationship, make_three_legged_chain


@contextmanager
def caught(signal):
    """The keyword arguments of every sending of ``signal``, with whether the service's own
    transaction was open at that moment (one more atomic block than the test's)."""
    sent = []
    outside = len(connection.atomic_blocks)

    def receiver(sender, **kwargs):
        inside = len(connection.atomic_blocks) > outside
        sent.append({"sender": sender, "in_transaction": inside, **kwargs})

    signal.connect(receiver, weak=False, dispatch_uid="test-caught")
    try:
        yield sent
    finally:
        signal.disconnect(dispatch_uid="test-caught")


@pytest.mark.django_db
def test_creating_a_sales_order_to_an_intercompany_customer_names_both_legs(alice, usmf, demf):
    relationship = make_relationship(demf, usmf)  # DEMF buys from USMF
    with caught(order_created) as sent:
        so = services.create_sales_order(employee=alice, company=usmf,
                                         customer=relationship.intercompany_customer,
                                         customer_requisition="REQ-1")

    assert len(sent) == 1
    assert sent[0]["sender"] is SalesOrder and sent[0]["order"] == so
    assert sent[0]["orders"] == [so.intercompany_purchase_order]
    assert sent[0]["orders"][0].company == demf
    assert sent[0]["employee"] == alice and sent[0]["in_transaction"]


@pytest.mark.django_db
def test_creating_a_plain_sales_order_sends_it_alone(alice, usmf, external_customer):
    with caught(order_created) as sent:
        so = services.create_sales_order(employee=alice, company=usmf, customer=external_customer)

    assert [(s["order"], s["orders"]) for s in sent] == [(so, [])]


@pytest.mark.django_db
def test_creating_a_purchase_order_and_sourcing_a_sales_order_name_the_sellers_order(
    alice, relationship, external_customer, usmf
):
    with caught(order_created) as sent:
        po = services.create_purchase_order(employee=alice, company=usmf,
                                            vendor=relationship.intercompany_vendor)
        chain = make_three_legged_chain(employee=alice, relationship=relationship,
                                        customer=external_customer)

    two_legged, original, sourced = sent
    assert two_legged["sender"] is PurchaseOrder and two_legged["order"] == po
    assert two_legged["orders"] == [po.intercompany_sales_order]
    assert original["order"] == chain.original and original["orders"] == []
    assert sourced["order"] == chain.purchase and sourced["orders"] == [chain.mirror]
    assert all(s["in_transaction"] for s in sent)


@pytest.mark.django_db
def test_an_edit_sends_its_sync_result_and_no_edit_sends_nothing(
    alice, usmf, demf, external_customer
):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    chain = make_three_legged_chain(employee=alice, relationship=relationship,
                                    customer=external_customer)
    with caught(customer_information_changed) as sent:
        result = services.update_customer_information(order=chain.original, employee=alice,
                                                      customer_requisition="PO-7781")
        services.update_customer_information(order=chain.original, employee=alice,
                                              customer_requisition="PO-7781")

    assert len(sent) == 1
    assert sent[0]["order"].pk == chain.original.pk and sent[0]["result"] is result
    assert {o.number for o in sent[0]["result"].copied_to} == {chain.purchase.number,
                                                               chain.mirror.number}
    assert sent[0]["result"].changed_fields == ("customer_requisition",)
    assert sent[0]["employee"] == alice and sent[0]["in_transaction"]


@pytest.mark.django_db
def test_cancelling_sends_once(alice, usmf, external_customer):
    so = services.create_sales_order(employee=alice, company=usmf, customer=external_customer)
    with caught(order_cancelled) as sent:
        services.cancel_order(order=so, employee=alice)
        services.cancel_order(order=so, employee=alice)

    assert [(s["order"].pk, s["employee"], s["in_transaction"]) for s in sent] == [
        (so.pk, alice, True)
    ]


@pytest.mark.django_db
def test_a_switch_change_sends_old_and_new_values_and_no_change_sends_nothing(
    admin, relationship
):
    with caught(trading_relationship_changed) as sent:
        update_trading_relationship(relationship=relationship, employee=admin, active=False,
                                    sales_policy_syncs_intercompany_purchase_order=True)
        update_trading_relationship(relationship=relationship, employee=admin, active=False)

    assert len(sent) == 1
    assert sent[0]["relationship"].pk == relationship.pk and sent[0]["employee"] == admin
    assert sent[0]["changes"] == {"active": (True, False),
                                  "sales_policy_syncs_intercompany_purchase_order": (False, True)}
    assert sent[0]["in_transaction"]


@pytest.mark.django_db
def test_a_refused_edit_sends_nothing(alice, jonas, usmf, external_customer):
    so = services.create_sales_order(employee=alice, company=usmf, customer=external_customer)
    with caught(customer_information_changed) as sent, pytest.raises(NotAllowedError):
        services.update_customer_information(order=so, employee=jonas, customer_reference="x")
    with caught(customer_information_changed) as sent_stale, pytest.raises(StaleOrderError):
        services.update_customer_information(order=so, employee=alice, customer_reference="x",
                                             expected_version=so.version + 5)
    with caught(customer_information_changed) as sent_rolled_back:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.update_customer_information(order=so, employee=alice,
                                                 customer_reference="rolled back")
            raise RuntimeError

    assert sent == [] and sent_stale == []
    # Sent inside the transaction that was then rolled back: receivers' rows go with it.
    assert len(sent_rolled_back) == 1 and sent_rolled_back[0]["in_transaction"]
    so.refresh_from_db()
    assert so.customer_reference == ""
