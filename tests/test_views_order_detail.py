"""The order page: details, the Intercompany panel, creating an intercompany purchase order, and
the History tab with its overwrite marks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from intercompany.services import update_trading_relationship
from orders.models import PurchaseOrder, SalesOrder
from orders.services import cancel_order, create_sales_order, update_customer_information
from tests.conftest import make_relationship, make_vendor


def so_url(order, action="detail") -> str:
    return reverse(f"orders:sales-order-{action}", args=[order.pk])


def po_url(order, action="detail") -> str:
    return reverse(f"orders:purchase-order-{action}", args=[order.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- details and the Intercompany panel ---------------------------------------------------------


@pytest.mark.django_db
def test_the_order_page_shows_customer_information_and_who_set_it(alice_client, chain):
    response = alice_client.get(so_url(chain.original))

    html = response.content.decode()
    assert response.status_code == 200
    assert "USMF-SO-000001" in html and "original sales order" in html
    assert "US-001 Fabrikam Retail" in html
    assert '<span class="value" data-testid="customer-requisition">PO-7781</span>' in html
    assert "set by Alice Martin (USMF)" in html


@pytest.mark.django_db
def test_the_panel_lists_every_order_of_the_chain(alice_client, chain):
    response = alice_client.get(so_url(chain.original))

    rows = response.context["panel"].rows
    assert [(r.order.company.code, r.order.role, r.order.number) for r in rows] == [
        ("USMF", "original sales order", "USMF-SO-000001"),
        ("USMF", "intercompany purchase order", "USMF-PO-000001"),
        ("DEMF", "intercompany sales order", "DEMF-SO-000001"),
    ]
    html = response.content.decode()
    assert html.count("PO-7781") >= 3
    assert "Fabrikam spring" in html


@pytest.mark.django_db
def test_the_panel_links_only_to_orders_of_companies_the_clerk_works_for(alice_client, chain):
    html = alice_client.get(so_url(chain.original)).content.decode()

    assert f'<a href="{po_url(chain.purchase)}">USMF-PO-000001</a>' in html
    assert "DEMF-SO-000001" in html
    assert so_url(chain.mirror) not in html


@pytest.mark.django_db
def test_the_panel_shows_each_direction_and_the_policy_that_decides_it(alice_client, chain):
    html = alice_client.get(po_url(chain.purchase)).content.decode()

    assert html.count("Not synchronized") == 1
    assert html.count(">Synchronized<") == 3
    assert "Decided by the purchase order policy of USMF (the buying company): “Customer " \
        "information, original sales order ↔ intercompany purchase order”." in html
    assert "Decided by the purchase order policy of USMF (the buying company): “Customer " \
        "information, intercompany purchase order ↔ intercompany sales order”." in html
    assert "Decided by the sales order policy of DEMF (the selling company): “Customer " \
        "information, intercompany purchase order ↔ intercompany sales order”." in html
    assert "Not copied: the sales order policy of DEMF has “Customer information, " \
        "intercompany purchase order ↔ intercompany sales order” switched off." in html


@pytest.mark.django_db
def test_the_panel_says_when_the_relationship_is_inactive(alice_client, chain):
    update_trading_relationship(relationship=chain.relationship, employee=None, active=False)

    html = alice_client.get(so_url(chain.original)).content.decode()

    assert html.count("Not synchronized") == 4
    assert "the trading relationship USMF buys from DEMF (inactive) is inactive" in html


@pytest.mark.django_db
def test_an_order_outside_any_chain_says_so(alice_client, alice, usmf, external_customer):
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    html = alice_client.get(so_url(order)).content.decode()

    assert "This order is not part of an intercompany chain." in html


@pytest.mark.django_db
def test_the_order_page_runs_the_same_queries_for_a_short_or_long_chain(
    alice_client, alice, usmf, demf, gbsi, external_customer, relationship
):
    def count(order) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(so_url(order)).status_code == 200
        return len(captured)

    short = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    from orders.services import create_intercompany_purchase_order

    create_intercompany_purchase_order(
        employee=alice, sales_order=short, vendor=relationship.intercompany_vendor
    )
    long = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    second = make_relationship(usmf, gbsi)
    for vendor in (relationship.intercompany_vendor, second.intercompany_vendor):
        create_intercompany_purchase_order(employee=alice, sales_order=long, vendor=vendor)

    assert 0 < count(short) == count(long)


# -- creating an intercompany purchase order ----------------------------------------------------


@pytest.mark.django_db
def test_the_order_page_offers_the_active_intercompany_vendors(
    alice_client, alice, usmf, demf, gbsi, external_customer, relationship
):
    closed = make_relationship(usmf, gbsi, active=False)
    make_vendor(usmf, "V-PLAIN", "Plain vendor")
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    response = alice_client.get(so_url(order))

    vendors = list(response.context["intercompany_form"].fields["vendor"].queryset)
    assert vendors == [relationship.intercompany_vendor]
    html = response.content.decode()
    assert "IC-DEMF Contoso Germany (intercompany: DEMF)" in html
    assert closed.intercompany_vendor.account not in html
    assert '<label for="id_vendor">Intercompany vendor</label>' in html


@pytest.mark.django_db
def test_without_active_intercompany_vendors_the_page_says_so(
    alice_client, alice, usmf, external_customer
):
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    html = alice_client.get(so_url(order)).content.decode()

    assert "USMF has no intercompany vendor on an active trading relationship." in html


@pytest.mark.django_db
def test_creating_an_intercompany_purchase_order_opens_with_links_to_the_new_orders(
    login_client, usmf, demf, external_customer, relationship
):
    from tests.conftest import make_employee

    maria = make_employee("maria", usmf, demf)
    client = login_client(maria)
    order = create_sales_order(
        employee=maria, company=usmf, customer=external_customer, customer_requisition="R-9"
    )
    client.get(so_url(order))  # acting for USMF now

    response = client.post(
        so_url(order, "intercompany-purchase-order"),
        {"vendor": relationship.intercompany_vendor.pk},
        follow=True,
    )

    purchase = PurchaseOrder.objects.get(origin_sales_order=order)
    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
    assert mirror.company == demf and purchase.customer_requisition == "R-9"
    assert response.redirect_chain[-1][0] == so_url(order)
    assert messages_of(response)[-1] == (
        f'Created intercompany purchase order <a href="{po_url(purchase)}">USMF-PO-000001</a> '
        f'and intercompany sales order <a href="{so_url(mirror)}">DEMF-SO-000001</a>.'
    )
    assert "DEMF-SO-000001" in response.content.decode()


@pytest.mark.django_db
def test_the_intercompany_purchase_order_page_works_without_javascript(
    alice_client, alice, usmf, external_customer, relationship
):
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    response = alice_client.get(so_url(order, "intercompany-purchase-order"))

    assert response.status_code == 200
    assert "Choose an intercompany vendor" in response.content.decode()


@pytest.mark.django_db
def test_a_forged_vendor_of_another_company_is_refused(
    alice_client, alice, usmf, demf, gbsi, external_customer, relationship
):
    foreign = make_relationship(demf, gbsi).intercompany_vendor
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    response = alice_client.post(
        so_url(order, "intercompany-purchase-order"), {"vendor": foreign.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "vendor": ["Choose one of the active intercompany vendors of USMF."]
    }
    assert not PurchaseOrder.objects.exists()


@pytest.mark.django_db
def test_a_cancelled_sales_order_is_not_sourced(
    alice_client, alice, usmf, external_customer, relationship
):
    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    cancel_order(order=order, employee=alice)

    response = alice_client.post(
        so_url(order, "intercompany-purchase-order"),
        {"vendor": relationship.intercompany_vendor.pk},
    )

    assert "USMF-SO-000001 is cancelled: it cannot be sourced." in response.content.decode()
    assert not PurchaseOrder.objects.exists()


# -- the History tab ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_history_tab_lists_changes_newest_first_with_how(alice_client, alice, chain):
    update_customer_information(
        order=chain.original, employee=alice, customer_requisition="PO-7782"
    )

    response = alice_client.get(po_url(chain.purchase, "history"))

    assert response.status_code == 200
    firsts = [line for line in response.context["lines"] if line.first]
    assert [(line.how, line.source_number) for line in firsts] == [
        ("copied from original sales order", "USMF-SO-000001"),
        ("created from original sales order", "USMF-SO-000001"),
    ]
    html = response.content.decode()
    assert "Alice Martin" in html and "USMF" in html
    assert '<span class="old">PO-7781</span>' in html
    assert '<span class="new">PO-7782</span>' in html
    assert f'copied from original sales order <a href="{so_url(chain.original)}">' in html


@pytest.mark.django_db
def test_the_history_tab_marks_an_overwrite_by_another_company(alice_client, jonas, chain_all_on):
    chain = chain_all_on
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    html = alice_client.get(so_url(chain.original, "history")).content.decode()

    assert "overwrote PO-7781 set by Alice Martin (USMF)" in html
    assert "is-overwrite" in html
    assert "Jonas Weber" in html
    # Alice does not work for DEMF: the source order is named, not linked.
    assert "copied from intercompany sales order DEMF-SO-000001" in html
    assert so_url(chain.mirror) not in html


@pytest.mark.django_db
def test_the_history_tab_runs_the_same_queries_for_2_or_40_changes(alice_client, alice, chain):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(so_url(chain.original, "history")).status_code == 200
        return len(captured)

    few = count()
    assert few > 0
    for i in range(40):
        update_customer_information(
            order=chain.original, employee=alice, customer_requisition=f"PO-{i}"
        )

    assert count() == few


@pytest.mark.django_db
def test_a_cancellation_shows_in_the_history(alice_client, alice, chain):
    cancel_order(order=chain.original, employee=alice)

    html = alice_client.get(so_url(chain.original, "history")).content.decode()

    assert 'data-label="Field">Status</td>' in html
    assert '<span class="old">Open</span>' in html
    assert '<span class="new">Cancelled</span>' in html


@pytest.mark.django_db
def test_the_purchase_order_page_names_the_vendor(alice_client, chain):
    html = alice_client.get(po_url(chain.purchase)).content.decode()

    assert "IC-DEMF Contoso Germany" in html
    assert "Create intercompany purchase order" not in html


@pytest.mark.django_db
def test_opening_an_order_of_another_of_the_clerks_companies_switches_to_it(
    login_client, usmf, demf, chain
):
    from tests.conftest import make_employee

    maria = make_employee("maria", usmf, demf)
    client = login_client(maria)
    client.post(reverse("orders:company-switch"), {"company": "USMF"}, follow=True)

    response = client.get(so_url(chain.mirror))

    assert response.status_code == 200
    assert "You now act for DEMF Contoso Germany, the company of DEMF-SO-000001." in (
        response.content.decode()
    )
    assert '<option value="DEMF" selected>' in response.content.decode()

