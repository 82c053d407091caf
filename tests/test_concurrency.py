"""Two companies working on one chain at the same moment: no half-synced chain, no lost edit or
history, no deadlock; and a form opened before someone else's change never erases it."""

from __future__ import annotations

import pytest

from orders.exceptions import StaleOrderError
from orders.models import OrderChain, PurchaseOrder, SalesOrder
from orders.services import (
    cancel_order,
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)
from tests.conftest import (
    EVERY_SWITCH_ON,
    make_employee,
    make_relationship,
    make_three_legged_chain,
    run_in_threads,
)

ROUNDS = 40


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )


def requisitions_in_history(order) -> list[str]:
    """The requisitions ``order`` received after its creation, in the order they were written."""
    return list(
        order.history.exclude(history_kind="created")
        .order_by("history_id")
        .values_list("customer_requisition", flat=True)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "usmf_edits", ["original", "purchase"], ids=["usmf-edits-original", "usmf-edits-purchase"]
)
def test_two_companies_editing_one_chain_at_once_leave_every_order_with_the_last_edit(
    chain, alice, jonas, usmf_edits
):
    sides = [(alice, usmf_edits, "US"), (jonas, "mirror", "DE")]
    results = [[], []]

    def work(index, barrier):
        clerk, role, prefix = sides[index]
        order = chain.fresh(role)
        for n in range(ROUNDS):
            barrier.wait()
            results[index].append(
                update_customer_information(
                    order=order, employee=clerk, customer_requisition=f"{prefix}-{n:02d}"
                )
            )

    errors = run_in_threads(2, work)

    assert errors == []
    # Every order holds one value: the edit committed last (the chain lock orders the commits,
    # and with them the times and ids of the history rows).
    values = chain.values()
    assert len(set(values.values())) == 1, values
    edited_rows = sorted(
        [
            (row.history_date, row.customer_requisition)
            for role in {usmf_edits, "mirror"}
            for row in chain.fresh(role).history.filter(history_kind="edited")
        ]
    )
    assert len(edited_rows) == 2 * ROUNDS
    assert values["original"] == edited_rows[-1][1]

    # Every committed edit reached every order, in the same sequence everywhere.
    sequences = {role: requisitions_in_history(chain.fresh(role)) for role in chain.ROLES}
    assert len(sequences["original"]) == 2 * ROUNDS
    assert sequences["original"] == sequences["purchase"] == sequences["mirror"]
    assert sorted(sequences["original"]) == sorted(
        [f"US-{n:02d}" for n in range(ROUNDS)] + [f"DE-{n:02d}" for n in range(ROUNDS)]
    )
    assert sequences["original"][-1] == values["original"]
    # Each clerk's own edits stay in the order they made them.
    for prefix in ("US", "DE"):
        own = [v for v in sequences["original"] if v.startswith(prefix)]
        assert own == [f"{prefix}-{n:02d}" for n in range(ROUNDS)]
    # No lost update: one version per write, and every edit was copied to both other orders.
    assert {role: chain.fresh(role).version for role in chain.ROLES} == dict.fromkeys(
        chain.ROLES, 1 + 2 * ROUNDS
    )
    assert all(len(result.copied_to) == 2 for side in results for result in side)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clerks_of_two_companies_creating_chains_toward_each_other_at_once_never_deadlock(
    alice, jonas, usmf, demf
):
    # USMF orders from DEMF while DEMF sells to USMF: each creation numbers one order in each
    # company, in opposite orders.
    relationship = make_relationship(usmf, demf)
    rounds = 25

    def work(index, barrier):
        for _ in range(rounds):
            barrier.wait()
            if index == 0:
                create_purchase_order(
                    employee=alice, company=usmf, vendor=relationship.intercompany_vendor
                )
            else:
                create_sales_order(
                    employee=jonas, company=demf, customer=relationship.intercompany_customer
                )

    errors = run_in_threads(2, work)

    assert errors == []
    assert sorted(PurchaseOrder.objects.values_list("number", flat=True)) == [
        f"USMF-PO-{n:06d}" for n in range(1, 2 * rounds + 1)
    ]
    assert sorted(SalesOrder.objects.values_list("number", flat=True)) == [
        f"DEMF-SO-{n:06d}" for n in range(1, 2 * rounds + 1)
    ]
    assert OrderChain.objects.count() == 2 * rounds


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sourcing_one_sales_order_from_two_vendors_while_it_is_edited_gives_one_chain_in_step(
    alice, usmf, demf, gbsi, external_customer
):
    # Two clerks source the same new sales orders, one from DEMF and one from GBSI, while a third
    # edits them: the orders join a chain while the others wait for them.
    from_demf = make_relationship(usmf, demf)
    from_gbsi = make_relationship(usmf, gbsi)
    amir = make_employee("amir", usmf)
    bea = make_employee("bea", usmf)
    originals = [
        create_sales_order(
            employee=alice, company=usmf, customer=external_customer, customer_requisition="P1"
        )
        for _ in range(20)
    ]

    def work(index, barrier):
        for n, original in enumerate(originals):
            barrier.wait()
            original = SalesOrder.objects.get(pk=original.pk)
            if index < 2:
                clerk, relationship = [(alice, from_demf), (amir, from_gbsi)][index]
                create_intercompany_purchase_order(
                    employee=clerk, sales_order=original, vendor=relationship.intercompany_vendor
                )
            else:
                for k in range(3):
                    update_customer_information(
                        order=original, employee=bea, customer_requisition=f"B-{n}-{k}"
                    )

    errors = run_in_threads(3, work)

    assert errors == []
    for n, original in enumerate(originals):
        original = SalesOrder.objects.get(pk=original.pk)
        purchases = PurchaseOrder.objects.filter(origin_sales_order=original)
        mirrors = SalesOrder.objects.filter(intercompany_purchase_order__in=purchases)
        assert purchases.count() == mirrors.count() == 2
        assert {o.chain_id for o in [*purchases, *mirrors]} == {original.chain_id}
        assert original.customer_requisition == f"B-{n}-2"
        assert {o.customer_requisition for o in [*purchases, *mirrors]} == {f"B-{n}-2"}
    assert OrderChain.objects.count() == len(originals)


# -- stale writes (every database) -------------------------------------------------------------


def test_a_form_opened_before_a_colleagues_edit_is_refused_and_nothing_is_saved(
    chain, alice, usmf
):
    colleague = make_employee("amir", usmf, first="Amir", last="Khan")
    opened_at = chain.fresh("original").version
    update_customer_information(order=chain.original, employee=colleague, customer_requisition="C")
    rows = SalesOrder.history.count() + PurchaseOrder.history.count()

    with pytest.raises(StaleOrderError, match="changed by someone else") as refused:
        update_customer_information(
            order=chain.original, employee=alice, customer_requisition="A",
            expected_version=opened_at,
        )

    assert refused.value.current.customer_requisition == "C"
    assert chain.values() == dict.fromkeys(chain.ROLES, "C")
    assert SalesOrder.history.count() + PurchaseOrder.history.count() == rows


def test_a_copy_from_another_company_makes_an_open_form_stale(chain, alice, jonas):
    opened_at = chain.fresh("original").version
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="DE-1")

    with pytest.raises(StaleOrderError):
        update_customer_information(
            order=chain.original, employee=alice, customer_requisition="US-1",
            expected_version=opened_at,
        )

    assert chain.values() == dict.fromkeys(chain.ROLES, "DE-1")


def test_a_form_opened_at_the_current_version_saves(chain, alice):
    opened_at = chain.fresh("original").version

    update_customer_information(
        order=chain.original, employee=alice, customer_requisition="US-1",
        expected_version=opened_at,
    )

    assert chain.values() == dict.fromkeys(chain.ROLES, "US-1")
    assert chain.fresh("original").version == opened_at + 1


# A refused save() rolls back the caller's transaction too (Order.save): run for real.
@pytest.mark.django_db(transaction=True)
def test_an_order_loaded_before_someone_elses_edit_cannot_be_saved_over_it(chain, jonas):
    loaded = chain.fresh("purchase")
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="DE-1")
    loaded.customer_requisition = "US-1"

    with pytest.raises(StaleOrderError):
        loaded.save()

    assert chain.values() == dict.fromkeys(chain.ROLES, "DE-1")


# A refused save() rolls back the caller's transaction too (Order.save): run for real.
@pytest.mark.django_db(transaction=True)
def test_an_order_returned_by_a_service_cannot_be_saved_over_a_later_edit(chain, alice, usmf):
    colleague = make_employee("amir", usmf)
    cancelled = cancel_order(order=chain.original, employee=alice)
    update_customer_information(order=chain.original, employee=colleague, customer_reference="C")
    cancelled.customer_reference = "A"

    with pytest.raises(StaleOrderError):
        cancelled.save()

    assert chain.fresh("original").customer_reference == "C"


def test_an_order_saved_twice_through_its_sync_result_still_syncs_the_second_time(chain, alice):
    result = update_customer_information(
        order=chain.original, employee=alice, customer_requisition="US-1"
    )
    order = result.order
    order.customer_requisition = "US-2"

    order.save()

    assert chain.values() == dict.fromkeys(chain.ROLES, "US-2")
