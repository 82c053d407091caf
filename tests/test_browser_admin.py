"""The admin in headless Chromium under the Content-Security-Policy: its JavaScript (served from
the site's static files) runs, nothing is refused, and a change form saves through the services.
"""

from __future__ import annotations

import re

import pytest

from intercompany.models import TradingRelationship
from orders.models import OrderStatus, SalesOrder
from tests.fixtures_web import expect, make_chain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_page(browser_page, live_server, admin):
    page = browser_page()
    refused = []

    def on_console(msg):
        # The browser asks for /favicon.ico by itself; the site has none (a 404 of no matter).
        if msg.type == "error" and "favicon.ico" not in msg.location.get("url", ""):
            refused.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: refused.append(str(error)))
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    page.refused = refused
    return page


def test_the_admin_javascript_runs_under_the_policy_and_nothing_is_refused(
    admin_page, admin, alice, usmf, demf, relationship, external_customer
):
    page = admin_page
    chain = make_chain(employee=alice, customer=external_customer, relationship=relationship,
                       customer_requisition="PO-7781")

    # The company picker is a plain multiple-choice list since the accessibility work
    # (filter_horizontal = (): the two-box widget fails axe-core), so no script builds it.
    page.goto(f"/admin/intercompany/employee/{alice.pk}/change/")
    expect()(page.locator("select#id_companies[multiple] option:checked")).to_contain_text("USMF")
    # The theme toggle works only if theme.js ran: auto becomes light or dark.
    page.get_by_role("button", name=re.compile("Toggle theme")).click()
    expect()(page.locator("html")).to_have_attribute("data-theme", re.compile("^(light|dark)$"))

    # A switch of the relationship, saved through the services, reported by its name.
    page.goto(f"/admin/intercompany/tradingrelationship/{relationship.pk}/change/")
    page.get_by_label(
        "Customer information, intercompany purchase order ↔ intercompany sales order"
    ).first.uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect()(page.locator(".messagelist")).to_contain_text(
        "Purchase order policy of USMF: “Customer information, intercompany purchase order ↔ "
        "intercompany sales order” switched off."
    )
    assert not TradingRelationship.objects.get().purchase_policy_syncs_intercompany_sales_order

    # The changelist's action bar (actions.js): tick an order, cancel it.
    page.goto("/admin/orders/salesorder/")
    page.locator(f'input[name="_selected_action"][value="{chain.mirror.pk}"]').check()
    expect()(page.locator(".action-counter")).to_contain_text("1 of")
    page.select_option('select[name="action"]', "cancel_selected")
    # The action bar's button: "Go" on Django 5.2, "Run" on 6.1.
    page.get_by_role("button", name=re.compile(r"^(Go|Run)$")).click()
    expect()(page.locator(".messagelist")).to_contain_text(f"Cancelled {chain.mirror.number}.")
    assert SalesOrder.objects.get(pk=chain.mirror.pk).status == OrderStatus.CANCELLED

    # The history page of the relationship, by the switches' names.
    page.goto(f"/admin/intercompany/tradingrelationship/{relationship.pk}/history/")
    expect()(page.locator("#change-history thead")).to_contain_text(
        "Customer information, original sales order ↔ intercompany purchase order "
        "(purchase order policy)"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, width

    assert page.refused == []
