"""``manage.py load_demo``: a realistic demo group, loaded once however often it runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from orders.history import cross_company_overwrites
from orders.management.commands.load_demo import DEMO_EMPLOYEES
from orders.models import NumberSequence, OrderChain, OrderStatus, PurchaseOrder, SalesOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def database_state():
    """Every row the command may write, as comparable values."""
    state = {}
    for model in (Company, Customer, Vendor, TradingRelationship, NumberSequence, OrderChain):
        state[model.__name__] = sorted(model.objects.values_list(flat=False))
    state["employees"] = sorted(
        Employee.objects.values_list("username", "password", "is_staff", "is_superuser")
    )
    state["memberships"] = sorted(Employee.companies.through.objects.values_list())
    for model in (SalesOrder, PurchaseOrder):
        state[model.__name__] = sorted(model.objects.values_list())
        state[f"{model.__name__} history"] = sorted(
            model.history.values_list("history_id", flat=True)
        )
    state["relationship history"] = sorted(
        TradingRelationship.history.values_list("history_id", flat=True)
    )
    return state


def test_running_load_demo_twice_changes_nothing_and_duplicates_nothing():
    load_demo()
    first = database_state()

    output = load_demo()

    assert database_state() == first
    assert "already loaded" in output
    assert Company.objects.count() == 3
    assert SalesOrder.objects.count() + PurchaseOrder.objects.count() >= 24


def test_demo_logins_work_with_the_printed_passwords(rf):
    output = load_demo()

    for spec in DEMO_EMPLOYEES:
        assert f"{spec.username}" in output and spec.password in output
        request = rf.post("/admin/login/")
        employee = authenticate(request, username=spec.username, password=spec.password)
        assert employee is not None, spec.username
        assert {c.code for c in employee.companies.all()} == set(spec.companies)
    admin = Employee.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert authenticate(rf.post("/"), username="alice", password="demo-alice-2026") is not None
    sam = Employee.objects.get(username="sam")
    assert {c.code for c in sam.companies.all()} == {"USMF", "DEMF"}


def test_demo_relationships_have_different_switches_and_one_is_inactive():
    load_demo()

    def relationship(buyer, seller):
        return TradingRelationship.objects.get(
            buying_company__code=buyer, selling_company__code=seller
        )

    every_switch = relationship("USMF", "DEMF")
    assert every_switch.active
    assert all(getattr(every_switch, name) for name in TradingRelationship.POLICY_FIELDS)
    seller_only = relationship("DEMF", "GBSI")
    assert not seller_only.purchase_policy_syncs_original_sales_order
    assert seller_only.sales_policy_syncs_intercompany_purchase_order
    assert not relationship("GBSI", "USMF").active


def test_demo_has_a_three_legged_chain_and_an_a_to_b_to_c_chain():
    load_demo()

    three_legs = PurchaseOrder.objects.filter(
        origin_sales_order__intercompany_purchase_order__isnull=True,
        origin_sales_order__isnull=False,
        intercompany_sales_order__isnull=False,
    )
    assert three_legs.exists()
    # A -> B -> C: a purchase order sourcing an intercompany sales order, itself sourced from
    # an original sales order.
    a_to_b_to_c = PurchaseOrder.objects.get(
        origin_sales_order__intercompany_purchase_order__origin_sales_order__isnull=False
    )
    original = a_to_b_to_c.origin_sales_order.intercompany_purchase_order.origin_sales_order
    assert original.company.code == "USMF"
    assert a_to_b_to_c.company.code == "DEMF"
    assert a_to_b_to_c.intercompany_sales_order.company.code == "GBSI"
    assert a_to_b_to_c.chain_id == original.chain_id
    # One original sales order sourcing from two intercompany vendors.
    assert any(so.intercompany_purchase_orders.count() == 2 for so in SalesOrder.objects.all())
    assert SalesOrder.objects.filter(status=OrderStatus.CANCELLED).exists()


def test_demo_history_shows_jonas_overwriting_alices_requisition_on_every_order():
    output = load_demo()

    overwrites = cross_company_overwrites()
    assert f"cross-company overwrites   {len(overwrites)}" in output
    jonas_over_alice = [
        o for o in overwrites
        if o.field == "customer_requisition"
        and o.old_setter.employee_name == "Alice Martin"
        and o.new_setter.employee_name == "Jonas Weber"
        and (o.old_value, o.new_value) == ("PO-7781", "PO-7790")
    ]
    # The intercompany sales order he edited, and the two orders the sync copied it to.
    assert {o.order_company_code for o in jonas_over_alice} == {"DEMF", "USMF"}
    assert len(jonas_over_alice) == 3
    dates = sorted(o.at for o in overwrites)
    assert dates[0].date() != dates[-1].date(), "history dates are spread over several days"


def test_load_demo_reuses_existing_companies_accounts_and_employees(
    usmf, external_customer, alice, rf
):
    output = load_demo()

    assert Company.objects.filter(code="USMF").count() == 1
    assert Customer.objects.filter(company=usmf, account=external_customer.account).count() == 1
    # An existing employee keeps her password: the command does not reset anyone's.
    request = rf.post("/admin/login/")
    assert authenticate(request, username="alice", password="correct-horse-battery") is not None
    assert authenticate(request, username="alice", password="demo-alice-2026") is None
    assert "alice exists with another password" in output


def test_the_demo_leaves_unread_alerts_for_every_demo_clerk():
    from alerts.selectors import unread_alert_count

    load_demo()

    for username in ("alice", "jonas", "priya", "sam"):
        employee = Employee.objects.get(username=username)
        assert unread_alert_count(employee) >= 1, username
        assert employee.email  # so that the demo worker prints their alert emails
