"""Clerks and an administrator in headless Chromium against a live server.

Debian's ``/usr/bin/chromium`` driven by Playwright (see ``tests/fixtures_web.py``): skipped when
it is missing, a failure under CI. The ``chromium`` fixture sets DJANGO_ALLOW_ASYNC_UNSAFE before
the browser starts: Playwright's sync API runs an event loop in the test's thread, and the ORM
calls made between browser steps are plain synchronous code.
"""

from __future__ import annotations

import re

import pytest

from orders.models import PurchaseOrder, SalesOrder
from tests.conftest import make_relationship
from tests.fixtures_web import expect, field, log_in, message

pytestmark = pytest.mark.django_db(transaction=True)


def save_customer_information(page, *, requisition: str | None = None, reference=None) -> None:
    page.get_by_role("link", name="Edit customer information").click()
    if requisition is not None:
        field(page, "Customer requisition").fill(requisition)
    if reference is not None:
        field(page, "Customer reference").fill(reference)
    page.get_by_role("button", name="Save").click()


def test_a_change_travels_the_chain_and_an_overwrite_back_is_found_by_the_first_clerk(
    browser_page, live_server, alice, jonas, usmf, demf, external_customer
):
    make_relationship(usmf, demf, sales_policy_syncs_intercompany_purchase_order=True)
    alice_page = browser_page()
    log_in(alice_page, "alice")

    # Alice (USMF) enters an original sales order and sources it from DEMF.
    alice_page.get_by_role("link", name="Sales orders").click()
    alice_page.get_by_role("link", name="New sales order").click()
    field(alice_page, "Customer").select_option(label="US-001 Fabrikam Retail")
    field(alice_page, "Customer reference").fill("Fabrikam spring")
    field(alice_page, "Customer requisition").fill("PO-7781")
    alice_page.get_by_role("button", name="Create sales order").click()
    expect()(message(alice_page)).to_contain_text("Created sales order USMF-SO-000001.")
    field(alice_page, "Intercompany vendor").select_option(
        label="IC-DEMF Contoso Germany (intercompany: DEMF)"
    )
    alice_page.get_by_role("button", name="Create intercompany purchase order").click()
    expect()(message(alice_page)).to_contain_text(
        "Created intercompany purchase order USMF-PO-000001 and intercompany sales order "
        "DEMF-SO-000001."
    )
    expect()(message(alice_page).get_by_role("link", name="USMF-PO-000001")).to_be_visible()
    panel = alice_page.get_by_test_id("intercompany-panel")
    expect()(panel).to_contain_text("DEMF-SO-000001")

    # She changes the customer requisition: the message says where it was copied.
    save_customer_information(alice_page, requisition="PO-7782")
    expect()(message(alice_page)).to_have_text(
        "USMF-SO-000001 saved. Copied to USMF-PO-000001 and DEMF-SO-000001."
    )

    # Jonas (DEMF) sees it on the intercompany sales order.
    jonas_page = browser_page()
    log_in(jonas_page, "jonas")
    expect()(jonas_page.get_by_test_id("current-company")).to_contain_text("DEMF")
    jonas_page.get_by_role("link", name="DEMF-SO-000001").click()
    expect()(jonas_page.get_by_test_id("customer-requisition")).to_have_text("PO-7782")
    expect()(jonas_page.get_by_text("set by Alice Martin (USMF)").last).to_be_visible()

    # He overwrites it back; with every switch on, the copy reaches USMF's orders.
    save_customer_information(jonas_page, requisition="PO-7790")
    expect()(message(jonas_page)).to_contain_text("Copied to USMF-PO-000001 and USMF-SO-000001")

    # Alice finds the overwrite on the History tab...
    alice_page.reload()
    expect()(alice_page.get_by_test_id("customer-requisition")).to_have_text("PO-7790")
    alice_page.get_by_role("link", name="History").click()
    overwrite = alice_page.locator("tr.is-overwrite")
    expect()(overwrite).to_contain_text("overwrote PO-7782 set by Alice Martin (USMF)")
    expect()(overwrite).to_contain_text("Jonas Weber")
    expect()(overwrite).to_contain_text("copied from intercompany sales order DEMF-SO-000001")

    # ... and on the Overwrites page, filtered, and exported as CSV.
    alice_page.get_by_role("link", name="Overwrites").click()
    table = alice_page.get_by_test_id("overwrites")
    expect()(table.locator("tbody tr")).to_have_count(2)
    expect()(table).to_contain_text("PO-7782")
    expect()(table).to_contain_text("Jonas Weber (DEMF)")
    field(alice_page, "Field").select_option(label="Customer reference")
    alice_page.get_by_role("button", name="Filter").click()
    expect()(alice_page.locator(".empty")).to_contain_text("No cross-company overwrite")
    field(alice_page, "Field").select_option(label="Customer requisition")
    field(alice_page, "Other company").select_option(label="DEMF Contoso Germany")
    alice_page.get_by_role("button", name="Filter").click()
    expect()(table.locator("tbody tr")).to_have_count(2)
    with alice_page.expect_download() as download_info:
        alice_page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("overwrites-USMF-")
    content = open(download.path(), encoding="utf-8").read()
    assert content.count("PO-7790") == 2 and "Jonas Weber" in content


def test_an_administrator_switches_a_policy_off_and_the_next_edit_is_not_copied(
    browser_page, live_server, admin, alice, usmf, demf, external_customer, chain
):
    admin_page = browser_page()
    admin_page.goto("/admin/login/")
    admin_page.get_by_label("Username").fill("admin")
    admin_page.get_by_label("Password").fill("correct-horse-battery")
    admin_page.get_by_role("button", name="Log in").click()
    admin_page.goto(f"/admin/intercompany/tradingrelationship/{chain.relationship.pk}/change/")
    switch = admin_page.get_by_label(
        "Customer information, original sales order ↔ intercompany purchase order"
    )
    expect()(switch).to_be_checked()
    switch.uncheck()
    admin_page.get_by_role("button", name="Save", exact=True).click()
    expect()(admin_page.locator(".messagelist")).to_contain_text("was changed successfully")
    chain.relationship.refresh_from_db()
    assert chain.relationship.purchase_policy_syncs_original_sales_order is False

    page = browser_page()
    log_in(page, "alice")
    page.goto(f"/sales-orders/{chain.original.pk}/")
    expect()(page.get_by_test_id("intercompany-panel")).to_contain_text(
        "Not copied: the purchase order policy of USMF has “Customer information, original "
        "sales order ↔ intercompany purchase order” switched off."
    )
    save_customer_information(page, requisition="PO-8000")

    expect()(message(page)).to_have_text(
        "USMF-SO-000001 saved. Not copied to USMF-PO-000001: the purchase order policy of USMF "
        "has “Customer information, original sales order ↔ intercompany purchase order” "
        "switched off."
    )
    assert PurchaseOrder.objects.get(pk=chain.purchase.pk).customer_requisition == "PO-7781"
    assert SalesOrder.objects.get(pk=chain.mirror.pk).customer_requisition == "PO-7781"


def test_a_form_opened_before_another_companys_change_is_refused_and_keeps_the_input(
    browser_page, live_server, alice, jonas, chain_all_on
):
    chain = chain_all_on
    alice_page = browser_page()
    log_in(alice_page, "alice")
    alice_page.goto(f"/sales-orders/{chain.original.pk}/edit/")
    field(alice_page, "Customer requisition").fill("PO-ALICE")

    # Meanwhile Jonas (DEMF) changes the intercompany sales order; the copy reaches USMF.
    jonas_page = browser_page()
    log_in(jonas_page, "jonas")
    jonas_page.goto(f"/sales-orders/{chain.mirror.pk}/")
    save_customer_information(jonas_page, requisition="PO-JONAS")
    expect()(message(jonas_page)).to_contain_text("Copied to")

    alice_page.get_by_role("button", name="Save").click()

    refusal = alice_page.get_by_test_id("stale-refusal")
    expect()(refusal).to_contain_text(
        "Not saved: USMF-SO-000001 was changed after you opened this form."
    )
    expect()(refusal.get_by_test_id("customer-requisition")).to_have_text("PO-JONAS")
    expect()(refusal).to_contain_text("set by Jonas Weber (DEMF)")
    expect()(field(alice_page, "Customer requisition")).to_have_value("PO-ALICE")
    assert SalesOrder.objects.get(pk=chain.original.pk).customer_requisition == "PO-JONAS"

    # Having seen Jonas's value, she saves her own deliberately.
    alice_page.get_by_role("button", name="Save").click()
    expect()(message(alice_page)).to_contain_text("USMF-SO-000001 saved.")
    expect()(alice_page.get_by_test_id("customer-requisition")).to_have_text("PO-ALICE")


def test_a_clerk_works_with_the_keyboard_alone_and_nothing_loads_from_outside(
    browser_page, live_server, alice, chain
):
    page = browser_page(width=800, height=1000)  # a tablet in portrait
    outside = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(live_server.url)
        else outside.append(request.url),
    )
    page.goto("/accounts/login/")
    expect()(page.get_by_label("Username")).to_be_focused()  # autofocus
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("correct-horse-battery")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/$"))  # Needs attention
    expect()(page.get_by_role("heading", name="Needs attention")).to_be_visible()

    page.goto(f"/sales-orders/{chain.original.pk}/edit/")
    field(page, "Customer reference").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed with keys")
    page.keyboard.press("Enter")

    expect()(message(page)).to_contain_text("USMF-SO-000001 saved.")
    expect()(page.get_by_test_id("customer-reference")).to_have_text("Typed with keys")
    assert outside == []


def test_errors_are_shown_next_to_their_field(browser_page, live_server, alice, chain):
    page = browser_page()
    log_in(page, "alice")
    page.goto("/sales-orders/new/")

    # The browser keeps a too-long value out (maxlength); the server names what is missing.
    field(page, "Customer requisition").fill("x" * 45)
    page.get_by_role("button", name="Create sales order").click()

    customer = field(page, "Customer")
    expect()(customer).to_have_attribute("aria-invalid", "true")
    expect()(page.locator("#id_customer_error")).to_have_text("Choose the customer.")
    assert "id_customer_error" in customer.get_attribute("aria-describedby")
    expect()(field(page, "Customer requisition")).to_have_value("x" * 40)
    assert SalesOrder.objects.count() == 2  # the chain's two, nothing new
