"""The Overwrites page: cross-company overwrites on the current company's orders, filtered by
date range, field and other company, with CSV export."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.services import update_customer_information
from tests.conftest import make_employee, make_relationship

PAGE = reverse("orders:overwrites")
CSV = reverse("orders:overwrites-csv")


@pytest.fixture
def overwritten(jonas, chain_all_on):
    """Jonas (DEMF) replaces Alice's (USMF) customer requisition; the copy overwrites it on the
    original sales order and the intercompany purchase order of USMF."""
    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="PO-7790"
    )
    return chain_all_on


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_the_page_lists_the_overwrites_on_the_current_companys_orders(alice_client, overwritten):
    response = alice_client.get(PAGE)

    assert response.status_code == 200
    rows = response.context["rows"]
    assert sorted(r.order_number for r in rows) == ["USMF-PO-000001", "USMF-SO-000001"]
    html = response.content.decode()
    assert "Customer requisition" in html
    assert "PO-7781" in html and "PO-7790" in html
    assert "Alice Martin (USMF)" in html and "Jonas Weber (DEMF)" in html
    assert "copied from intercompany sales order DEMF-SO-000001" in html
    history = reverse("orders:sales-order-history", args=[overwritten.original.pk])
    assert f'<a href="{history}">USMF-SO-000001</a>' in html


@pytest.mark.django_db
def test_without_overwrites_the_page_says_so(alice_client, chain):
    html = alice_client.get(PAGE).content.decode()

    assert "No cross-company overwrite on USMF's orders." in html


@pytest.mark.django_db
def test_filter_by_field(alice_client, overwritten):
    assert len(alice_client.get(PAGE, {"field": "customer_requisition"}).context["rows"]) == 2
    assert alice_client.get(PAGE, {"field": "customer_reference"}).context["rows"] == []


@pytest.mark.django_db
def test_filter_by_date_range_includes_both_days(alice_client, overwritten):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)

    assert len(alice_client.get(PAGE, {"since": today, "until": today}).context["rows"]) == 2
    assert alice_client.get(PAGE, {"until": yesterday}).context["rows"] == []
    assert alice_client.get(
        PAGE, {"since": today + dt.timedelta(days=1)}
    ).context["rows"] == []


@pytest.mark.django_db
def test_filter_by_other_company(alice_client, overwritten, usmf, gbsi):
    make_relationship(usmf, gbsi)

    assert len(alice_client.get(PAGE, {"other_company": "DEMF"}).context["rows"]) == 2
    assert alice_client.get(PAGE, {"other_company": "GBSI"}).context["rows"] == []
    html = alice_client.get(PAGE).content.decode()
    assert '<option value="GBSI">' in html and '<option value="USMF">' not in html


@pytest.mark.django_db
def test_an_end_date_before_the_start_date_is_explained_next_to_the_field(alice_client):
    response = alice_client.get(PAGE, {"since": "2026-05-02", "until": "2026-05-01"})

    assert response.context["form"].errors == {"until": ["The end date is before the start date."]}
    assert 'id="id_until_error"' in response.content.decode()


@pytest.mark.django_db
def test_a_malformed_date_is_explained(alice_client):
    response = alice_client.get(PAGE, {"since": "yesterday"})

    assert response.context["form"].errors == {"since": ["Enter a valid date."]}


@pytest.mark.django_db
def test_the_csv_export_has_one_row_per_overwrite(alice_client, overwritten):
    response = alice_client.get(CSV, {"field": "customer_requisition"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="overwrites-USMF-')
    header, *rows = csv_rows(response)
    assert header[:6] == ["When (UTC)", "Company", "Order", "Order type", "Field", "Old value"]
    assert sorted(row[2] for row in rows) == ["USMF-PO-000001", "USMF-SO-000001"]
    so_row = next(row for row in rows if row[2] == "USMF-SO-000001")
    assert so_row[1:] == [
        "USMF", "USMF-SO-000001", "sales order", "Customer requisition", "PO-7781",
        "Alice Martin", "USMF", "PO-7790", "Jonas Weber", "DEMF",
        "copied from intercompany sales order DEMF-SO-000001",
    ]


@pytest.mark.django_db
def test_the_csv_export_keeps_the_filters_of_the_page(alice_client, overwritten):
    html = alice_client.get(PAGE, {"field": "customer_reference"}).content.decode()
    assert f'href="{CSV}?field=customer_reference"' in html

    response = alice_client.get(CSV, {"field": "customer_reference"})

    assert csv_rows(response)[1:] == []


@pytest.mark.django_db
def test_the_csv_export_never_hands_a_spreadsheet_a_formula(
    alice_client, jonas, alice, chain_all_on
):
    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="=HYPERLINK(1)"
    )

    rows = csv_rows(alice_client.get(CSV))

    assert any(row[8] == "'=HYPERLINK(1)" for row in rows[1:])


@pytest.mark.django_db
def test_the_csv_export_refuses_bad_filters_in_plain_words(alice_client):
    response = alice_client.get(CSV, {"since": "2026-13-01"})

    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()


@pytest.mark.django_db
def test_an_overwrite_by_a_colleague_of_the_same_company_is_not_listed(alice_client, chain, usmf):
    colleague = make_employee("bob", usmf)
    update_customer_information(
        order=chain.original, employee=colleague, customer_requisition="PO-1"
    )

    assert alice_client.get(PAGE).context["rows"] == []


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01", "until=0001-01-01"])
def test_dates_at_the_ends_of_the_calendar_are_refused_with_a_message_not_a_500(
    alice_client, query
):
    page = alice_client.get(f"/overwrites/?{query}")
    assert page.status_code == 200
    assert "between the years 1900 and 9998" in page.content.decode()
    assert alice_client.get(f"/overwrites.csv?{query}").status_code == 400
