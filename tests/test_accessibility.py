"""Accessibility: axe-core (from the npm registry, tests/axe) finds no violation on any clerk page
or admin page of the product, on a desktop screen and at phone width (390 px), where no page
scrolls sideways either.

axe-core is installed by scripts/test.sh (``npm ci`` in tests/axe); without it these tests are
skipped, except under CI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.urls import reverse

from orders.services import update_customer_information
from tests.fixtures_web import log_in

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = (390, 844)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} is missing (scripts/test.sh installs it with npm ci)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE.read_text()


def violations(page, axe_source: str) -> list[str]:
    """axe-core's violations on the page as it is now, one line per rule and element."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # (no inline scripts) does not apply to: the page is checked with its real policy on.
        page.evaluate(axe_source)
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    found = []
    for violation in json.loads(result):
        for node in violation["nodes"]:
            found.append(
                f"{page.url}: {violation['id']} ({violation['impact']}) at {node['target']}: "
                f"{node.get('failureSummary', '').splitlines()[-1].strip()}"
            )
    return found


def sideways_overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.fixture
def world(chain_all_on, jonas, alice):
    """A chain with a cross-company overwrite, a cancelled plain order, and a stale edit form."""
    from orders.services import cancel_order, create_sales_order

    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="PO-7790"
    )
    plain = create_sales_order(
        employee=alice, company=chain_all_on.original.company,
        customer=chain_all_on.original.customer, customer_reference="Plain",
    )
    cancel_order(order=plain, employee=alice)
    return chain_all_on


def clerk_urls(world) -> list[str]:
    so, po, mirror = world.original, world.purchase, world.mirror
    return [
        reverse("orders:sales-order-list"),
        reverse("orders:sales-order-list") + "?q=nothing-matches",
        reverse("orders:purchase-order-list"),
        reverse("orders:sales-order-create"),
        reverse("orders:purchase-order-create"),
        reverse("orders:sales-order-detail", args=[so.pk]),
        reverse("orders:sales-order-history", args=[so.pk]),
        reverse("orders:sales-order-edit", args=[so.pk]),
        reverse("orders:sales-order-cancel", args=[so.pk]),
        reverse("orders:sales-order-intercompany-purchase-order", args=[so.pk]),
        reverse("orders:purchase-order-detail", args=[po.pk]),
        reverse("orders:purchase-order-history", args=[po.pk]),
        reverse("orders:overwrites"),
        reverse("orders:overwrites") + "?since=2001-01-01&until=2001-01-02",
        reverse("preferences"),
        reverse("orders:sales-order-detail", args=[mirror.pk]) + "-missing",  # the 404 page
    ]


def test_no_violation_on_the_login_page(browser_page, axe_source, db):
    for size in ((1280, 900), PHONE):
        page = browser_page(*size)
        page.goto("/accounts/login/")
        assert violations(page, axe_source) == []
        page.get_by_label("Username").fill("nobody")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
        assert violations(page, axe_source) == []


@pytest.mark.parametrize("size", [(1280, 900), PHONE], ids=["desktop", "phone"])
def test_no_violation_and_no_sideways_scrolling_on_any_clerk_page(
    browser_page, axe_source, world, size
):
    page = browser_page(*size)
    log_in(page, "alice")
    found, wide = [], []
    for url in clerk_urls(world):
        page.goto(url)
        found += violations(page, axe_source)
        if sideways_overflow(page) > 0:
            wide.append(f"{url}: {sideways_overflow(page)} px wider than the screen")
    # A refused stale save, and the page after a save with its message.
    page.goto(reverse("orders:sales-order-edit", args=[world.original.pk]))
    update_customer_information(order=world.original, employee=world.original.created_by,
                                customer_reference="Changed meanwhile")
    page.get_by_label("Customer reference", exact=True).fill("Mine")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_test_id("stale-refusal").is_visible()
    found += violations(page, axe_source)
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".messages")
    found += violations(page, axe_source)
    assert found == [], "\n".join(found)
    assert wide == [], "\n".join(wide)


def test_the_french_pages_have_no_violation_either(browser_page, axe_source, world):
    page = browser_page(*PHONE, locale="fr-FR")
    page.goto("/accounts/login/")
    page.get_by_label("Nom d’utilisateur").fill("alice")
    page.get_by_label("Mot de passe").fill("correct-horse-battery")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    found, wide = [], []
    for url in clerk_urls(world):
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "fr"
        found += violations(page, axe_source)
        if sideways_overflow(page) > 0:
            wide.append(f"{url}: {sideways_overflow(page)} px wider than the screen")
    assert found == [], "\n".join(found)
    assert wide == [], "\n".join(wide)


def test_the_phone_header_leaves_the_screen_to_the_page(browser_page, world, login_client):
    from tests.conftest import make_employee

    make_employee("sam", world.original.company, world.mirror.company, first="Sam",
                  last="Okafor")
    for username in ("alice", "sam"):
        page = browser_page(*PHONE)
        log_in(page, username)
        height = page.locator(".site-header").bounding_box()["height"]
        assert height <= PHONE[1] * 0.15, f"{username}: the header is {height} px high"


def test_phone_lists_show_every_column_under_its_name(browser_page, world):
    page = browser_page(*PHONE)
    log_in(page, "alice")
    page.goto(reverse("orders:sales-order-detail", args=[world.original.pk]))
    row = page.locator(".table--chain tbody tr").nth(2)
    for name in ("Company", "Type", "Number", "Customer reference", "Customer requisition"):
        cell = row.locator(f'td[data-label="{name}"]')
        assert cell.is_visible()
        assert cell.evaluate("td => getComputedStyle(td, '::before').content") == f'"{name}"'
    assert "DEMF-SO-000001" in row.inner_text()
    page.goto(reverse("orders:sales-order-list"))
    row = page.locator(".table--cards tbody tr", has_text="USMF-SO-000001")
    cell = row.locator('td[data-label="Customer requisition"]')
    assert cell.is_visible() and cell.inner_text() == "PO-7790"
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == (
        '"Customer requisition"'
    )


def admin_urls(world) -> list[str]:
    relationship = world.relationship
    so, po = world.original, world.purchase
    company, customer, vendor = so.company, so.customer, relationship.intercompany_vendor
    employee = so.created_by
    urls = [reverse("admin:index")]
    for model, obj in (
        ("intercompany_company", company), ("intercompany_employee", employee),
        ("intercompany_customer", customer), ("intercompany_vendor", vendor),
        ("intercompany_tradingrelationship", relationship), ("orders_salesorder", so),
        ("orders_purchaseorder", po),
    ):
        urls += [
            reverse(f"admin:{model}_changelist"),
            reverse(f"admin:{model}_add"),
            reverse(f"admin:{model}_change", args=[obj.pk]),
            reverse(f"admin:{model}_history", args=[obj.pk]),
        ]
    return urls


@pytest.mark.parametrize("size", [(1280, 900), PHONE], ids=["desktop", "phone"])
def test_no_violation_on_any_admin_page(browser_page, axe_source, world, admin, size):
    page = browser_page(*size)
    page.goto("/admin/login/")
    found = violations(page, axe_source)
    log_in(page, "admin")
    for url in admin_urls(world):
        page.goto(url)
        found += violations(page, axe_source)
    assert found == [], "\n".join(found)


def test_printing_an_order_or_its_history_leaves_out_the_screens_chrome(browser_page, world):
    page = browser_page()
    log_in(page, "alice")
    for url in (
        reverse("orders:sales-order-detail", args=[world.original.pk]),
        reverse("orders:sales-order-history", args=[world.original.pk]),
    ):
        page.goto(url)
        page.emulate_media(media="print")
        for chrome in (".site-header", ".tabs", ".page-head__actions"):
            assert page.locator(chrome).is_hidden(), (url, chrome)
        assert page.locator("h1").is_visible()
        assert page.locator("table").first.is_visible()
        assert sideways_overflow(page) == 0
        page.emulate_media(media="screen")
        assert page.locator(".site-header").is_visible()
    assert "PO-7790" in page.locator("table").first.inner_text()
