"""The original customer on every leg of a chain, and a change of customer as a sync trigger
(issue 10): services, history, refusals, the order page, the panel, the lists and the admin."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from intercompany.services import update_trading_relationship
from orders.history import order_history
from orders.models import PurchaseOrder, SalesOrder
from orders.services import (
    cancel_order,
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)
from tests.conftest import (
    history_counts,
    make_company,
    make_customer,
    make_employee,
    make_relationship,
    order_state,
)

FABRIKAM = "US-001 Fabrikam Retail"
CONTOSO = "US-002 Contoso Retail"


def fresh(order):
    return type(order).objects.get(pk=order.pk)


def url(order, action="detail"):
    kind = "sales-order" if isinstance(order, SalesOrder) else "purchase-order"
    return reverse(f"orders:{kind}-{action}", args=[order.pk])


@pytest.fixture
def contoso(usmf):
    return make_customer(usmf, "US-002", "Contoso Retail")


@pytest.fixture
def a_b_c(alice, jonas, usmf, demf, gbsi, external_customer):
    """USMF sells to Fabrikam and buys from DEMF, which buys from GBSI (A → B → C), every
    buying company's switches on (the defaults)."""
    usmf_demf = make_relationship(usmf, demf)
    demf_gbsi = make_relationship(demf, gbsi)
    original = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_requisition="PO-7781"
    )
    usmf_po = create_intercompany_purchase_order(
        employee=alice, sales_order=original, vendor=usmf_demf.intercompany_vendor
    )
    demf_so = usmf_po.intercompany_sales_order
    demf_po = create_intercompany_purchase_order(
        employee=jonas, sales_order=demf_so, vendor=demf_gbsi.intercompany_vendor
    )
    gbsi_so = demf_po.intercompany_sales_order
    return {
        "original": original, "usmf_po": usmf_po, "demf_so": demf_so, "demf_po": demf_po,
        "gbsi_so": gbsi_so, "usmf_demf": usmf_demf, "demf_gbsi": demf_gbsi,
    }


# -- every leg names the original sales order and its customer ----------------------------------


def test_every_leg_of_a_b_c_names_the_original_sales_order_and_its_customer(a_b_c):
    original = a_b_c["original"]
    for name in ("usmf_po", "demf_so", "demf_po", "gbsi_so"):
        order = fresh(a_b_c[name])
        assert order.original_sales_order == original, name
        assert order.original_sales_order.company.code == "USMF"
        assert (order.original_customer_account, order.original_customer_name) == (
            "US-001", "Fabrikam Retail"
        ), name
    # GBSI's intercompany sales order keeps its own customer: the intercompany customer DEMF.
    assert fresh(a_b_c["gbsi_so"]).customer == a_b_c["demf_gbsi"].intercompany_customer


def test_a_chain_begun_by_a_purchase_order_has_no_original_customer(alice, usmf, demf):
    relationship = make_relationship(usmf, demf)

    po = create_purchase_order(
        employee=alice, company=usmf, vendor=relationship.intercompany_vendor
    )

    for order in (fresh(po), fresh(po.intercompany_sales_order)):
        assert order.original_sales_order is None
        assert order.original_customer == ""


def test_a_change_of_customer_travels_from_a_to_c(a_b_c, alice, contoso):
    result = update_customer_information(
        order=a_b_c["original"], employee=alice, customer=contoso
    )

    for name in ("original", "usmf_po", "demf_so", "demf_po", "gbsi_so"):
        assert fresh(a_b_c[name]).original_customer == CONTOSO, name
    assert [o.number for o in result.copied_to] == [
        a_b_c[name].number for name in ("usmf_po", "demf_so", "demf_po", "gbsi_so")
    ]
    assert result.message.startswith(f"{a_b_c['original'].number} saved. Copied to ")


def test_a_switch_off_in_the_middle_company_keeps_the_change_from_c(a_b_c, alice, admin, contoso):
    update_trading_relationship(
        relationship=a_b_c["demf_gbsi"], employee=admin,
        purchase_policy_syncs_original_sales_order=False,
    )

    result = update_customer_information(
        order=a_b_c["original"], employee=alice, customer=contoso
    )

    assert [fresh(a_b_c[n]).original_customer for n in ("usmf_po", "demf_so")] == [CONTOSO] * 2
    # Beyond DEMF's switched-off link, GBSI's orders keep the customer they had.
    assert [fresh(a_b_c[n]).original_customer for n in ("demf_po", "gbsi_so")] == [FABRIKAM] * 2
    assert (
        f"Not copied to {a_b_c['demf_po'].number}: the purchase order policy of DEMF has "
        "“Customer information, original sales order ↔ intercompany purchase order” "
        "switched off."
    ) in result.message


def test_a_new_leg_never_carries_an_earlier_original_customer_back(
    a_b_c, alice, admin, contoso, gbsi
):
    # DEMF's link toward GBSI is off when USMF changes the customer: GBSI keeps Fabrikam.
    demf_gbsi = a_b_c["demf_gbsi"]
    update_trading_relationship(
        relationship=demf_gbsi, employee=admin, purchase_policy_syncs_original_sales_order=False
    )
    update_customer_information(order=a_b_c["original"], employee=alice, customer=contoso)
    # Every switch on now, and GBSI sources its order further (A → B → C → D): the new leg
    # takes GBSI's values, and its creation reaches back along the chain...
    for rel in (a_b_c["usmf_demf"], demf_gbsi):
        update_trading_relationship(
            relationship=rel, employee=admin, purchase_policy_syncs_original_sales_order=True,
            sales_policy_syncs_intercompany_purchase_order=True,
        )
    olga = make_employee("olga", gbsi)
    gbsi_frrt = make_relationship(gbsi, make_company("FRRT"))
    update_customer_information(order=a_b_c["gbsi_so"], employee=olga, customer_requisition="G-1")
    new_po = create_intercompany_purchase_order(
        employee=olga, sales_order=a_b_c["gbsi_so"], vendor=gbsi_frrt.intercompany_vendor
    )

    assert fresh(a_b_c["original"]).customer_requisition == "G-1"
    assert fresh(new_po).original_customer == FABRIKAM
    # ...but the original customer moves only outward from the original sales order: GBSI's
    # earlier one never replaces the one USMF set.
    assert fresh(a_b_c["original"]).original_customer == CONTOSO
    assert fresh(a_b_c["usmf_po"]).original_customer == CONTOSO
    assert fresh(a_b_c["demf_so"]).original_customer == CONTOSO


# -- history ------------------------------------------------------------------------------------


def test_the_change_is_recorded_with_who_for_which_company_old_and_new_customer(
    a_b_c, alice, contoso
):
    original = a_b_c["original"]
    update_customer_information(order=original, employee=alice, customer=contoso)

    entry = order_history(order=fresh(original))[0]
    assert (entry.kind, entry.by.employee_name, entry.by.company_code) == (
        "edited", "Alice Martin", "USMF"
    )
    changes = {c.field: (c.old, c.new) for c in entry.changes}
    assert changes["customer"] == (FABRIKAM, CONTOSO)
    assert changes["original_customer_account"] == ("US-001", "US-002")
    assert changes["original_customer_name"] == ("Fabrikam Retail", "Contoso Retail")

    for name in ("usmf_po", "demf_so", "gbsi_so"):
        copy = order_history(order=fresh(a_b_c[name]))[0]
        assert copy.kind == "synced", name
        assert (copy.by.employee_name, copy.by.company_code) == ("Alice Martin", "USMF")
        assert {c.field: (c.old, c.new) for c in copy.changes} == {
            "original_customer_account": ("US-001", "US-002"),
            "original_customer_name": ("Fabrikam Retail", "Contoso Retail"),
        }, name
    assert order_history(order=fresh(a_b_c["usmf_po"]))[0].how == (
        f"copied from original sales order {original.number}"
    )
    # Whose value it is: set by Alice for USMF on every order it reached, not by who copied it.
    gbsi_so = fresh(a_b_c["gbsi_so"])
    assert (gbsi_so.original_customer_account_set_by, gbsi_so.original_customer_account_set_for) \
        == (alice, original.company)


def test_a_change_bumps_the_version_so_a_form_opened_before_is_refused(a_b_c, alice, contoso):
    from orders.exceptions import StaleOrderError

    original = a_b_c["original"]
    opened_at = fresh(original).version
    update_customer_information(order=original, employee=alice, customer=contoso)

    with pytest.raises(StaleOrderError):
        update_customer_information(
            order=original, employee=alice, customer_reference="late", expected_version=opened_at
        )


# -- refusals: a clear message, and nothing changed ---------------------------------------------


def _refused(call, match: str):
    before = order_state()
    counts = history_counts()
    with pytest.raises(ValidationError) as refused:
        call()
    assert match in " ".join(refused.value.messages)
    assert order_state() == before
    assert history_counts() == counts
    return refused.value


def test_a_change_to_an_intercompany_customer_is_refused(a_b_c, alice):
    usmf = a_b_c["original"].company
    # GBSI buys from USMF: USMF's customer account that represents GBSI.
    intercompany_customer = make_relationship(
        a_b_c["gbsi_so"].company, usmf
    ).intercompany_customer
    assert intercompany_customer.company_id == usmf.pk

    error = _refused(
        lambda: update_customer_information(
            order=a_b_c["original"], employee=alice, customer=intercompany_customer
        ),
        "is an intercompany customer: a sale to it is an intercompany sales order",
    )
    assert "customer" in error.message_dict


def test_the_customer_of_an_intercompany_sales_order_cannot_be_changed(a_b_c, jonas, demf):
    other = make_customer(demf, "DE-009", "Tailspin Toys")

    _refused(
        lambda: update_customer_information(order=a_b_c["demf_so"], employee=jonas, customer=other),
        "is an intercompany sales order: its customer is the intercompany customer",
    )


def test_another_companys_customer_is_refused(a_b_c, alice, demf):
    tailspin = make_customer(demf, "DE-009", "Tailspin Toys")

    _refused(
        lambda: update_customer_information(
            order=a_b_c["original"], employee=alice, customer=tailspin
        ),
        "Customer DE-009 is not a customer of USMF",
    )


def test_the_customer_of_a_cancelled_order_cannot_be_changed(alice, usmf, external_customer,
                                                             contoso):
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    cancel_order(order=order, employee=alice)

    _refused(
        lambda: update_customer_information(order=order, employee=alice, customer=contoso),
        "is cancelled: its customer cannot be changed",
    )


@pytest.mark.parametrize("bad", ["US-002", 42, None, object()])
def test_a_customer_that_is_not_a_customer_record_is_refused(alice, usmf, external_customer, bad):
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    _refused(
        lambda: update_customer_information(order=order, employee=alice, customer=bad),
        "Choose one of the customers of USMF.",
    )


def test_a_purchase_order_has_no_customer_to_change(a_b_c, alice, contoso):
    _refused(
        lambda: update_customer_information(order=a_b_c["usmf_po"], employee=alice,
                                            customer=contoso),
        "Only a sales order has a customer.",
    )


def test_a_clerk_of_another_company_cannot_change_the_customer(a_b_c, jonas, contoso):
    from intercompany.exceptions import NotAllowedError

    before = order_state()
    with pytest.raises(NotAllowedError):
        update_customer_information(order=a_b_c["original"], employee=jonas, customer=contoso)
    assert order_state() == before


# -- the screens --------------------------------------------------------------------------------


@pytest.fixture
def alice_web(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def jonas_web(jonas):
    client = Client()
    client.force_login(jonas)
    return client


def test_the_order_page_of_c_shows_the_original_sales_order_and_customer(a_b_c, gbsi):
    olga = make_employee("olga", gbsi)
    client = Client()
    client.force_login(olga)

    html = client.get(url(a_b_c["gbsi_so"])).content.decode()

    original = a_b_c["original"]
    assert f'data-testid="original-sales-order">{original.number} (USMF)' in html
    assert f'data-testid="original-customer">{FABRIKAM}</span>' in html
    assert f"Original sales order {original.number} (USMF), original customer {FABRIKAM}." in html


def test_changing_the_customer_on_the_edit_form(a_b_c, alice_web, contoso):
    original = a_b_c["original"]
    form = alice_web.get(url(original, "edit")).content.decode()
    assert '<label for="id_customer">Customer</label>' in form
    assert "Contoso Retail" in form
    # Intercompany customers are not offered.
    assert "(intercompany:" not in form

    response = alice_web.post(url(original, "edit"), {
        "customer": contoso.pk, "customer_reference": "", "customer_requisition": "PO-7781",
        "version": fresh(original).version,
    }, follow=True)

    assert response.status_code == 200
    message = [str(m) for m in response.context["messages"]][-1]
    assert message == (
        f"{original.number} saved. Copied to {a_b_c['usmf_po'].number}, "
        f"{a_b_c['demf_so'].number}, {a_b_c['demf_po'].number} and {a_b_c['gbsi_so'].number}."
    )
    assert fresh(original).customer == contoso
    history = alice_web.get(url(original, "history")).content.decode()
    assert "Fabrikam Retail" in history and "Contoso Retail" in history


def test_the_edit_form_of_an_intercompany_sales_order_offers_no_customer(a_b_c, jonas_web, demf):
    html = jonas_web.get(url(a_b_c["demf_so"], "edit")).content.decode()

    assert 'name="customer"' not in html
    assert 'data-testid="customer-fixed"' in html


def test_a_forged_post_naming_an_intercompany_customer_changes_nothing(a_b_c, alice_web):
    intercompany_customer = make_relationship(
        a_b_c["gbsi_so"].company, a_b_c["original"].company
    ).intercompany_customer
    original = a_b_c["original"]
    before = order_state()

    response = alice_web.post(url(original, "edit"), {
        "customer": intercompany_customer.pk, "customer_requisition": "PO-7781",
        "version": fresh(original).version,
    })

    assert response.status_code == 200
    assert (
        "Choose one of the customers of USMF that is not an intercompany customer."
        in response.content.decode()
    )
    assert order_state() == before


def test_a_form_opened_before_a_change_of_customer_is_refused_with_the_change(
    a_b_c, alice, jonas_web, contoso
):
    demf_so = a_b_c["demf_so"]
    opened_at = fresh(demf_so).version
    update_customer_information(order=a_b_c["original"], employee=alice, customer=contoso)

    response = jonas_web.post(url(demf_so, "edit"), {
        "customer_reference": "mine", "customer_requisition": "PO-7781", "version": opened_at,
    })

    assert response.status_code == 409
    html = response.content.decode()
    assert 'data-testid="stale-refusal"' in html
    assert "Original customer name “Fabrikam Retail” → “Contoso Retail”" in html
    assert fresh(demf_so).customer_reference == ""


def test_the_original_sales_orders_own_stale_form_shows_the_customer_change(
    a_b_c, alice, alice_web, contoso
):
    original = a_b_c["original"]
    opened_at = fresh(original).version
    update_customer_information(order=original, employee=alice, customer=contoso)

    response = alice_web.post(url(original, "edit"), {
        "customer": a_b_c["original"].customer_id, "customer_requisition": "PO-7781",
        "version": opened_at,
    })

    assert response.status_code == 409
    html = response.content.decode()
    assert f"Customer “{FABRIKAM}” → “{CONTOSO}”" in html
    assert f'data-testid="current-customer">Customer: {CONTOSO}' in html
    assert fresh(original).customer == contoso


def test_the_panel_says_a_switch_kept_the_original_customer_from_an_order(
    a_b_c, alice, admin, jonas_web, contoso
):
    update_trading_relationship(
        relationship=a_b_c["usmf_demf"], employee=admin,
        purchase_policy_syncs_intercompany_sales_order=False,
    )
    update_customer_information(order=a_b_c["original"], employee=alice, customer=contoso)

    html = jonas_web.get(url(a_b_c["demf_so"])).content.decode()

    assert (
        f"Keeps its original customer: {CONTOSO} was not copied here because the purchase "
        "order policy of USMF has “Customer information, intercompany purchase order ↔ "
        "intercompany sales order” switched off."
    ) in html
    # Switched on again, it still keeps it (switching copies nothing), and the panel says why.
    update_trading_relationship(
        relationship=a_b_c["usmf_demf"], employee=admin,
        purchase_policy_syncs_intercompany_sales_order=True,
    )
    html = jonas_web.get(url(a_b_c["demf_so"])).content.decode()
    assert "a switch on the way from" in html and "was off when its customer became" in html


def test_the_lists_show_and_search_the_original_customer(a_b_c, jonas_web, demf):
    sales = reverse("orders:sales-order-list")
    purchases = reverse("orders:purchase-order-list")

    found = jonas_web.get(sales, {"q": "fabrikam"})
    assert [o.number for o in found.context["page"].orders] == [a_b_c["demf_so"].number]
    # The cell carries its column's name too (data-label, for phones), after its test id.
    assert re.search(
        rf'<td data-testid="original-customer"[^>]*>{re.escape(FABRIKAM)}', found.content.decode()
    )
    found = jonas_web.get(purchases, {"q": "US-001"})
    assert [o.number for o in found.context["page"].orders] == [a_b_c["demf_po"].number]
    assert jonas_web.get(sales, {"q": "nobody-like-this"}).context["page"].orders == []


def test_the_admin_shows_and_searches_the_original_customer(a_b_c, admin):
    client = Client()
    client.force_login(admin)

    changelist = client.get(
        reverse("admin:orders_purchaseorder_changelist"), {"q": "Fabrikam"}
    ).content.decode()
    assert a_b_c["usmf_po"].number in changelist and a_b_c["demf_po"].number in changelist
    assert FABRIKAM in changelist
    change = client.get(
        reverse("admin:orders_salesorder_change", args=[a_b_c["gbsi_so"].pk])
    ).content.decode()
    assert "Original customer account" in change and "US-001" in change
    assert a_b_c["original"].number in change


def test_a_purchase_order_changes_nothing_of_the_original_customer_when_edited(
    a_b_c, alice
):
    update_customer_information(order=a_b_c["usmf_po"], employee=alice, customer_requisition="X")

    assert fresh(a_b_c["usmf_po"]).original_customer == FABRIKAM
    assert PurchaseOrder.objects.filter(original_customer_account="US-001").count() == 2


# -- orders that existed before the original customer --------------------------------------------


def test_the_migration_fills_the_orders_that_existed_before(a_b_c, admin):
    import importlib

    from django.apps import apps

    fill = importlib.import_module("orders.migrations.0006_issue10_fill_original_customer").fill
    update_trading_relationship(
        relationship=a_b_c["demf_gbsi"], employee=admin,
        purchase_policy_syncs_intercompany_sales_order=False,
    )
    expected = {name: _original_of(a_b_c[name]) for name in a_b_c if "_" in name
                and name not in ("usmf_demf", "demf_gbsi")}
    expected["original"] = _original_of(a_b_c["original"])
    expected["gbsi_so"] = (a_b_c["original"].pk, "", "", None)  # its link is off now
    blank = {name: "" for name in ("original_customer_account", "original_customer_name")}
    blank |= {f"{name}_{suffix}": None for name in blank for suffix in ("set_by", "set_for")}
    SalesOrder.objects.update(original_sales_order=None, **blank)
    PurchaseOrder.objects.update(original_sales_order=None, **blank)

    fill(apps, None)

    assert {name: _original_of(a_b_c[name]) for name in expected} == expected


def _original_of(order):
    order = fresh(order)
    return (order.original_sales_order_id, order.original_customer_account,
            order.original_customer_name, order.original_customer_account_set_for_id)
