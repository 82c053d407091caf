"""Alerts in headless Chromium: a DEMF clerk overwrites a USMF clerk's value; the USMF clerk
sees the count in the header, follows the alert to the History line, and the count clears."""

from __future__ import annotations

import re

import pytest

from orders.models import SalesOrder
from orders.services import create_purchase_order
from tests.conftest import make_relationship
from tests.fixtures_web import expect, log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_overwrite_by_another_company_reaches_the_clerk_as_an_alert(
    browser_page, live_server, alice, jonas, usmf, demf
):
    # USMF buys from DEMF; DEMF's sales order policy copies its edits to USMF's purchase order.
    relationship = make_relationship(
        usmf, demf, sales_policy_syncs_intercompany_purchase_order=True
    )
    purchase = create_purchase_order(
        employee=alice, company=usmf, vendor=relationship.intercompany_vendor,
        customer_reference="Dallas warehouse", customer_requisition="PO-7781",
    )
    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)

    alice_page = browser_page()
    log_in(alice_page, "alice")
    expect()(alice_page.get_by_test_id("alerts-link")).to_have_text("Alerts")
    expect()(alice_page.get_by_text("No unread alert")).to_be_visible()

    # Jonas (DEMF) changes the customer requisition on DEMF's intercompany sales order.
    jonas_page = browser_page()
    log_in(jonas_page, "jonas")
    jonas_page.goto(f"/sales-orders/{mirror.pk}/")
    jonas_page.get_by_role("link", name="Edit customer information").click()
    jonas_page.get_by_label("Customer requisition", exact=True).fill("PO-7790")
    jonas_page.get_by_role("button", name="Save").click()
    expect()(jonas_page.locator(".messages")).to_contain_text(f"Copied to {purchase.number}")
    expect()(jonas_page.get_by_test_id("unread-alerts")).to_have_count(0)  # not his alert

    # Alice's header counts one unread alert, on any page.
    alice_page.get_by_role("link", name="Purchase orders").click()
    expect()(alice_page.get_by_test_id("unread-alerts")).to_have_text("1")
    alice_page.get_by_test_id("alerts-link").click()
    row = alice_page.get_by_test_id("alerts").locator("tbody tr")
    expect()(row).to_have_count(1)
    expect()(row).to_contain_text(purchase.number)
    expect()(row).to_contain_text("PO-7781")
    expect()(row).to_contain_text("PO-7790")
    expect()(row).to_contain_text("Jonas Weber (DEMF)")
    expect()(row).to_contain_text(f"copied from intercompany sales order {mirror.number}")

    # The alert links to the line of the History tab; opening it reads the alert.
    row.get_by_role("link", name=purchase.number).click()
    alice_page.wait_for_url(re.compile(rf"/purchase-orders/{purchase.pk}/history/#change-"))
    anchor = alice_page.url.split("#", 1)[1]
    line = alice_page.locator(f"tr#{anchor}")
    expect()(line).to_be_visible()
    expect()(line).to_contain_text("PO-7790")
    expect()(alice_page.get_by_test_id("unread-alerts")).to_have_count(0)
    alice_page.goto("/")
    expect()(alice_page.get_by_text("No unread alert")).to_be_visible()
    expect()(alice_page.get_by_test_id("changed-orders")).to_contain_text(purchase.number)
