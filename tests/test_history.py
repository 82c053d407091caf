"""History: who changed what, for which company, how, and who overwrote whose value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from intercompany.services import update_trading_relationship
from orders.history import (
    Setter,
    cross_company_overwrites,
    customer_information_timeline,
    order_history,
)
from orders.services import cancel_order, create_sales_order, update_customer_information
from tests.conftest import EVERY_SWITCH_ON, make_relationship, make_three_legged_chain


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )


def latest(order):
    return order.history.order_by("-history_date", "-history_id").first()


def attribution(row):
    return (
        row.history_user, row.history_company, row.history_kind,
        row.history_source_number, row.history_source_role,
    )


def alice_setter(alice, usmf):
    return Setter(alice.pk, "Alice Martin", usmf.pk, "USMF")


# -- attribution ---------------------------------------------------------------------------------


def test_creating_a_chain_records_who_created_each_order_and_from_which(chain, alice, usmf):
    assert [attribution(row) for row in chain.fresh("original").history.all()] == [
        (alice, usmf, "created", "", ""),
    ]
    assert [attribution(row) for row in chain.fresh("purchase").history.all()] == [
        (alice, usmf, "created", chain.original.number, "original sales order"),
    ]
    assert [attribution(row) for row in chain.fresh("mirror").history.all()] == [
        (alice, usmf, "created", chain.purchase.number, "intercompany purchase order"),
    ]


def test_a_direct_edit_and_each_copy_name_the_employee_the_company_and_the_source(
    chain, jonas, demf
):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    assert attribution(latest(chain.fresh("mirror"))) == (jonas, demf, "edited", "", "")
    for role in ("purchase", "original"):
        row = latest(chain.fresh(role))
        assert attribution(row) == (
            jonas, demf, "synced", chain.mirror.number, "intercompany sales order"
        ), role
        assert (row.history_source_type, row.history_source_id) == ("sales", chain.mirror.pk)
        assert row.history_source_company_id == demf.pk
        assert row.customer_requisition == "PO-7790"
        assert row.customer_requisition_set_by == jonas
        assert row.customer_requisition_set_for_id == demf.pk


def test_every_order_gets_exactly_one_history_row_per_edit_it_received(chain, alice):
    before = {r: chain.fresh(r).history.count() for r in chain.ROLES}

    update_customer_information(order=chain.purchase, employee=alice, customer_requisition="P2")

    assert {r: chain.fresh(r).history.count() for r in chain.ROLES} == {
        r: n + 1 for r, n in before.items()
    }
    assert attribution(latest(chain.fresh("mirror")))[2:] == (
        "synced", chain.purchase.number, "intercompany purchase order"
    )


def test_a_copy_and_its_edit_carry_the_same_time(chain, jonas):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    edit = latest(chain.fresh("mirror")).history_date
    copies = {latest(chain.fresh(r)).history_date for r in ("purchase", "original")}
    assert all(abs(copy - edit) < dt.timedelta(seconds=5) for copy in copies)
    assert len(copies) == 1


def test_cancelling_is_recorded_as_an_edit_of_the_status(chain, alice, usmf):
    cancel_order(order=chain.purchase, employee=alice)

    entry = order_history(order=chain.fresh("purchase"))[0]
    assert (entry.kind, entry.by, entry.how) == (
        "edited", Setter(alice.pk, "Alice Martin", usmf.pk, "USMF"), "edited here"
    )
    assert [(c.field, c.old, c.new) for c in entry.changes] == [("status", "open", "cancelled")]


def test_saving_an_order_again_after_a_service_is_recorded_as_a_new_edit(
    alice, usmf, external_customer
):
    # E.g. a script or the shell saving the order a service returned: no request user, and the
    # creation's attribution must not be reused.
    order = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_reference="R1"
    )
    order.customer_reference = "R2"

    order.save()

    assert attribution(latest(order)) == (None, usmf, "edited", "", "")
    stored = type(order).objects.get(pk=order.pk)
    assert (stored.customer_reference_set_by, stored.customer_reference_set_for) == (None, usmf)


# -- order history and timeline ----------------------------------------------------------------


def test_order_history_shows_whose_value_a_copy_overwrote(chain, alice, jonas, usmf):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    entries = order_history(order=chain.fresh("original"))

    assert [e.kind for e in entries] == ["synced", "created"]
    copy = entries[0]
    assert copy.by == Setter(jonas.pk, "Jonas Weber", chain.mirror.company_id, "DEMF")
    assert copy.how == f"copied from intercompany sales order {chain.mirror.number}"
    (change,) = copy.changes
    assert (change.field, change.label, change.old, change.new) == (
        "customer_requisition", "Customer requisition", "PO-7781", "PO-7790"
    )
    assert change.overwrote == alice_setter(alice, usmf)
    assert entries[1].how == "created here"
    assert [(c.field, c.old, c.new, c.overwrote) for c in entries[1].changes] == [
        ("customer_requisition", "", "PO-7781", None),
        # The original sales order's customer, as its original customer (issue 10).
        ("original_customer_account", "", chain.original.customer.account, None),
        ("original_customer_name", "", chain.original.customer.name, None),
    ]


def test_an_edit_of_ones_own_companys_value_is_not_an_overwrite(chain, alice):
    update_customer_information(order=chain.original, employee=alice, customer_requisition="P2")

    (change,) = order_history(order=chain.fresh("original"))[0].changes
    assert (change.old, change.new, change.overwrote) == ("PO-7781", "P2", None)
    assert cross_company_overwrites() == []


def test_the_timeline_lists_each_value_with_who_set_it_and_whom_it_replaced(
    chain, alice, jonas, usmf, demf
):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")
    update_customer_information(order=chain.original, employee=alice, customer_reference="ref")
    update_customer_information(order=chain.original, employee=alice, customer_requisition="P3")

    timeline = customer_information_timeline(
        order=chain.fresh("purchase"), field="customer_requisition"
    )

    jonas_setter = Setter(jonas.pk, "Jonas Weber", demf.pk, "DEMF")
    assert [(t.value, t.previous_value, t.set_by, t.kind, t.source_number, t.overwrote)
            for t in timeline] == [
        ("PO-7781", "", alice_setter(alice, usmf), "created", chain.original.number, None),
        ("PO-7790", "PO-7781", jonas_setter, "synced", chain.mirror.number,
         alice_setter(alice, usmf)),
        ("P3", "PO-7790", alice_setter(alice, usmf), "synced", chain.original.number,
         jonas_setter),
    ]


def test_the_timeline_refuses_a_field_that_is_not_customer_information(chain):
    with pytest.raises(ValueError, match="status is not a customer-information field"):
        customer_information_timeline(order=chain.original, field="status")


# -- cross-company overwrites ------------------------------------------------------------------


def test_an_edit_by_another_company_is_found_as_an_overwrite_on_every_order_it_reached(
    chain, alice, jonas, usmf, demf
):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    found = cross_company_overwrites()

    assert sorted((o.order_number, o.kind) for o in found) == sorted([
        (chain.mirror.number, "edited"),
        (chain.purchase.number, "synced"),
        (chain.original.number, "synced"),
    ])
    for overwrite in found:
        assert (overwrite.field, overwrite.old_value, overwrite.new_value) == (
            "customer_requisition", "PO-7781", "PO-7790"
        )
        assert overwrite.old_setter == alice_setter(alice, usmf)
        assert overwrite.new_setter == Setter(jonas.pk, "Jonas Weber", demf.pk, "DEMF")
    on_original = next(o for o in found if o.order_number == chain.original.number)
    assert on_original.describe().startswith(
        "customer requisition `PO-7781` (set by Alice Martin, USMF) was overwritten by "
        f"`PO-7790` by Jonas Weber, DEMF, via intercompany sales order {chain.mirror.number}, "
    )
    on_mirror = next(o for o in found if o.order_number == chain.mirror.number)
    assert "via" not in on_mirror.describe()
    assert f"on {chain.mirror.number}, " in on_mirror.describe()


def test_overwrites_are_listed_newest_first_and_can_be_limited(chain, alice, jonas):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="DE-1")
    update_customer_information(order=chain.original, employee=alice, customer_requisition="US-2")

    found = cross_company_overwrites()

    assert [o.new_value for o in found] == ["US-2"] * 3 + ["DE-1"] * 3
    assert [o.new_value for o in cross_company_overwrites(limit=2)] == ["US-2", "US-2"]


def test_overwrites_can_be_filtered_by_company_other_company_and_field(
    chain, jonas, usmf, demf, gbsi
):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="DE-1")

    on_usmf = cross_company_overwrites(company=usmf)
    assert sorted(o.order_number for o in on_usmf) == sorted(
        [chain.original.number, chain.purchase.number]
    )
    assert all(o.order_company_code == "USMF" for o in on_usmf)
    assert [o.order_number for o in cross_company_overwrites(company=demf)] == [
        chain.mirror.number
    ]
    assert len(cross_company_overwrites(other_company=demf)) == 3
    assert len(cross_company_overwrites(other_company=usmf)) == 3
    assert cross_company_overwrites(other_company=gbsi) == []
    assert cross_company_overwrites(company=gbsi) == []
    assert len(cross_company_overwrites(field="customer_requisition")) == 3
    assert cross_company_overwrites(field="customer_reference") == []


def test_an_unknown_field_is_refused(chain):
    with pytest.raises(ValueError, match="not a customer-information field"):
        cross_company_overwrites(field="number")


def test_a_date_filter_does_not_hide_the_value_set_before_the_range(chain, alice, jonas, usmf):
    # Alice's value PO-7781 was set before ``since``: the overwrite must still say what it
    # replaced and whose it was.
    since = timezone.now()
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")
    until = timezone.now()

    found = cross_company_overwrites(since=since)
    assert len(found) == 3
    assert {(o.old_value, o.old_setter) for o in found} == {
        ("PO-7781", alice_setter(alice, usmf))
    }
    assert len(cross_company_overwrites(since=since, until=until)) == 3
    assert cross_company_overwrites(until=since) == []
    assert cross_company_overwrites(since=until) == []


def test_a_date_filter_together_with_a_company_filter_keeps_the_previous_value(
    chain, alice, jonas, usmf
):
    update_customer_information(order=chain.original, employee=alice, customer_reference="R1")
    since = timezone.now()
    update_customer_information(order=chain.mirror, employee=jonas, customer_reference="R2")

    found = cross_company_overwrites(
        company=usmf, other_company=usmf, field="customer_reference", since=since
    )

    assert sorted(o.order_number for o in found) == sorted(
        [chain.original.number, chain.purchase.number]
    )
    assert {(o.old_value, o.old_setter, o.new_value) for o in found} == {
        ("R1", alice_setter(alice, usmf), "R2")
    }


def test_overwriting_an_empty_value_is_not_an_overwrite(
    alice, jonas, usmf, demf, external_customer
):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    chain = make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer
    )

    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="DE-1")

    assert chain.values() == dict.fromkeys(chain.ROLES, "DE-1")
    assert cross_company_overwrites() == []


# -- trading relationship history --------------------------------------------------------------


def test_a_switch_change_is_recorded_with_the_employee_and_the_company_whose_policy_changed(
    admin, usmf, demf, relationship
):
    update_trading_relationship(
        relationship=relationship, employee=admin,
        sales_policy_syncs_intercompany_purchase_order=True,
    )
    update_trading_relationship(
        relationship=relationship, employee=admin,
        purchase_policy_syncs_intercompany_sales_order=False,
    )

    rows = list(relationship.history.order_by("history_date", "history_id"))
    assert [(r.history_kind, r.history_user, r.history_company) for r in rows] == [
        ("created", None, None),
        ("edited", admin, demf),
        ("edited", admin, usmf),
    ]
    assert (rows[1].sales_policy_syncs_intercompany_purchase_order,
            rows[1].purchase_policy_syncs_intercompany_sales_order) == (True, True)
    assert (rows[2].sales_policy_syncs_intercompany_purchase_order,
            rows[2].purchase_policy_syncs_intercompany_sales_order) == (True, False)


def test_switches_of_both_companies_or_the_active_switch_name_no_single_company(
    admin, relationship
):
    update_trading_relationship(
        relationship=relationship, employee=admin,
        purchase_policy_syncs_original_sales_order=False,
        sales_policy_syncs_intercompany_purchase_order=True,
    )
    update_trading_relationship(relationship=relationship, employee=admin, active=False)

    rows = list(relationship.history.order_by("-history_date", "-history_id")[:2])
    assert [(r.history_user, r.history_company, r.active) for r in rows] == [
        (admin, None, False),
        (admin, None, True),
    ]


def test_setting_a_switch_to_its_current_value_records_nothing(admin, relationship):
    before = relationship.history.count()

    update_trading_relationship(
        relationship=relationship, employee=admin, purchase_policy_syncs_original_sales_order=True
    )

    assert relationship.history.count() == before
