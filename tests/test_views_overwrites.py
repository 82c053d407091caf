"""The Overwrites page: cross-company overwrites on the current company's orders, filtered by
date range, field and other company, with CSV export."""

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from orders import selectors
from orders.history import cross_company_overwrites
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


def csv_text(response) -> str:
    assert response.streaming
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # a byte-order mark: spreadsheets read UTF-8
    return data.decode("utf-8-sig")


def csv_rows(response, delimiter=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(csv_text(response)), delimiter=delimiter))


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
def test_the_csv_export_in_french_separates_with_semicolons_for_a_french_spreadsheet(
    alice_client, alice, jonas, chain_all_on
):
    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="Réf; 1,5 €"
    )
    # The request's language is the employee's saved one (Preferences), not the caller's.
    alice.language = "fr"
    alice.save(update_fields=["language"])

    response = alice_client.get(CSV)
    text = csv_text(response)

    assert text.splitlines()[0].count(";") == 11
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert {row[8] for row in rows[1:]} == {"Réf; 1,5 €"}
    assert len(rows[1]) == 12


@pytest.mark.django_db
def test_the_csv_export_in_english_separates_with_commas(alice_client, overwritten):
    with translation.override("en"):
        text = csv_text(alice_client.get(CSV))

    assert text.splitlines()[0].count(",") == 11


@pytest.mark.django_db
def test_the_csv_export_streams_its_header_first_and_reads_without_id_lists(
    alice_client, alice, jonas, chain_all_on
):
    """The header leaves before any row is read; the rows come from one query whose text does
    not grow with their number (no list of ids), however many overwrites there are."""
    def export() -> tuple[bytes, list[str], int]:
        with CaptureQueriesContext(connection) as captured:
            response = alice_client.get(CSV)
            pieces = iter(response.streaming_content)
            first = next(pieces)
            before_rows = len(captured.captured_queries)
            rest = b"".join(pieces)
        return first, [q["sql"] for q in captured.captured_queries[before_rows:]], rest.count(
            b"\n"
        )

    update_customer_information(order=chain_all_on.mirror, employee=jonas,
                                customer_requisition="J-0")
    first, few, rows_few = export()
    for n in range(1, 8):
        update_customer_information(order=chain_all_on.original, employee=alice,
                                    customer_requisition=f"A-{n}")
        update_customer_information(order=chain_all_on.mirror, employee=jonas,
                                    customer_requisition=f"J-{n}")
    _first, many, rows_many = export()

    assert first.startswith(b"\xef\xbb\xbfWhen") and first.count(b"\n") == 1
    assert rows_many > rows_few > 0
    assert len(few) == len(many) == 1
    assert " IN (" not in many[0].upper()
    assert len(many[0]) == len(few[0])


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


def _follow(client, response, rel):
    match = re.search(rf'rel="{rel}" href="([^"]+)"', response.content.decode())
    return client.get(PAGE + unescape(match.group(1))) if match else None


def _keys(response) -> list[tuple]:
    return [(r.order_number, r.new_value) for r in response.context["rows"]]


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{}, {"other_company": "DEMF"},
                                    {"field": "customer_requisition"}])
def test_the_overwrites_page_pages_through_every_overwrite_newest_first_and_back(
    alice_client, alice, jonas, chain_all_on, monkeypatch, params
):
    monkeypatch.setattr(selectors, "OVERWRITES_PAGE_SIZE", 3)
    for n in range(4):  # each of Jonas's edits overwrites Alice's value on two USMF orders
        update_customer_information(order=chain_all_on.original, employee=alice,
                                    customer_requisition=f"A-{n}")
        update_customer_information(order=chain_all_on.mirror, employee=jonas,
                                    customer_requisition=f"J-{n}")
    expected = [(o.order_number, o.new_value) for o in cross_company_overwrites(
        company=alice.companies.get()
    )]
    assert len(expected) == 14  # Alice's edits overwrite Jonas's too, from the second on

    pages = [alice_client.get(PAGE, params)]
    while (following := _follow(alice_client, pages[-1], "next")) is not None:
        pages.append(following)

    assert [len(_keys(p)) for p in pages] == [3, 3, 3, 3, 2]
    assert [key for p in pages for key in _keys(p)] == expected
    back = _follow(alice_client, pages[2], "prev")
    assert _keys(back) == _keys(pages[1])
    assert "« First" in pages[2].content.decode()
    assert 'rel="prev"' not in pages[0].content.decode()


@pytest.mark.django_db
def test_a_link_to_older_overwrites_shows_the_same_ones_after_new_overwrites(
    alice_client, alice, jonas, chain_all_on, monkeypatch
):
    monkeypatch.setattr(selectors, "OVERWRITES_PAGE_SIZE", 2)
    for n in range(2):
        update_customer_information(order=chain_all_on.original, employee=alice,
                                    customer_requisition=f"A-{n}")
        update_customer_information(order=chain_all_on.mirror, employee=jonas,
                                    customer_requisition=f"J-{n}")
    first = alice_client.get(PAGE)
    link = re.search(r'rel="next" href="([^"]+)"', first.content.decode()).group(1)
    older = _keys(alice_client.get(PAGE + unescape(link)))

    update_customer_information(order=chain_all_on.mirror, employee=jonas,
                                customer_requisition="J-new")

    assert _keys(alice_client.get(PAGE + unescape(link))) == older


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"after": "nonsense"}, {"before": "1.2026-99-01"},
                                    {"after": "5.2026-01-01T00:00:00"}])
def test_a_damaged_overwrites_link_shows_the_newest_overwrites(alice_client, overwritten, params):
    response = alice_client.get(PAGE, params)

    assert response.status_code == 200
    assert len(response.context["rows"]) == 2
