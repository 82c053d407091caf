"""Each employee's time zone: every date and time shown in it, the zone named on the History,
the Overwrites page and the CSV, and the Overwrites date filters meaning days in that zone."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from orders.models import OverwriteRecord, PurchaseOrder, SalesOrder
from orders.services import update_customer_information

# 23:30 UTC on 10 March: already 11 March in Tokyo, still 10 March in Chicago.
MOMENT = dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC)
PAGE = reverse("orders:overwrites")
CSV = reverse("orders:overwrites-csv")


@pytest.fixture
def overwritten_at_moment(chain_all_on, jonas):
    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="PO-7790"
    )
    for model in (SalesOrder, PurchaseOrder):
        model.history.update(history_date=MOMENT)  # ties keep their order by history_id
    # The Overwrites page and its CSV read the overwrite records, stored when they happen.
    OverwriteRecord.objects.update(at=MOMENT)
    return chain_all_on


def clerk(client, employee, zone: str):
    employee.time_zone = zone
    employee.save()
    client.force_login(employee)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone, day, shown",
    [
        ("Asia/Tokyo", "2026-03-11", "11 Mar 2026 08:30"),
        ("America/Chicago", "2026-03-10", "10 Mar 2026 18:30"),
        ("", "2026-03-10", "10 Mar 2026 23:30"),  # the group's default, UTC
    ],
)
def test_the_overwrites_page_shows_and_filters_days_in_the_employees_zone(
    client, alice, overwritten_at_moment, zone, day, shown
):
    clerk(client, alice, zone)
    response = client.get(PAGE, {"since": day, "until": day})
    html = response.content.decode()
    assert len(response.context["rows"]) == 2
    assert shown in html
    assert f"When ({zone or 'UTC'})" in html
    other_day = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    assert client.get(PAGE, {"since": other_day}).context["rows"] == []
    before = (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    assert client.get(PAGE, {"until": before}).context["rows"] == []


@pytest.mark.django_db
def test_the_history_shows_the_employees_clock_and_names_the_zone(
    client, alice, overwritten_at_moment
):
    clerk(client, alice, "Asia/Tokyo")
    html = client.get(
        reverse("orders:sales-order-history", args=[overwritten_at_moment.original.pk])
    ).content.decode()
    assert "Times are in Asia/Tokyo." in html
    assert "When (Asia/Tokyo)" in html
    assert '<time datetime="2026-03-11T08:30:00+09:00">11 Mar 2026 08:30:00</time>' in html


@pytest.mark.django_db
def test_the_csv_gives_times_in_the_employees_zone_and_names_it(
    client, alice, overwritten_at_moment
):
    clerk(client, alice, "America/Chicago")
    response = client.get(CSV)
    assert response.streaming  # the CSV is streamed, after a byte-order mark
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;")
    rows = list(csv.reader(io.StringIO(text), dialect))
    assert rows[0][0] == "When (America/Chicago)"
    assert {row[0] for row in rows[1:]} == {"2026-03-10 18:30:00"}


@pytest.mark.django_db
def test_the_order_page_shows_the_employees_clock(client, alice, overwritten_at_moment):
    SalesOrder.objects.filter(pk=overwritten_at_moment.original.pk).update(created_at=MOMENT)
    clerk(client, alice, "Asia/Tokyo")
    html = client.get(
        reverse("orders:sales-order-detail", args=[overwritten_at_moment.original.pk])
    ).content.decode()
    assert "11 Mar 2026 08:30" in html


@pytest.mark.django_db
def test_a_zone_never_leaks_to_the_next_request_of_another_employee(
    client, alice, jonas, overwritten_at_moment
):
    from django.test import Client

    clerk(client, alice, "Asia/Tokyo")
    client.get(PAGE)
    other = Client()
    other.force_login(jonas)  # no zone of his own: the group's default
    assert "When (UTC)" in other.get(PAGE).content.decode()


@pytest.mark.django_db
def test_the_demo_gives_each_clerk_their_companys_time_zone(db):
    from django.core.management import call_command

    from intercompany.models import Employee

    call_command("load_demo", stdout=io.StringIO())
    zones = dict(Employee.objects.values_list("username", "time_zone"))
    assert zones["alice"] == "America/Chicago"
    assert zones["jonas"] == "Europe/Berlin"
    assert zones["priya"] == "Europe/London"
    assert zones["admin"] == ""


@pytest.mark.django_db
def test_a_zone_the_machine_no_longer_knows_falls_back_to_the_default_instead_of_failing(
    client, alice
):
    from intercompany.models import Employee

    Employee.objects.filter(pk=alice.pk).update(time_zone="Atlantis/Capital")
    client.force_login(alice)
    response = client.get(PAGE)
    assert response.status_code == 200
    # Switching the language keeps the zone as it is (only the language is saved).
    client.post(reverse("switch-language"), {"language": "fr"})
    alice.refresh_from_db()
    assert (alice.language, alice.time_zone) == ("fr", "Atlantis/Capital")
