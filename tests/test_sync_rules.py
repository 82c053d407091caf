"""The customer-information propagation rule (DOMAIN.md, "Customer information").

The expected orders are computed here from DOMAIN.md's four directed edges, independently of
orders/sync.py.
"""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from intercompany.services import update_trading_relationship
from orders.models import PurchaseOrder, SalesOrder
from orders.services import update_customer_information
from tests.conftest import (
    ThreeLeggedChain,
    make_customer,
    make_relationship,
    make_three_legged_chain,
)

SWITCHES = (
    "purchase_policy_syncs_original_sales_order",
    "purchase_policy_syncs_intercompany_sales_order",
    "sales_policy_syncs_intercompany_purchase_order",
)

# DOMAIN.md, "The propagation rule": (from, to, switch that turns the edge on).
EDGES = (
    ("original", "purchase", "purchase_policy_syncs_original_sales_order"),
    ("purchase", "original", "purchase_policy_syncs_original_sales_order"),
    ("purchase", "mirror", "purchase_policy_syncs_intercompany_sales_order"),
    ("mirror", "purchase", "sales_policy_syncs_intercompany_purchase_order"),
)


def expected_reach(start: str, switches: dict[str, bool]) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        here = queue.popleft()
        for source, target, switch in EDGES:
            if source == here and switches[switch] and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen - {start}


COMBINATIONS = [
    dict(zip(SWITCHES, values, strict=True))
    for values in itertools.product((False, True), repeat=3)
]


def _combination_id(switches):
    return "-".join(
        f"{short}={'on' if switches[name] else 'off'}"
        for short, name in zip(("orig", "po2so", "so2po"), SWITCHES, strict=True)
    )


@pytest.fixture
def chain_every_switch_on(alice, usmf, demf, external_customer):
    relationship = make_relationship(
        usmf, demf,
        purchase_policy_syncs_original_sales_order=True,
        purchase_policy_syncs_intercompany_sales_order=True,
        sales_policy_syncs_intercompany_purchase_order=True,
    )
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_reference="Fabrikam spring", customer_requisition="PO-7781",
    )


@pytest.mark.parametrize("edited", ThreeLeggedChain.ROLES)
@pytest.mark.parametrize("switches", COMBINATIONS, ids=[_combination_id(c) for c in COMBINATIONS])
def test_an_edit_reaches_exactly_the_orders_the_switched_on_edges_lead_to(
    chain_every_switch_on, admin, alice, jonas, switches, edited
):
    chain = chain_every_switch_on
    assert chain.values() == dict.fromkeys(ThreeLeggedChain.ROLES, "PO-7781")
    update_trading_relationship(relationship=chain.relationship, employee=admin, **switches)
    clerk = jonas if edited == "mirror" else alice

    result = update_customer_information(
        order=chain.order(edited), employee=clerk, customer_requisition="PO-7790"
    )

    reached = expected_reach(edited, switches)
    assert chain.values() == {
        role: "PO-7790" if role == edited or role in reached else "PO-7781"
        for role in ThreeLeggedChain.ROLES
    }
    assert {o.number for o in result.copied_to} == {chain.order(r).number for r in reached}
    # The field not edited stays as it was everywhere, and so does the original customer.
    assert chain.values("customer_reference") == dict.fromkeys(
        ThreeLeggedChain.ROLES, "Fabrikam spring"
    )
    assert chain.values("original_customer") == dict.fromkeys(
        ThreeLeggedChain.ROLES, "US-001 Fabrikam Retail"
    )


@pytest.mark.parametrize("switches", COMBINATIONS, ids=[_combination_id(c) for c in COMBINATIONS])
def test_a_change_of_customer_reaches_exactly_the_orders_the_switched_on_edges_lead_to(
    chain_every_switch_on, admin, alice, usmf, switches
):
    # The 24 cases above, extended: the customer changes on the original sales order (the only
    # order where it can change) and the original customer travels like any customer information.
    chain = chain_every_switch_on
    contoso = make_customer(usmf, "US-002", "Contoso Retail")
    update_trading_relationship(relationship=chain.relationship, employee=admin, **switches)

    result = update_customer_information(order=chain.original, employee=alice, customer=contoso)

    reached = expected_reach("original", switches)
    assert chain.fresh("original").customer == contoso
    assert chain.values("original_customer") == {
        role: "US-002 Contoso Retail" if role == "original" or role in reached
        else "US-001 Fabrikam Retail"
        for role in ThreeLeggedChain.ROLES
    }
    assert {o.number for o in result.copied_to} == {chain.order(r).number for r in reached}
    # Nothing else moved: the intercompany sales order keeps its intercompany customer.
    assert chain.fresh("mirror").customer == chain.relationship.intercompany_customer
    assert chain.values() == dict.fromkeys(ThreeLeggedChain.ROLES, "PO-7781")
    # The save message names where it went, and the first order a switched-off edge kept it from.
    first_missed = next((r for r in ("purchase", "mirror") if r not in reached), None)
    if reached:
        copied = " and ".join(chain.order(r).number for r in ("purchase", "mirror") if r in reached)
        assert f"Copied to {copied}." in result.message
    if first_missed:
        assert f"Not copied to {chain.order(first_missed).number}: the purchase order policy of " \
               f"USMF has “" in result.message
    else:
        assert "Not copied" not in result.message


@pytest.mark.parametrize("switches", COMBINATIONS, ids=[_combination_id(c) for c in COMBINATIONS])
def test_creating_a_chain_copies_the_original_customer_along_the_same_edges_as_an_edit(
    alice, usmf, demf, external_customer, switches
):
    relationship = make_relationship(usmf, demf, **switches)

    chain = make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )

    # The copies made at creation go out from the order each new order is created from, along
    # the edges an edit of the original sales order would take: the same rule.
    outward = expected_reach("original", switches)
    assert chain.values("original_customer") == {
        role: "US-001 Fabrikam Retail" if role == "original" or role in outward else ""
        for role in ThreeLeggedChain.ROLES
    }
    assert chain.values() == {
        role: "PO-7781" if role == "original" or role in outward else ""
        for role in ThreeLeggedChain.ROLES
    }
    # The original sales order is the chain's shape: every leg names it, whatever the switches.
    assert {r: chain.fresh(r).original_sales_order_id for r in ThreeLeggedChain.ROLES} == {
        "original": None, "purchase": chain.original.pk, "mirror": chain.original.pk,
    }


def test_the_reachability_table_matches_the_worked_examples_of_the_domain():
    # A check of the test's own oracle against DOMAIN.md's sentences.
    only_seller = dict.fromkeys(SWITCHES, False) | {SWITCHES[2]: True}
    assert expected_reach("mirror", only_seller) == {"purchase"}
    assert expected_reach("mirror", dict.fromkeys(SWITCHES, True)) == {"purchase", "original"}
    buyer_only = dict.fromkeys(SWITCHES, True) | {SWITCHES[2]: False}
    assert expected_reach("original", buyer_only) == {"purchase", "mirror"}
    assert expected_reach("mirror", buyer_only) == set()


@pytest.mark.parametrize("switches", COMBINATIONS, ids=[_combination_id(c) for c in COMBINATIONS])
def test_switching_a_policy_copies_nothing_by_itself(
    alice, admin, usmf, demf, external_customer, switches
):
    relationship = make_relationship(
        usmf, demf,
        purchase_policy_syncs_original_sales_order=False,
        purchase_policy_syncs_intercompany_sales_order=False,
        sales_policy_syncs_intercompany_purchase_order=False,
    )
    chain = make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )
    before = chain.values()
    versions = {role: chain.fresh(role).version for role in ThreeLeggedChain.ROLES}
    order_history_rows = SalesOrder.history.count() + PurchaseOrder.history.count()

    update_trading_relationship(relationship=relationship, employee=admin, **switches)

    assert before == {"original": "PO-7781", "purchase": "", "mirror": ""}
    assert chain.values() == before
    assert {r: chain.fresh(r).version for r in ThreeLeggedChain.ROLES} == versions
    assert SalesOrder.history.count() + PurchaseOrder.history.count() == order_history_rows


def test_edit_on_intercompany_sales_order_reaches_original_when_every_switch_is_on(
    chain_every_switch_on, jonas
):
    chain = chain_every_switch_on

    result = update_customer_information(
        order=chain.mirror, employee=jonas, customer_reference="Fabrikam autumn"
    )

    assert chain.values("customer_reference") == dict.fromkeys(
        ThreeLeggedChain.ROLES, "Fabrikam autumn"
    )
    assert [o.number for o in result.copied_to] == [chain.purchase.number, chain.original.number]
    assert result.message == (
        f"{chain.mirror.number} saved. Copied to {chain.purchase.number} and "
        f"{chain.original.number}."
    )


def test_a_copy_keeps_the_editor_as_the_one_who_set_the_value(chain_every_switch_on, jonas, demf):
    chain = chain_every_switch_on

    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    for role in ThreeLeggedChain.ROLES:
        order = chain.fresh(role)
        assert (order.customer_requisition_set_by, order.customer_requisition_set_for) == (
            jonas, demf
        ), role
        # The reference was not edited: it is still Alice's.
        assert order.customer_reference_set_by.username == "alice", role


def test_the_message_says_why_an_order_of_the_chain_was_not_reached(
    chain_every_switch_on, admin, jonas
):
    chain = chain_every_switch_on
    update_trading_relationship(
        relationship=chain.relationship, employee=admin,
        sales_policy_syncs_intercompany_purchase_order=False,
    )

    result = update_customer_information(
        order=chain.mirror, employee=jonas, customer_requisition="PO-7790"
    )

    assert result.copied_to == []
    assert result.message == (
        f"{chain.mirror.number} saved. Not copied to {chain.purchase.number}: the sales order "
        "policy of DEMF has “Customer information, intercompany purchase order ↔ intercompany "
        "sales order” switched off."
    )
    assert chain.values() == {"original": "PO-7781", "purchase": "PO-7781", "mirror": "PO-7790"}


def test_saving_the_same_value_again_copies_nothing_and_adds_no_history(
    chain_every_switch_on, alice
):
    chain = chain_every_switch_on
    rows = SalesOrder.history.count() + PurchaseOrder.history.count()

    result = update_customer_information(
        order=chain.original, employee=alice, customer_requisition="PO-7781"
    )

    assert result.copied_to == []
    assert result.message == f"{chain.original.number}: no change to the customer information."
    assert SalesOrder.history.count() + PurchaseOrder.history.count() == rows


def test_only_the_field_that_was_edited_is_copied(chain_every_switch_on, admin, alice, jonas):
    chain = chain_every_switch_on
    # Jonas's reference stays on the intercompany sales order while the seller's switch is off.
    update_trading_relationship(
        relationship=chain.relationship, employee=admin,
        sales_policy_syncs_intercompany_purchase_order=False,
    )
    update_customer_information(order=chain.mirror, employee=jonas, customer_reference="DE-ref")

    update_customer_information(order=chain.original, employee=alice, customer_requisition="PO-2")

    assert chain.values() == dict.fromkeys(ThreeLeggedChain.ROLES, "PO-2")
    assert chain.values("customer_reference") == {
        "original": "Fabrikam spring", "purchase": "Fabrikam spring", "mirror": "DE-ref",
    }


def test_editing_both_fields_at_once_copies_both(chain_every_switch_on, alice):
    chain = chain_every_switch_on

    update_customer_information(
        order=chain.original, employee=alice,
        customer_reference="Fabrikam summer", customer_requisition="PO-8000",
    )

    assert chain.values() == dict.fromkeys(ThreeLeggedChain.ROLES, "PO-8000")
    assert chain.values("customer_reference") == dict.fromkeys(
        ThreeLeggedChain.ROLES, "Fabrikam summer"
    )


def test_each_edit_bumps_the_version_of_every_order_it_reached_once(chain_every_switch_on, jonas):
    chain = chain_every_switch_on
    before = {role: chain.fresh(role).version for role in ThreeLeggedChain.ROLES}

    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-1")

    assert {role: chain.fresh(role).version for role in ThreeLeggedChain.ROLES} == {
        role: version + 1 for role, version in before.items()
    }


def test_a_clerk_cannot_edit_an_order_of_a_company_they_do_not_work_for(
    chain_every_switch_on, jonas
):
    from intercompany.exceptions import NotAllowedError

    chain = chain_every_switch_on

    with pytest.raises(NotAllowedError):
        update_customer_information(
            order=chain.original, employee=jonas, customer_requisition="PO-1"
        )

    assert chain.values() == dict.fromkeys(ThreeLeggedChain.ROLES, "PO-7781")


def test_a_copy_keeps_who_set_a_field_the_target_already_held(alice, jonas, usmf, demf,
                                                              external_customer):
    """Alice edits both fields; the intercompany PO already holds her requisition's value, set by
    DEMF. Only the reference is copied there, so DEMF stays the setter of the requisition."""
    from orders.services import update_customer_information
    from tests.conftest import make_relationship, make_three_legged_chain

    relationship = make_relationship(
        usmf, demf, purchase_policy_syncs_original_sales_order=False,
        sales_policy_syncs_intercompany_purchase_order=True,
    )
    chain = make_three_legged_chain(employee=alice, relationship=relationship,
                                    customer=external_customer)
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-1")
    from intercompany.services import update_trading_relationship

    update_trading_relationship(relationship=relationship, employee=None,
                                purchase_policy_syncs_original_sales_order=True)

    result = update_customer_information(
        order=chain.original, employee=alice, customer_reference="Spring",
        customer_requisition="PO-1",
    )

    purchase = chain.fresh("purchase")
    assert purchase.customer_reference == "Spring"
    assert purchase.customer_reference_set_for == usmf
    assert purchase.customer_requisition_set_for == demf
    assert purchase.customer_requisition_set_by == jonas
    assert chain.purchase.pk in {o.pk for o in result.copied_to if o.order_type == "purchase"}
