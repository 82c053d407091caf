"""The sales order and purchase order lists: the current company's orders, search, filters,
pagination, and a number of queries that does not grow with the data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.selectors import PAGE_SIZE
from orders.services import cancel_order, create_purchase_order, create_sales_order
from tests.conftest import make_customer, make_vendor

LIST = reverse("orders:sales-order-list")
PURCHASE_LIST = reverse("orders:purchase-order-list")


def numbers_in(response) -> list[str]:
    return [order.number for order in response.context["page"].orders]


@pytest.mark.django_db
def test_the_list_shows_the_current_companys_sales_orders_newest_first(
    alice_client, alice, jonas, usmf, demf, external_customer
):
    first = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    second = create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_reference="Spring"
    )
    create_sales_order(employee=jonas, company=demf, customer=make_customer(demf))

    response = alice_client.get(LIST)

    assert response.status_code == 200
    assert numbers_in(response) == [second.number, first.number]
    html = response.content.decode()
    assert "US-001 Fabrikam Retail" in html
    assert "Spring" in html
    assert "DEMF-SO" not in html


@pytest.mark.django_db
def test_the_list_shows_which_orders_are_intercompany(alice_client, chain):
    html = alice_client.get(LIST).content.decode()

    assert "original sales order" in html


@pytest.mark.django_db
def test_an_empty_list_says_so(alice_client):
    response = alice_client.get(PURCHASE_LIST)

    assert "USMF has no purchase orders yet." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("000002", ["USMF-SO-000002"]),
        ("adventure", ["USMF-SO-000002"]),
        ("US-777", ["USMF-SO-000002"]),
        ("autumn", ["USMF-SO-000001"]),
        ("req-55", ["USMF-SO-000002"]),
        ("nothing like this", []),
    ],
)
def test_search_finds_number_customer_reference_and_requisition(
    alice_client, alice, usmf, external_customer, query, expected
):
    other = make_customer(usmf, "US-777", "Adventure Works")
    create_sales_order(
        employee=alice, company=usmf, customer=external_customer, customer_reference="Autumn"
    )
    create_sales_order(employee=alice, company=usmf, customer=other, customer_requisition="REQ-55")

    response = alice_client.get(LIST, {"q": query})

    assert numbers_in(response) == expected
    if not expected:
        assert "No sales order matches these filters." in response.content.decode()


@pytest.mark.django_db
def test_search_on_purchase_orders_finds_the_vendor(alice_client, alice, usmf):
    vendor = make_vendor(usmf, "V-42", "Litware Components")
    create_purchase_order(employee=alice, company=usmf, vendor=make_vendor(usmf))
    order = create_purchase_order(employee=alice, company=usmf, vendor=vendor)

    response = alice_client.get(PURCHASE_LIST, {"q": "litware"})

    assert numbers_in(response) == [order.number]
    assert "Vendor" in response.content.decode()


@pytest.mark.django_db
def test_filter_intercompany_or_not(alice_client, alice, usmf, chain, external_customer):
    plain = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    assert numbers_in(alice_client.get(LIST, {"intercompany": "yes"})) == [chain.original.number]
    assert numbers_in(alice_client.get(LIST, {"intercompany": "no"})) == [plain.number]
    assert numbers_in(alice_client.get(PURCHASE_LIST, {"intercompany": "yes"})) == [
        chain.purchase.number
    ]


@pytest.mark.django_db
def test_filter_by_status(alice_client, alice, usmf, external_customer):
    kept = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    gone = create_sales_order(employee=alice, company=usmf, customer=external_customer)
    cancel_order(order=gone, employee=alice)

    assert numbers_in(alice_client.get(LIST, {"status": "cancelled"})) == [gone.number]
    assert numbers_in(alice_client.get(LIST, {"status": "open"})) == [kept.number]


@pytest.mark.django_db
def test_a_bad_filter_value_is_ignored_not_an_error(alice_client, alice, usmf, external_customer):
    create_sales_order(employee=alice, company=usmf, customer=external_customer)

    response = alice_client.get(LIST, {"status": "deleted", "page": "x", "q": "USMF"})

    assert response.status_code == 200
    assert numbers_in(response) == ["USMF-SO-000001"]


@pytest.mark.django_db
def test_pagination_pages_through_the_orders_keeping_the_filters(
    alice_client, alice, usmf, external_customer
):
    for _ in range(PAGE_SIZE + 3):
        create_sales_order(employee=alice, company=usmf, customer=external_customer)

    first = alice_client.get(LIST, {"status": "open"})
    second = alice_client.get(LIST, {"status": "open", "page": 2})

    assert len(numbers_in(first)) == PAGE_SIZE
    assert numbers_in(first)[0] == f"USMF-SO-{PAGE_SIZE + 3:06d}"
    assert numbers_in(second) == ["USMF-SO-000003", "USMF-SO-000002", "USMF-SO-000001"]
    html = first.content.decode()
    assert 'href="?status=open&amp;page=2"' in html
    assert "Page 1 · 1–50" in html
    second_html = second.content.decode()
    assert 'href="?status=open&amp;page=1"' in second_html
    assert 'rel="next"' not in second_html


@pytest.mark.django_db
def test_the_list_runs_the_same_queries_for_3_or_60_orders(
    alice_client, alice, usmf, external_customer
):
    """No count over the whole list, no query per row: the page stays fast with 100k orders
    (bench/bench_pages.py measures that on PostgreSQL)."""
    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(LIST, {"q": "USMF"}).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    for _ in range(3):
        create_sales_order(employee=alice, company=usmf, customer=external_customer)
    few = queries()
    for _ in range(57):
        create_sales_order(employee=alice, company=usmf, customer=external_customer)
    many = queries()

    assert 0 < len(few) == len(many)
    # The header's count of unread alerts is the one COUNT: on the partial index of unread alerts.
    assert not any("COUNT(" in sql.upper() and "ALERTS_ALERT" not in sql.upper() for sql in many)


@pytest.mark.parametrize("url", ["/sales-orders/", "/purchase-orders/"])
def test_a_page_number_beyond_any_list_is_not_a_500(alice_client, url):
    response = alice_client.get(f"{url}?page=99999999999999999999")
    assert response.status_code == 200
