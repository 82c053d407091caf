"""In-app alerts: who is told that another company overwrote their value, and where they see it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from alerts.models import Alert, AlertPreference, EmailChoice
from alerts.selectors import unread_alert_count
from orders.services import create_intercompany_purchase_order, update_customer_information
from tests.conftest import EVERY_SWITCH_ON, make_customer, make_employee, make_relationship
from tests.fixtures_web import make_chain

pytestmark = pytest.mark.django_db


def edit(order, employee, **values):
    order.refresh_from_db()
    return update_customer_information(order=order, employee=employee, **values)


def alerts_of(employee) -> list[tuple[str, str, str, str]]:
    return sorted(
        (a.overwrite.order_number, a.overwrite.field, a.overwrite.old_value,
         a.overwrite.new_value)
        for a in Alert.objects.filter(recipient=employee).select_related("overwrite")
    )


# -- who gets an alert ----------------------------------------------------------------------------


def test_a_direct_edit_overwriting_anothers_value_alerts_its_owner(chain_all_on, alice, jonas):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")

    # Her value was replaced on all three orders; she works for USMF only, so she is told
    # about USMF's two (DEMF's order is not hers to see).
    assert alerts_of(alice) == sorted([
        (chain_all_on.purchase.number, "customer_requisition", "PO-7781", "PO-7790"),
        (chain_all_on.original.number, "customer_requisition", "PO-7781", "PO-7790"),
    ])
    assert unread_alert_count(alice) == 2
    assert alerts_of(jonas) == []  # none for the employee who overwrote


def test_a_synced_copy_overwriting_anothers_value_alerts_its_owner(usmf, demf, alice, jonas):
    """Jonas edits DEMF's own sales order; the copy reaches USMF's purchase order, whose value
    Alice set: Alice is alerted about her purchase order."""
    relationship = make_relationship(
        usmf, demf, sales_policy_syncs_intercompany_purchase_order=True
    )
    customer = make_customer(usmf, "US-9", "Fabrikam")
    chain = make_chain(employee=alice, customer=customer, relationship=relationship,
                       customer_requisition="PO-1")
    edit(chain.purchase, alice, customer_requisition="PO-2")  # Alice's value on the PO
    edit(chain.mirror, jonas, customer_requisition="PO-3")

    alice_alerts = Alert.objects.filter(recipient=alice).select_related("overwrite")
    by_order = {a.overwrite.order_number: a.overwrite for a in alice_alerts}
    assert by_order[chain.purchase.number].kind == "synced"
    assert by_order[chain.purchase.number].source_number == chain.mirror.number
    assert by_order[chain.purchase.number].old_value == "PO-2"


def test_a_to_b_to_c_an_edit_in_c_alerts_the_employee_of_a(usmf, demf, gbsi, alice, jonas, olga):
    ab = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    bc = make_relationship(demf, gbsi, **EVERY_SWITCH_ON)
    customer = make_customer(usmf, "US-ABC", "Fabrikam")
    chain = make_chain(employee=alice, customer=customer, relationship=ab,
                       customer_requisition="PO-A")
    create_intercompany_purchase_order(
        employee=jonas, sales_order=chain.mirror, vendor=bc.intercompany_vendor
    )
    from orders.models import SalesOrder

    c_order = SalesOrder.objects.get(company=gbsi)
    edit(c_order, olga, customer_requisition="PO-C")

    assert unread_alert_count(alice) == 2  # USMF's original SO and intercompany PO
    assert {a.overwrite.new_set_for.code for a in Alert.objects.filter(recipient=alice)} == {"GBSI"}
    assert Alert.objects.filter(recipient=olga).count() == 0


def test_no_alert_for_an_unchanged_save(chain_all_on, alice, jonas):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7781")
    assert Alert.objects.count() == 0


def test_no_alert_when_the_same_company_replaces_its_own_value(chain_all_on, alice, usmf):
    bob = make_employee("bob", usmf, first="Bob", last="Stone")
    edit(chain_all_on.original, bob, customer_requisition="PO-7799")
    assert Alert.objects.count() == 0


def test_no_alert_for_the_employee_who_overwrote_even_across_companies(
    chain_all_on, usmf, demf
):
    sam = make_employee("sam", usmf, demf, first="Sam", last="Okafor")
    edit(chain_all_on.original, sam, customer_requisition="SAM-USMF")
    edit(chain_all_on.mirror, sam, customer_requisition="SAM-DEMF")  # his own USMF value
    assert Alert.objects.filter(recipient=sam).count() == 0


def test_a_team_lead_who_chose_every_order_gets_alerts_of_their_companys_orders(
    chain_all_on, alice, jonas, usmf
):
    lead = make_employee("lead", usmf, first="Lea", last="Lead")
    AlertPreference.objects.create(employee=lead, every_company_order=True)
    other = make_employee("quiet", usmf)  # did not choose it

    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")

    lead_alerts = Alert.objects.filter(recipient=lead)
    assert sorted(a.overwrite.order_number for a in lead_alerts) == sorted(
        [chain_all_on.original.number, chain_all_on.purchase.number]
    )
    assert {a.reason for a in lead_alerts} == {"company"}
    assert Alert.objects.filter(recipient=other).count() == 0


def test_the_alert_remembers_the_email_choice_and_no_email_without_an_address(
    chain_all_on, alice, jonas
):
    alice.email = ""
    alice.save()
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    assert set(Alert.objects.filter(recipient=alice).values_list("email", flat=True)) == {
        EmailChoice.NONE
    }


def test_a_rolled_back_edit_leaves_no_alert(chain_all_on, alice, jonas):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        edit(chain_all_on.mirror, jonas, customer_requisition="x" * 500)
    assert Alert.objects.count() == 0


def test_creating_the_alerts_is_one_statement(chain_all_on, alice, jonas, usmf):
    lead = make_employee("lead", usmf)
    AlertPreference.objects.create(employee=lead, every_company_order=True)
    chain_all_on.mirror.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        update_customer_information(order=chain_all_on.mirror, employee=jonas,
                                    customer_requisition="PO-7790")
    alert_statements = [q for q in queries.captured_queries if "alerts_alert" in q["sql"]]
    assert len(alert_statements) == 1
    assert Alert.objects.count() == 4  # Alice and the lead, on the two USMF orders


def test_an_edit_that_overwrites_nothing_runs_no_alert_statement(chain_all_on, alice):
    chain_all_on.original.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        update_customer_information(order=chain_all_on.original, employee=alice,
                                    customer_requisition="PO-7782")
    assert not [q for q in queries.captured_queries if "alerts_" in q["sql"]]


# -- scoping ------------------------------------------------------------------------------------


def test_an_employee_removed_from_a_company_stops_seeing_its_alerts(
    chain_all_on, alice, jonas, usmf, login_client
):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    client = login_client(alice)
    assert chain_all_on.original.number in client.get(reverse("alerts:alert-list")).text

    from intercompany.models import Company

    other = Company.objects.create(code="OTHR", name="Other")
    alice.companies.add(other)
    alice.companies.remove(usmf)

    page = client.get(reverse("alerts:alert-list")).text
    assert chain_all_on.original.number not in page
    assert unread_alert_count(alice) == 0


# -- pages --------------------------------------------------------------------------------------


def test_the_header_shows_the_unread_count_on_clerk_pages(chain_all_on, alice, jonas,
                                                         login_client):
    client = login_client(alice)
    assert 'data-testid="unread-alerts"' not in client.get(reverse("orders:sales-order-list")).text
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    for url in (reverse("orders:sales-order-list"),
                reverse("orders:sales-order-detail", args=[chain_all_on.original.pk]),
                reverse("alerts:needs-attention")):
        page = client.get(url).text
        assert 'data-testid="unread-alerts">2<' in page, url


def test_the_alerts_page_lists_newest_first_with_who_how_and_a_history_link(
    chain_all_on, alice, jonas, login_client
):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    edit(chain_all_on.mirror, jonas, customer_reference="Jonas ref")
    response = login_client(alice).get(reverse("alerts:alert-list"))
    lines = response.context["page"].lines
    assert [line.field for line in lines[:2]] == ["Customer reference", "Customer reference"]
    line = lines[-1]
    assert (line.old, line.new, line.new_set_by, line.new_set_for) == (
        "PO-7781", "PO-7790", "Jonas Weber", "DEMF"
    )
    assert line.source_number == chain_all_on.mirror.number
    assert line.history_url.startswith(
        reverse("orders:sales-order-history", args=[chain_all_on.original.pk]) + "#change-"
    ) or line.history_url.startswith(
        reverse("orders:purchase-order-history", args=[chain_all_on.purchase.pk]) + "#change-"
    )
    assert line.source_url == ""  # DEMF's order: Alice may not open it
    history = login_client(alice).get(line.history_url.split("#")[0]).text
    assert f'id="{line.history_url.split("#")[1]}"' in history


def test_opening_an_orders_history_marks_its_alerts_read(chain_all_on, alice, jonas,
                                                          login_client):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    client = login_client(alice)
    client.get(reverse("orders:sales-order-history", args=[chain_all_on.original.pk]))
    assert unread_alert_count(alice) == 1  # the purchase order's is still unread
    client.get(reverse("orders:purchase-order-history", args=[chain_all_on.purchase.pk]))
    assert unread_alert_count(alice) == 0


def test_mark_one_and_mark_all_as_read(chain_all_on, alice, jonas, login_client):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    client = login_client(alice)
    first = Alert.objects.filter(recipient=alice, order_company__code="USMF").first()
    response = client.post(reverse("alerts:alert-read", args=[first.pk]))
    assert response.status_code == 302
    assert unread_alert_count(alice) == 1
    client.post(reverse("alerts:alert-read-all"))
    assert unread_alert_count(alice) == 0


def test_nobody_marks_anothers_alert_read(chain_all_on, alice, jonas, login_client):
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    alert = Alert.objects.filter(recipient=alice, order_company__code="USMF").first()
    response = login_client(jonas).post(reverse("alerts:alert-read", args=[alert.pk]))
    assert response.status_code == 404
    assert unread_alert_count(alice) == 2


def test_needs_attention_is_the_landing_page_after_login(client, alice):
    alice.set_password("pw-correct-horse-77")
    alice.save()
    response = client.post(reverse("login"), {"username": "alice",
                                              "password": "pw-correct-horse-77"})
    assert response["Location"] == reverse("alerts:needs-attention") == "/"


def test_needs_attention_shows_unread_alerts_and_orders_other_companies_changed(
    chain_all_on, alice, jonas, login_client
):
    client = login_client(alice)
    page = client.get("/").text
    assert "Nothing to look at" in page
    assert "No unread alert" in page

    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    response = client.get("/")
    changed = response.context["changed"]
    assert {c.number for c in changed} == {chain_all_on.original.number,
                                           chain_all_on.purchase.number}
    assert all(c.by_companies == "DEMF" for c in changed)
    assert len(response.context["alerts"].lines) == 2
    assert "Nothing to look at" not in response.text


def test_needs_attention_ignores_changes_by_the_company_itself(chain_all_on, alice, login_client):
    edit(chain_all_on.original, alice, customer_requisition="PO-1")
    assert login_client(alice).get("/").context["changed"] == []


# -- preferences --------------------------------------------------------------------------------


def test_the_default_email_choice_is_the_daily_digest(alice, login_client):
    page = login_client(alice).get(reverse("preferences")).text
    assert 'value="digest" ' in page and "checked" in page.split('value="digest"')[1][:40]


def test_choosing_each_overwrite_in_preferences(alice, login_client):
    client = login_client(alice)
    response = client.post(reverse("preferences"), {"section": "alerts", "email": "each",
                                                    "every_company_order": "on"})
    assert response.status_code == 302
    preference = AlertPreference.objects.get(employee=alice)
    assert (preference.email, preference.every_company_order) == ("each", True)


def test_a_bad_email_choice_is_refused_and_changes_nothing(alice, login_client):
    response = login_client(alice).post(reverse("preferences"),
                                        {"section": "alerts", "email": "hourly"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not AlertPreference.objects.filter(employee=alice).exists()
