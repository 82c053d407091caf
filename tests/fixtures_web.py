"""Fixtures for the web screens: logged-in clients, a three-legged chain, and headless Chromium.

Loaded as a pytest plugin from ``tests/conftest.py`` (whose personas and factories these build on).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest
from django.test import Client

from intercompany.models import Employee, TradingRelationship
from orders.models import PurchaseOrder, SalesOrder
from orders.services import create_intercompany_purchase_order, create_sales_order

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# -- clients ------------------------------------------------------------------------------------


@pytest.fixture
def login_client():
    """``login_client(employee)``: a test client logged in as ``employee``."""

    def login(employee: Employee) -> Client:
        client = Client()
        client.force_login(employee)
        return client

    return login


@pytest.fixture
def alice_client(login_client, alice):
    return login_client(alice)


@pytest.fixture
def jonas_client(login_client, jonas):
    return login_client(jonas)


@pytest.fixture
def olga_client(login_client, olga):
    return login_client(olga)


# -- a chain ------------------------------------------------------------------------------------


@dataclass
class Chain:
    """Original sales order in USMF → intercompany purchase order in USMF → intercompany sales
    order in DEMF."""

    relationship: TradingRelationship
    original: SalesOrder
    purchase: PurchaseOrder
    mirror: SalesOrder

    def refresh(self) -> Chain:
        for name in ("relationship", "original", "purchase", "mirror"):
            getattr(self, name).refresh_from_db()
        return self


def make_chain(
    *, employee: Employee, customer, relationship: TradingRelationship, **values
) -> Chain:
    original = create_sales_order(
        employee=employee, company=customer.company, customer=customer, **values
    )
    purchase = create_intercompany_purchase_order(
        employee=employee, sales_order=original, vendor=relationship.intercompany_vendor
    )
    return Chain(
        relationship=relationship,
        original=SalesOrder.objects.get(pk=original.pk),
        purchase=PurchaseOrder.objects.get(pk=purchase.pk),
        mirror=SalesOrder.objects.get(intercompany_purchase_order=purchase),
    )


@pytest.fixture
def chain(alice, jonas, external_customer, relationship) -> Chain:
    """A three-legged chain with the switches at their defaults (the buying company's on, the
    selling company's off), customer requisition PO-7781 set by Alice for USMF."""
    return make_chain(
        employee=alice, customer=external_customer, relationship=relationship,
        customer_reference="Fabrikam spring", customer_requisition="PO-7781",
    )


@pytest.fixture
def chain_all_on(alice, jonas, usmf, demf, external_customer) -> Chain:
    """The same chain with every switch on: the last edit by either company wins everywhere."""
    from tests.conftest import make_relationship

    relationship = make_relationship(
        usmf, demf, sales_policy_syncs_intercompany_purchase_order=True
    )
    return make_chain(
        employee=alice, customer=external_customer, relationship=relationship,
        customer_reference="Fabrikam spring", customer_requisition="PO-7781",
    )


# -- headless Chromium --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright. Skips when it is not installed, except under CI,
    where a missing browser is a failure (the browser tests must run there)."""
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        message = f"{CHROMIUM} is not installed (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"Browser tests must run in CI: {message}.", pytrace=False)
        pytest.skip(message)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Browser tests must run in CI: playwright is not installed.", pytrace=False)
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    # Playwright's sync API runs an event loop in this thread; the ORM calls that the tests make
    # between browser steps are synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """``browser_page()``: a new page in its own browser context (its own cookies: one per
    clerk), with ``page.base_url`` set to the live server; ``locale`` is the language the
    browser asks for (``browser_page(locale="fr-FR")``)."""
    contexts = []

    def open_page(width: int = 1280, height: int = 900, locale: str = "en-GB"):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height},
            locale=locale,  # the browser's Accept-Language
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def expect():
    """Playwright's ``expect`` (imported late: Playwright is optional outside the browser
    tests)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def message(page):
    """The page's messages (saved, copied to, refused)."""
    return page.locator(".messages")


def field(page, label: str):
    return page.get_by_label(label, exact=True)


def log_in(page, username: str, password: str = "correct-horse-battery") -> None:
    """Log in through the login page, as a clerk does."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
