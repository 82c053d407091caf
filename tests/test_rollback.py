"""An edit lands on every order the rules name, or on none: when any write of the edit or of its
copies fails, every order and every history table is exactly as before and the caller sees the
error."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection

from orders.models import PurchaseOrder, SalesOrder
from orders.services import (
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)
from tests.conftest import EVERY_SWITCH_ON, make_relationship, make_three_legged_chain, order_state

REFUSAL = "refused by the database"


def refuse_in_database(table: str, event: str):
    """Make the database itself refuse every ``event`` (INSERT/UPDATE) on ``table``, with a
    trigger. Returns a function that removes the trigger."""
    name = f"refuse_{table}_{event.lower()}"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
        else:
            cursor.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )

    def remove():
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")

    return remove


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_reference="Fabrikam", customer_requisition="PO-7781",
    )


# The edited order is written first; the failing write comes after at least one other order
# (or history row) was already written in the same transaction.
@pytest.mark.parametrize(
    ("edited", "table", "event"),
    [
        ("mirror", "orders_purchaseorder", "UPDATE"),
        ("mirror", "orders_historicalpurchaseorder", "INSERT"),
        ("original", "orders_historicalsalesorder", "INSERT"),
        ("purchase", "orders_historicalsalesorder", "INSERT"),
        ("purchase", "orders_salesorder", "UPDATE"),
    ],
)
def test_when_the_database_refuses_one_write_of_an_edit_nothing_of_it_is_kept(
    chain, alice, jonas, edited, table, event
):
    before = order_state()
    refuse_in_database(table, event)  # DDL, rolled back with the test's transaction
    clerk = jonas if edited == "mirror" else alice

    with pytest.raises(DatabaseError, match=REFUSAL):
        update_customer_information(
            order=chain.order(edited), employee=clerk,
            customer_reference="Fabrikam autumn", customer_requisition="PO-7790",
        )

    assert order_state() == before
    assert chain.values() == dict.fromkeys(chain.ROLES, "PO-7781")


def test_when_writing_the_second_table_fails_no_order_keeps_the_edit(chain, jonas, monkeypatch):
    from orders import sync

    before = order_state()
    real_write_table = sync._write_table

    def fail_for_purchase_orders(model, group, **kwargs):
        # The edit of the intercompany sales order writes the sales orders first.
        if model is PurchaseOrder:
            raise RuntimeError("purchase orders unavailable")
        return real_write_table(model, group, **kwargs)

    monkeypatch.setattr(sync, "_write_table", fail_for_purchase_orders)

    with pytest.raises(RuntimeError, match="purchase orders unavailable"):
        update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="X")

    assert order_state() == before
    assert chain.fresh("original").customer_requisition == "PO-7781"


def test_after_a_failed_edit_the_chain_syncs_normally_again(chain, jonas):
    remove = refuse_in_database("orders_purchaseorder", "UPDATE")
    with pytest.raises(DatabaseError):
        update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="X")
    remove()

    result = update_customer_information(
        order=chain.mirror, employee=jonas, customer_requisition="PO-7790"
    )

    assert chain.values() == dict.fromkeys(chain.ROLES, "PO-7790")
    assert len(result.copied_to) == 2


def test_a_purchase_order_whose_intercompany_sales_order_cannot_be_written_is_not_created(
    alice, usmf, relationship
):
    before = order_state()
    refuse_in_database("orders_salesorder", "INSERT")

    with pytest.raises(DatabaseError, match=REFUSAL):
        create_purchase_order(
            employee=alice, company=usmf, vendor=relationship.intercompany_vendor,
            customer_requisition="PO-1",
        )

    assert order_state() == before
    assert PurchaseOrder.objects.count() == 0


def test_a_failed_sourcing_leaves_the_sales_order_outside_any_chain(
    alice, usmf, external_customer, relationship
):
    original = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_requisition="PO-1"
    )
    before = order_state()
    refuse_in_database("orders_historicalsalesorder", "INSERT")

    with pytest.raises(DatabaseError, match=REFUSAL):
        create_intercompany_purchase_order(
            employee=alice, sales_order=original, vendor=relationship.intercompany_vendor
        )

    assert order_state() == before
    assert SalesOrder.objects.get(pk=original.pk).chain_id is None


# -- outside the test's transaction: the real commit / rollback ------------------------------


@pytest.fixture
def refusal():
    removers = []
    yield lambda table, event: removers.append(refuse_in_database(table, event))
    for remove in removers:
        remove()


@pytest.mark.django_db(transaction=True)
def test_a_failed_edit_is_rolled_back_for_real(chain, jonas, refusal):
    before = order_state()
    refusal("orders_historicalpurchaseorder", "INSERT")

    with pytest.raises(DatabaseError, match=REFUSAL):
        update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="X")

    assert order_state() == before


@pytest.mark.django_db(transaction=True)
def test_saving_an_order_directly_outside_a_transaction_is_all_or_nothing(chain, refusal):
    # E.g. the admin or a shell: Order.save() wraps the save and its copies in one transaction.
    before = order_state()
    refusal("orders_purchaseorder", "UPDATE")
    mirror = chain.fresh("mirror")
    mirror.customer_requisition = "X"

    with pytest.raises(DatabaseError, match=REFUSAL):
        mirror.save()

    assert order_state() == before
