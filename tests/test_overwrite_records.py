"""Overwrite records: each cross-company overwrite stored when it happens, in its transaction."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction

from intercompany.services import update_trading_relationship
from orders.domain_signals import overwrites_recorded
from orders.models import OverwriteRecord, SalesOrder
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
)
from tests.overwrite_reconstruction import reconstructed_overwrites

SWITCHES = tuple(EVERY_SWITCH_ON)


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_requisition="PO-7781",
    )


@pytest.fixture
def received():
    """The ``records`` of every ``overwrites_recorded`` signal sent during the test."""
    batches = []

    def listen(sender, records, **kwargs):
        batches.append((sender, list(records)))

    overwrites_recorded.connect(listen, dispatch_uid="test_overwrite_records")
    yield batches
    overwrites_recorded.disconnect(dispatch_uid="test_overwrite_records")


def as_tuple(record: OverwriteRecord):
    return (
        record.order_number, record.field, record.old_value, record.old_set_by_id,
        record.old_set_for_id, record.new_value, record.new_set_by_id, record.new_set_for_id,
        record.kind, record.source_number,
    )


def test_an_edit_from_the_seller_records_one_overwrite_on_every_order_it_reached(
    chain, alice, jonas, usmf, demf, received
):
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    records = sorted(OverwriteRecord.objects.all(), key=lambda r: r.order_number)
    assert [as_tuple(r) for r in records] == sorted(
        [
            (chain.mirror.number, "customer_requisition", "PO-7781", alice.pk, usmf.pk,
             "PO-7790", jonas.pk, demf.pk, "edited", ""),
            (chain.purchase.number, "customer_requisition", "PO-7781", alice.pk, usmf.pk,
             "PO-7790", jonas.pk, demf.pk, "synced", chain.mirror.number),
            (chain.original.number, "customer_requisition", "PO-7781", alice.pk, usmf.pk,
             "PO-7790", jonas.pk, demf.pk, "synced", chain.mirror.number),
        ]
    )
    # Each record points to the history row of its order that made the overwrite.
    for record in records:
        order = chain.fresh({chain.original.number: "original", chain.purchase.number:
                             "purchase", chain.mirror.number: "mirror"}[record.order_number])
        row = order.history.get(history_id=record.history_id)
        assert (row.customer_requisition, row.history_date) == ("PO-7790", record.at)
        assert record.order_company_id == order.company_id
        assert (record.order_type, record.order_id) == (order.order_type, order.pk)
    # One signal for the save, with the saved rows.
    assert len(received) == 1
    sender, sent = received[0]
    assert sender is OverwriteRecord
    assert sorted(r.pk for r in sent) == sorted(r.pk for r in records)


def test_an_edit_within_one_company_records_nothing_and_sends_nothing(chain, alice, received):
    update_customer_information(order=chain.original, employee=alice, customer_requisition="X-1")
    update_customer_information(order=chain.purchase, employee=alice, customer_reference="Ref")

    assert OverwriteRecord.objects.count() == 0
    assert received == []


def test_filling_an_empty_value_is_not_an_overwrite(alice, jonas, usmf, demf, external_customer,
                                                    received):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    chain = make_three_legged_chain(employee=alice, relationship=relationship,
                                    customer=external_customer)
    update_customer_information(order=chain.mirror, employee=jonas, customer_reference="Spring")

    assert OverwriteRecord.objects.count() == 0
    assert received == []


def test_a_failing_listener_rolls_back_the_edit_its_copies_and_the_records(chain, jonas):
    def refuse(sender, records, **kwargs):
        raise RuntimeError("listener failed")

    overwrites_recorded.connect(refuse, dispatch_uid="test_refuse")
    try:
        with pytest.raises(RuntimeError):
            update_customer_information(
                order=chain.mirror, employee=jonas, customer_requisition="PO-7790"
            )
    finally:
        overwrites_recorded.disconnect(dispatch_uid="test_refuse")

    assert chain.values() == {"original": "PO-7781", "purchase": "PO-7781", "mirror": "PO-7781"}
    assert OverwriteRecord.objects.count() == 0


def test_records_roll_back_with_the_transaction_that_made_them(chain, jonas):
    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        update_customer_information(
            order=chain.mirror, employee=jonas, customer_requisition="PO-7790"
        )
        assert OverwriteRecord.objects.count() == 3
        raise Abandoned

    assert OverwriteRecord.objects.count() == 0


# -- the records equal what the history says, on a varied history -------------------------------


def build_varied_history(*, usmf, demf, gbsi, alice, jonas, olga, admin):
    """Every switch combination on USMF buys from DEMF (and a rotating one on DEMF buys from
    GBSI), A → B → C chains, two-legged chains from both ends, edits from each company and by
    an employee of two companies, reverts, clearing, cancellations and switch changes between
    edits."""
    sam = make_employee("sam", usmf, demf, first="Sam", last="Okafor")
    customer = make_customer(usmf, "US-100", "Fabrikam")
    usmf_demf = make_relationship(usmf, demf)
    demf_gbsi = make_relationship(demf, gbsi)
    combinations = list(itertools.product((False, True), repeat=3))
    values = (f"V-{n}" for n in itertools.count())

    def edit(order, employee, **fields):
        order = type(order).objects.get(pk=order.pk)
        update_customer_information(order=order, employee=employee, **fields)

    def switch(relationship, combination):
        update_trading_relationship(
            relationship=relationship,
            employee=admin,
            **dict(zip(SWITCHES, combination, strict=True)),
        )

    for index, combination in enumerate(combinations):
        switch(usmf_demf, combination)
        switch(demf_gbsi, combinations[(index * 3 + 1) % 8])
        chain = make_three_legged_chain(
            employee=alice, relationship=usmf_demf, customer=customer,
            customer_reference=f"Ref {index}", customer_requisition=next(values),
        )
        # A → B → C: DEMF sources its intercompany sales order from GBSI.
        demf_po = create_intercompany_purchase_order(
            employee=jonas, sales_order=chain.mirror, vendor=demf_gbsi.intercompany_vendor
        )
        gbsi_so = SalesOrder.objects.get(intercompany_purchase_order=demf_po)
        edit(chain.mirror, jonas, customer_requisition=next(values))
        edit(gbsi_so, olga, customer_requisition=next(values), customer_reference="GB ref")
        edit(chain.original, alice, customer_requisition=next(values))
        edit(demf_po, sam, customer_reference="Sam's ref")
        edit(chain.purchase, sam, customer_requisition=next(values))
        edit(chain.mirror, admin, customer_requisition="")  # cleared by a superuser
        edit(gbsi_so, olga, customer_requisition=next(values))
        # Switches change between edits: they govern only what follows.
        switch(usmf_demf, combinations[(index + 5) % 8])
        edit(chain.original, alice, customer_reference="Back to USMF")
        edit(chain.mirror, jonas, customer_reference="Ref back", customer_requisition="R-1")
        edit(chain.original, alice, customer_requisition="R-1")  # the same value: no copy
        if index % 3 == 0:
            cancel_order(order=chain.purchase, employee=alice)
        elif index % 3 == 1:
            cancel_order(order=demf_po, employee=jonas)
        edit(chain.mirror, jonas, customer_requisition=next(values))
        edit(gbsi_so, olga, customer_reference="After cancel")
        edit(chain.original, alice, customer_requisition=next(values))
    # Two-legged chains, created from either end, edited from both.
    switch(demf_gbsi, (True, True, True))
    po = create_purchase_order(
        employee=jonas, company=demf, vendor=demf_gbsi.intercompany_vendor,
        customer_requisition="DE-1",
    )
    edit(SalesOrder.objects.get(intercompany_purchase_order=po), olga, customer_requisition="GB-1")
    edit(po, jonas, customer_requisition="DE-2")
    so = create_sales_order(
        employee=olga, company=gbsi, customer=demf_gbsi.intercompany_customer,
        customer_reference="From GBSI",
    )
    edit(so.intercompany_purchase_order, jonas, customer_reference="From DEMF")
    edit(so, olga, customer_reference="GBSI again")


def test_records_equal_the_overwrites_the_history_shows_on_a_varied_history(
    usmf, demf, gbsi, alice, jonas, olga, admin
):
    build_varied_history(
        usmf=usmf, demf=demf, gbsi=gbsi, alice=alice, jonas=jonas, olga=olga, admin=admin
    )

    expected = reconstructed_overwrites()
    recorded = sorted(
        (
            r.order_type, r.order_id, r.history_id, r.field, r.old_value, r.old_set_by_id,
            r.old_set_for_id, r.new_value, r.new_set_by_id, r.new_set_for_id, r.at, r.kind,
            r.source_type, r.source_id, r.source_number, r.source_role, r.order_number,
            r.order_company_id,
        )
        for r in OverwriteRecord.objects.all()
    )
    # The history is varied enough to hold overwrites by a copy and by an edit, on every
    # company's orders, of both fields.
    assert {row[11] for row in expected} == {"edited", "synced"}
    assert {row[17] for row in expected} == {usmf.pk, demf.pk, gbsi.pk}
    assert {row[3] for row in expected} == {"customer_reference", "customer_requisition"}
    assert len(expected) > 40
    assert recorded == expected


def test_the_data_migration_creates_the_records_of_the_history_already_there(
    usmf, demf, gbsi, alice, jonas, olga, admin
):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    build_varied_history(
        usmf=usmf, demf=demf, gbsi=gbsi, alice=alice, jonas=jonas, olga=olga, admin=admin
    )
    recorded_live = sorted(
        OverwriteRecord.objects.values_list(
            "order_type", "order_id", "history_id", "field", "old_value", "old_set_by_id",
            "old_set_for_id", "new_value", "new_set_by_id", "new_set_for_id", "at", "kind",
            "source_type", "source_id", "source_number", "source_role", "order_number",
            "order_company_id",
        )
    )
    OverwriteRecord.objects.all().delete()  # as before the records existed
    migration = importlib.import_module("orders.migrations.0003_issue8_records_backfill_overwrites")
    # The migration only needs the editor's connection (SQLite's editor refuses to open inside
    # the test's transaction).
    migration.backfill_overwrite_records(apps, SimpleNamespace(connection=connection))

    backfilled = sorted(
        OverwriteRecord.objects.values_list(
            "order_type", "order_id", "history_id", "field", "old_value", "old_set_by_id",
            "old_set_for_id", "new_value", "new_set_by_id", "new_set_for_id", "at", "kind",
            "source_type", "source_id", "source_number", "source_role", "order_number",
            "order_company_id",
        )
    )
    assert backfilled == recorded_live == reconstructed_overwrites()
    assert len(backfilled) > 40


def test_overwrite_records_reads_the_page_in_one_query_newest_first_with_its_filters(
    chain, alice, jonas, usmf, demf, gbsi, django_assert_num_queries
):
    from django.utils import timezone

    from orders.history import Overwrite, overwrite_records

    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-2")
    update_customer_information(order=chain.original, employee=alice, customer_reference="R")
    update_customer_information(order=chain.mirror, employee=jonas, customer_reference="R-2")
    records = overwrite_records(company=usmf)
    with django_assert_num_queries(1):
        shown = [Overwrite.from_record(record) for record in records.iterator(chunk_size=100)]
    listed = [(o.order_number, o.field, o.old_value, o.new_value) for o in shown]
    # Newest first; the copies of one edit share its time.
    assert set(listed[:2]) == {
        (chain.purchase.number, "customer_reference", "R", "R-2"),
        (chain.original.number, "customer_reference", "R", "R-2"),
    }
    assert set(listed[2:]) == {
        (chain.purchase.number, "customer_requisition", "PO-7781", "PO-2"),
        (chain.original.number, "customer_requisition", "PO-7781", "PO-2"),
    }
    assert [(o.at, o.record_id) for o in shown] == sorted(
        ((o.at, o.record_id) for o in shown), reverse=True
    )
    assert str(shown[0].old_setter) == "Alice Martin (USMF)"
    assert str(shown[0].new_setter) == "Jonas Weber (DEMF)"
    assert shown[0].how == f"copied from intercompany sales order {chain.mirror.number}"
    assert overwrite_records(company=demf).count() == 2
    assert overwrite_records(company=usmf, field="customer_reference").count() == 2
    assert overwrite_records(company=usmf, other_company=gbsi).count() == 0
    assert overwrite_records(company=usmf, other_company=demf).count() == 4
    assert overwrite_records(since=timezone.now()).count() == 0
    assert overwrite_records(until=timezone.now()).count() == 6
