"""Creating order chains: two legs, three legs, A -> B -> C, several vendors, inactive
relationships, cancelled orders and order numbers."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from intercompany.exceptions import InactiveRelationshipError
from intercompany.services import update_trading_relationship
from orders.models import NumberSequence, OrderChain, OrderStatus, PurchaseOrder, SalesOrder
from orders.services import (
    cancel_order,
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)
from tests.conftest import (
    EVERY_SWITCH_ON,
    make_customer,
    make_employee,
    make_relationship,
    make_three_legged_chain,
    make_vendor,
    run_in_threads,
)


def fresh(order):
    return type(order).objects.get(pk=order.pk)


def counts():
    return (SalesOrder.objects.count(), PurchaseOrder.objects.count(), OrderChain.objects.count())


# -- two legs ---------------------------------------------------------------------------------


def test_a_purchase_order_to_an_intercompany_vendor_creates_the_intercompany_sales_order(
    alice, usmf, demf, relationship
):
    purchase = create_purchase_order(
        employee=alice, company=usmf, vendor=relationship.intercompany_vendor,
        customer_reference="Fabrikam", customer_requisition="PO-7781",
    )

    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
    assert mirror.company == demf
    assert mirror.customer == relationship.intercompany_customer
    assert mirror.number == "DEMF-SO-000001"
    assert purchase.number == "USMF-PO-000001"
    assert mirror.chain_id == purchase.chain_id is not None
    assert fresh(purchase).trading_relationship == relationship
    # The buying company's switch "intercompany PO -> intercompany SO" is on by default.
    assert (mirror.customer_reference, mirror.customer_requisition) == ("Fabrikam", "PO-7781")
    assert mirror.role == "intercompany sales order"
    assert fresh(purchase).role == "intercompany purchase order"


def test_the_intercompany_sales_order_starts_empty_when_the_buyer_does_not_sync_it(
    alice, usmf, demf
):
    relationship = make_relationship(
        usmf, demf, purchase_policy_syncs_intercompany_sales_order=False
    )

    purchase = create_purchase_order(
        employee=alice, company=usmf, vendor=relationship.intercompany_vendor,
        customer_requisition="PO-7781",
    )

    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
    assert (mirror.customer_reference, mirror.customer_requisition) == ("", "")
    assert fresh(purchase).customer_requisition == "PO-7781"


def test_a_purchase_order_to_an_ordinary_vendor_creates_no_chain(alice, usmf, relationship):
    vendor = make_vendor(usmf, "V-100", "Litware")

    purchase = create_purchase_order(
        employee=alice, company=usmf, vendor=vendor, customer_requisition="PO-1"
    )

    assert purchase.chain_id is None
    assert SalesOrder.objects.count() == 0
    assert purchase.sync_result.message == (
        "USMF-PO-000001 saved. Not part of an intercompany chain: nothing to copy."
    )


@pytest.mark.parametrize("seller_syncs", [True, False])
def test_a_sales_order_to_an_intercompany_customer_creates_the_intercompany_purchase_order(
    jonas, usmf, demf, seller_syncs
):
    relationship = make_relationship(
        usmf, demf, sales_policy_syncs_intercompany_purchase_order=seller_syncs
    )

    sales = create_sales_order(
        employee=jonas, company=demf, customer=relationship.intercompany_customer,
        customer_requisition="PO-7781",
    )

    purchase = fresh(sales).intercompany_purchase_order
    assert purchase is not None
    assert purchase.company == usmf
    assert purchase.vendor == relationship.intercompany_vendor
    assert purchase.trading_relationship == relationship
    assert purchase.number == "USMF-PO-000001"
    assert sales.number == "DEMF-SO-000001"
    assert purchase.chain_id == fresh(sales).chain_id is not None
    assert purchase.customer_requisition == ("PO-7781" if seller_syncs else "")
    # Its history says where it came from: an intercompany sales order, not an original one.
    created = purchase.history.earliest("history_date")
    assert (created.history_source_number, created.history_source_role) == (
        sales.number, "intercompany sales order")


@pytest.mark.parametrize(
    ("buyer_syncs", "seller_syncs"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_edits_on_a_two_legged_chain_follow_the_switches(
    alice, jonas, usmf, demf, buyer_syncs, seller_syncs
):
    relationship = make_relationship(
        usmf, demf,
        purchase_policy_syncs_intercompany_sales_order=buyer_syncs,
        sales_policy_syncs_intercompany_purchase_order=seller_syncs,
    )
    purchase = create_purchase_order(
        employee=alice, company=usmf, vendor=relationship.intercompany_vendor
    )
    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)

    update_customer_information(order=purchase, employee=alice, customer_requisition="US-1")
    assert fresh(mirror).customer_requisition == ("US-1" if buyer_syncs else "")

    update_customer_information(order=mirror, employee=jonas, customer_reference="DE-1")
    assert fresh(purchase).customer_reference == ("DE-1" if seller_syncs else "")
    assert fresh(purchase).customer_requisition == "US-1"


# -- three legs and longer ----------------------------------------------------------------------


def test_sourcing_an_original_sales_order_creates_both_intercompany_orders_in_one_chain(
    alice, usmf, demf, external_customer, relationship
):
    original = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_requisition="PO-7781"
    )
    assert original.chain_id is None

    purchase = create_intercompany_purchase_order(
        employee=alice, sales_order=original, vendor=relationship.intercompany_vendor
    )

    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
    assert fresh(original).chain_id == purchase.chain_id == mirror.chain_id is not None
    assert purchase.origin_sales_order_id == original.pk
    assert (purchase.company, mirror.company) == (usmf, demf)
    assert fresh(original).role == "original sales order"
    assert [o.customer_requisition for o in (purchase, mirror)] == ["PO-7781", "PO-7781"]


def test_the_buyer_policy_decides_what_the_new_intercompany_orders_receive_at_creation(
    alice, usmf, demf, external_customer
):
    relationship = make_relationship(usmf, demf, purchase_policy_syncs_original_sales_order=False)

    chain = make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )

    assert chain.values() == {"original": "PO-7781", "purchase": "", "mirror": ""}


def test_an_ordinary_vendor_cannot_source_a_sales_order(alice, usmf, external_customer):
    original = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    vendor = make_vendor(usmf, "V-100", "Litware")

    with pytest.raises(ValidationError, match="not an intercompany vendor"):
        create_intercompany_purchase_order(employee=alice, sales_order=original, vendor=vendor)

    assert counts() == (1, 0, 0)


@pytest.fixture
def a_b_c(alice, jonas, olga, usmf, demf, gbsi, external_customer):
    """USMF buys from DEMF, DEMF buys from GBSI: a five-order chain."""

    def build(**switches):
        usmf_demf = make_relationship(usmf, demf, **switches)
        demf_gbsi = make_relationship(demf, gbsi, **switches)
        first = make_three_legged_chain(
            employee=alice, relationship=usmf_demf, customer=external_customer,
            customer_requisition="PO-7781",
        )
        second_purchase = create_intercompany_purchase_order(
            employee=jonas, sales_order=first.mirror, vendor=demf_gbsi.intercompany_vendor
        )
        second_mirror = SalesOrder.objects.get(intercompany_purchase_order=second_purchase)
        return [first.original, first.purchase, first.mirror, second_purchase, second_mirror]

    return build


def test_an_a_b_c_chain_is_one_chain_with_numbers_of_each_company(a_b_c, gbsi):
    orders = a_b_c()

    assert [o.number for o in orders] == [
        "USMF-SO-000001", "USMF-PO-000001", "DEMF-SO-000001", "DEMF-PO-000001", "GBSI-SO-000001",
    ]
    assert len({fresh(o).chain_id for o in orders}) == 1
    assert orders[4].company == gbsi
    # The default buyer policy copied the requisition all the way to GBSI at creation.
    assert [fresh(o).customer_requisition for o in orders] == ["PO-7781"] * 5


def test_an_edit_at_the_start_of_an_a_b_c_chain_reaches_the_far_end(a_b_c, alice):
    orders = a_b_c()

    result = update_customer_information(
        order=orders[0], employee=alice, customer_requisition="PO-7790"
    )

    assert [fresh(o).customer_requisition for o in orders] == ["PO-7790"] * 5
    assert {o.number for o in result.copied_to} == {o.number for o in orders[1:]}


def test_an_edit_at_the_far_end_of_an_a_b_c_chain_stays_there_with_default_switches(a_b_c, olga):
    orders = a_b_c()

    result = update_customer_information(
        order=orders[4], employee=olga, customer_requisition="GB-1"
    )

    assert [fresh(o).customer_requisition for o in orders] == ["PO-7781"] * 4 + ["GB-1"]
    assert result.copied_to == []


def test_an_edit_at_the_far_end_of_an_a_b_c_chain_reaches_the_start_when_every_switch_is_on(
    a_b_c, olga
):
    orders = a_b_c(**EVERY_SWITCH_ON)

    result = update_customer_information(
        order=orders[4], employee=olga, customer_requisition="GB-1"
    )

    assert [fresh(o).customer_requisition for o in orders] == ["GB-1"] * 5
    assert [o.number for o in result.copied_to] == [o.number for o in reversed(orders[:4])]


def test_the_link_inside_the_middle_company_follows_its_purchase_policy_toward_the_third(
    alice, jonas, usmf, demf, gbsi, external_customer
):
    usmf_demf = make_relationship(usmf, demf)
    demf_gbsi = make_relationship(demf, gbsi, purchase_policy_syncs_original_sales_order=False)
    first = make_three_legged_chain(
        employee=alice, relationship=usmf_demf, customer=external_customer
    )
    second_purchase = create_intercompany_purchase_order(
        employee=jonas, sales_order=first.mirror, vendor=demf_gbsi.intercompany_vendor
    )
    second_mirror = SalesOrder.objects.get(intercompany_purchase_order=second_purchase)

    update_customer_information(order=first.original, employee=alice, customer_requisition="P1")

    assert first.values() == dict.fromkeys(("original", "purchase", "mirror"), "P1")
    assert fresh(second_purchase).customer_requisition == ""
    assert fresh(second_mirror).customer_requisition == ""


def test_one_sales_order_sourced_from_two_intercompany_vendors_keeps_both_chains_in_step(
    alice, jonas, usmf, demf, gbsi, external_customer
):
    from_demf = make_relationship(usmf, demf, sales_policy_syncs_intercompany_purchase_order=True)
    from_gbsi = make_relationship(usmf, gbsi)
    original = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_requisition="PO-7781"
    )
    purchase_demf = create_intercompany_purchase_order(
        employee=alice, sales_order=original, vendor=from_demf.intercompany_vendor
    )
    purchase_gbsi = create_intercompany_purchase_order(
        employee=alice, sales_order=original, vendor=from_gbsi.intercompany_vendor
    )
    mirror_demf = SalesOrder.objects.get(intercompany_purchase_order=purchase_demf)
    mirror_gbsi = SalesOrder.objects.get(intercompany_purchase_order=purchase_gbsi)
    orders = [original, purchase_demf, mirror_demf, purchase_gbsi, mirror_gbsi]
    assert len({fresh(o).chain_id for o in orders}) == 1
    assert [o.number for o in orders] == [
        "USMF-SO-000001", "USMF-PO-000001", "DEMF-SO-000001", "USMF-PO-000002", "GBSI-SO-000001",
    ]

    update_customer_information(order=original, employee=alice, customer_requisition="PO-2")
    assert [fresh(o).customer_requisition for o in orders] == ["PO-2"] * 5

    # DEMF's sales order policy syncs back; through the original it reaches GBSI's chain too.
    result = update_customer_information(
        order=mirror_demf, employee=jonas, customer_requisition="DE-3"
    )
    assert [fresh(o).customer_requisition for o in orders] == ["DE-3"] * 5
    assert [o.number for o in result.copied_to] == [
        "USMF-PO-000001", "USMF-SO-000001", "USMF-PO-000002", "GBSI-SO-000001",
    ]


# -- inactive relationships ----------------------------------------------------------------------


@pytest.fixture
def inactive_relationship(usmf, demf):
    return make_relationship(usmf, demf, active=False)


def test_a_purchase_order_on_an_inactive_relationship_is_refused_and_nothing_is_created(
    alice, usmf, inactive_relationship
):
    with pytest.raises(InactiveRelationshipError, match="inactive"):
        create_purchase_order(
            employee=alice, company=usmf, vendor=inactive_relationship.intercompany_vendor,
            customer_requisition="PO-1",
        )

    assert counts() == (0, 0, 0)
    assert NumberSequence.objects.count() == 0


def test_a_sales_order_to_an_inactive_intercompany_customer_is_refused(
    jonas, demf, inactive_relationship
):
    with pytest.raises(InactiveRelationshipError, match="Nothing was created"):
        create_sales_order(
            employee=jonas, company=demf, customer=inactive_relationship.intercompany_customer
        )

    assert counts() == (0, 0, 0)


def test_sourcing_from_an_inactive_relationship_is_refused_and_the_sales_order_stays_alone(
    alice, usmf, external_customer, inactive_relationship
):
    original = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    with pytest.raises(InactiveRelationshipError):
        create_intercompany_purchase_order(
            employee=alice, sales_order=original, vendor=inactive_relationship.intercompany_vendor
        )

    assert counts() == (1, 0, 0)
    assert fresh(original).chain_id is None


def test_after_reactivation_the_first_intercompany_order_gets_the_first_number(
    alice, admin, usmf, inactive_relationship
):
    with pytest.raises(InactiveRelationshipError):
        create_purchase_order(
            employee=alice, company=usmf, vendor=inactive_relationship.intercompany_vendor
        )
    update_trading_relationship(relationship=inactive_relationship, employee=admin, active=True)

    purchase = create_purchase_order(
        employee=alice, company=usmf, vendor=inactive_relationship.intercompany_vendor
    )

    assert purchase.number == "USMF-PO-000001"


def test_a_chain_stops_propagating_once_its_relationship_is_deactivated(
    alice, jonas, admin, usmf, demf, external_customer
):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    chain = make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )
    update_trading_relationship(relationship=relationship, employee=admin, active=False)

    from_original = update_customer_information(
        order=chain.original, employee=alice, customer_requisition="US-2"
    )
    from_mirror = update_customer_information(
        order=chain.mirror, employee=jonas, customer_requisition="DE-2"
    )

    assert chain.values() == {"original": "US-2", "purchase": "PO-7781", "mirror": "DE-2"}
    assert from_original.copied_to == from_mirror.copied_to == []
    assert "USMF buys from DEMF (inactive) is inactive" in from_original.message

    update_trading_relationship(relationship=relationship, employee=admin, active=True)
    update_customer_information(order=chain.purchase, employee=alice, customer_requisition="US-3")
    assert chain.values() == dict.fromkeys(("original", "purchase", "mirror"), "US-3")


# -- cancelled orders ----------------------------------------------------------------------------


@pytest.fixture
def chain_on(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )


def test_a_cancelled_intercompany_purchase_order_neither_receives_nor_relays_copies(
    chain_on, alice, jonas
):
    cancel_order(order=chain_on.purchase, employee=alice)
    assert chain_on.fresh("purchase").status == OrderStatus.CANCELLED

    from_original = update_customer_information(
        order=chain_on.original, employee=alice, customer_requisition="US-2"
    )
    assert chain_on.values() == {"original": "US-2", "purchase": "PO-7781", "mirror": "PO-7781"}
    assert from_original.copied_to == []
    assert f"{chain_on.purchase.number} is cancelled" in from_original.message

    update_customer_information(order=chain_on.mirror, employee=jonas, customer_requisition="DE-2")
    assert chain_on.values() == {"original": "US-2", "purchase": "PO-7781", "mirror": "DE-2"}


def test_a_cancelled_order_can_still_be_edited_but_sends_nothing(chain_on, alice):
    cancel_order(order=chain_on.purchase, employee=alice)

    result = update_customer_information(
        order=chain_on.purchase, employee=alice, customer_requisition="US-9"
    )

    assert chain_on.values() == {"original": "PO-7781", "purchase": "US-9", "mirror": "PO-7781"}
    assert result.copied_to == []


def test_a_cancelled_original_sales_order_is_left_out_while_the_rest_stays_in_step(
    chain_on, alice, jonas
):
    cancel_order(order=chain_on.original, employee=alice)

    update_customer_information(order=chain_on.mirror, employee=jonas, customer_requisition="DE-2")

    assert chain_on.values() == {"original": "PO-7781", "purchase": "DE-2", "mirror": "DE-2"}


def test_cancelling_copies_nothing_and_keeps_the_values(chain_on, alice):
    versions = {r: chain_on.fresh(r).version for r in ("original", "mirror")}

    cancel_order(order=chain_on.purchase, employee=alice)

    assert chain_on.values() == dict.fromkeys(("original", "purchase", "mirror"), "PO-7781")
    assert {r: chain_on.fresh(r).version for r in ("original", "mirror")} == versions


def test_a_cancelled_sales_order_cannot_be_sourced(alice, usmf, external_customer, relationship):
    original = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    cancel_order(order=original, employee=alice)

    with pytest.raises(ValidationError, match="is cancelled"):
        create_intercompany_purchase_order(
            employee=alice, sales_order=original, vendor=relationship.intercompany_vendor
        )

    assert counts() == (1, 0, 0)


# -- order numbers -------------------------------------------------------------------------------


def test_order_numbers_count_up_per_company_and_document(
    alice, jonas, usmf, demf, external_customer
):
    german_customer = make_customer(demf, "DE-001", "Fabrikam GmbH")
    vendor = make_vendor(usmf, "V-100", "Litware")

    numbers = [
        create_sales_order(employee=alice, company=usmf, customer=external_customer).number,
        create_sales_order(employee=alice, company=usmf, customer=external_customer).number,
        create_sales_order(employee=jonas, company=demf, customer=german_customer).number,
        create_purchase_order(employee=alice, company=usmf, vendor=vendor).number,
        create_sales_order(employee=alice, company=usmf, customer=external_customer).number,
    ]

    assert numbers == [
        "USMF-SO-000001", "USMF-SO-000002", "DEMF-SO-000001", "USMF-PO-000001", "USMF-SO-000003",
    ]
    assert all(re.fullmatch(r"[A-Z0-9]{2,8}-(SO|PO)-\d{6}", n) for n in numbers)


def test_a_number_already_taken_is_skipped(alice, usmf, external_customer):
    SalesOrder.objects.create(
        company=usmf, number="USMF-SO-000002", customer=external_customer
    )

    numbers = [
        create_sales_order(employee=alice, company=usmf, customer=external_customer).number
        for _ in range(2)
    ]

    assert numbers == ["USMF-SO-000001", "USMF-SO-000003"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_ever", [True, False], ids=["no-number-yet", "numbered-before"])
def test_two_clerks_creating_orders_of_one_company_at_once_never_get_the_same_number(
    usmf, external_customer, first_ever
):
    clerks = [make_employee(f"clerk{i}", usmf) for i in range(2)]
    if not first_ever:
        create_sales_order(employee=clerks[0], company=usmf, customer=external_customer)
    rounds = 15
    created = [[], []]

    def work(index, barrier):
        for _ in range(rounds):
            barrier.wait()
            order = create_sales_order(
                employee=clerks[index], company=usmf, customer=external_customer
            )
            created[index].append(order.number)

    errors = run_in_threads(2, work)

    assert errors == []
    numbers = created[0] + created[1]
    start = 1 if first_ever else 2
    assert sorted(numbers) == [f"USMF-SO-{n:06d}" for n in range(start, start + 2 * rounds)]
    assert SalesOrder.objects.count() == 2 * rounds + (0 if first_ever else 1)
