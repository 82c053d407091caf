"""The HTTP API: tokens, scoping, the order resources, conditional requests, idempotency,
problem details, rate limiting."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken, IdempotencyRecord, RateLimitCounter
from intercompany.models import Company
from orders.models import OrderStatus, PurchaseOrder, SalesOrder
from orders.services import update_customer_information
from tests.api_support import API, ApiClient, token_client
from tests.conftest import make_customer, make_employee, order_state
from tests.fixtures_web import make_chain


@pytest.fixture
def api_alice(alice):
    return token_client(alice)


@pytest.fixture
def api_jonas(jonas):
    return token_client(jonas)


@pytest.fixture
def api_olga(olga):
    return token_client(olga)


@pytest.fixture
def chain(alice, external_customer, relationship):
    return make_chain(employee=alice, customer=external_customer, relationship=relationship,
                      customer_reference="Spring campaign", customer_requisition="PO-7781")


def so_url(order) -> str:
    return f"companies/{order.company.code}/sales-orders/{order.number}"


def po_url(order) -> str:
    return f"companies/{order.company.code}/purchase-orders/{order.number}"


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()


# -- authentication -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_token_the_api_answers_401_with_a_problem_document():
    response = Client().get(API + "companies/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert problem(response)["status"] == 401


def test_a_token_acts_as_its_employee_and_records_its_last_use(api_alice, alice):
    token = ApiToken.objects.get(employee=alice)
    assert token.last_used_at is None

    response = api_alice.get("companies/")

    assert response.status_code == 200
    assert response.json() == [{"code": "USMF", "name": "Contoso Entertainment USA"}]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_secret_is_not_stored_only_its_digest(alice):
    _token, secret = __import__("api.tokens", fromlist=["x"]).create_api_token(
        employee=alice, name="ERP")
    stored = ApiToken.objects.values_list("name", "prefix", "digest").get()
    assert secret not in "".join(stored)
    assert stored[1] == secret[:10]


def test_a_revoked_token_and_an_inactive_employee_are_refused(api_alice, alice):
    assert api_alice.get("companies/").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    assert api_alice.get("companies/").status_code == 401

    ApiToken.objects.update(revoked_at=None)
    alice.is_active = False
    alice.save()
    assert api_alice.get("companies/").status_code == 401


def test_a_wrong_token_is_refused(db):
    assert ApiClient("ict_not-a-real-token").get("companies/").status_code == 401
    assert ApiClient("something-else").get("companies/").status_code == 401


def test_the_browser_session_works_and_writes_need_the_csrf_token(alice, chain):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    url = API + so_url(chain.original)

    read = client.get(url)
    assert read.status_code == 200, read.content
    refused = client.patch(url, '{"customer_requisition": "X"}', content_type="application/json",
                           headers={"If-Match": '"1"'})
    assert refused.status_code == 403
    assert "CSRF" in problem(refused)["detail"]

    client.get(reverse("preferences"))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    version = SalesOrder.objects.get(pk=chain.original.pk).version
    accepted = client.patch(url, '{"customer_requisition": "PO-9"}',
                            content_type="application/json",
                            headers={"If-Match": f'"{version}"', "X-CSRFToken": token})
    assert accepted.status_code == 200, accepted.content
    assert SalesOrder.objects.get(pk=chain.original.pk).customer_requisition == "PO-9"


# -- tokens in the Preferences page -------------------------------------------------------------


def test_an_employee_creates_a_token_sees_it_once_and_revokes_it(alice_client, alice):
    page = alice_client.get(reverse("preferences")).content.decode()
    assert "API tokens" in page and "You have no API token." in page

    response = alice_client.post(reverse("preferences"),
                                 {"section": "api-tokens", "action": "create",
                                  "name": "Warehouse system"}, follow=True)
    page = response.content.decode()
    token = ApiToken.objects.get(employee=alice)
    secret = page.split('class="api-token-secret">')[1].split("<")[0]
    assert secret.startswith("ict_") and "Copy it now" in page
    assert "Warehouse system" in page and "never" in page
    assert ApiClient(secret).get("companies/").status_code == 200

    again = alice_client.get(reverse("preferences")).content.decode()
    assert secret not in again and token.prefix in again

    alice_client.post(reverse("preferences"),
                      {"section": "api-tokens", "action": "revoke", "token": token.pk})
    assert ApiClient(secret).get("companies/").status_code == 401
    assert "revoked" in alice_client.get(reverse("preferences")).content.decode()


def test_a_token_needs_a_name_and_nobody_revokes_anothers_token(alice_client, alice, jonas):
    response = alice_client.post(reverse("preferences"),
                                 {"section": "api-tokens", "action": "create", "name": "  "})
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0

    jonas_token = ApiToken.objects.create(employee=jonas, name="J", prefix="ict_x",
                                          digest="0" * 64)
    alice_client.post(reverse("preferences"),
                      {"section": "api-tokens", "action": "revoke", "token": jonas_token.pk})
    jonas_token.refresh_from_db()
    assert jonas_token.revoked_at is None


# -- scoping ------------------------------------------------------------------------------------


def test_another_companys_order_answers_404_like_a_missing_one(api_jonas, chain):
    foreign = api_jonas.get(so_url(chain.original))
    missing = api_jonas.get("companies/USMF/sales-orders/USMF-SO-999999")
    mine = api_jonas.get(so_url(chain.mirror))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.content == missing.content
    assert mine.status_code == 200
    # DEMF's own order shows the chain, linking only where Jonas works.
    links = {o["number"]: o["url"] for o in mine.json()["chain"]["orders"]}
    assert links[chain.original.number] is None
    assert links[chain.mirror.number].endswith(chain.mirror.number)


def test_problems_speak_the_callers_language_else_the_employees(api_jonas, jonas, chain):
    missing = "companies/DEMF/sales-orders/DEMF-SO-999999"
    assert problem(api_jonas.get(missing))["title"] == "Not found"

    jonas.language = "fr"
    jonas.save()
    in_french = problem(api_jonas.get(missing))
    assert (in_french["title"], in_french["detail"]) == (
        "Introuvable", "Cette commande n'existe pas.")
    asked = problem(api_jonas.get(missing, **{"Accept-Language": "en"}))
    assert asked["title"] == "Not found"
    etag = api_jonas.get(so_url(chain.mirror))["ETag"]
    refused = problem(api_jonas.patch(so_url(chain.mirror), {"customer_requisition": "x" * 41},
                                      **{"If-Match": etag}))
    assert refused["title"] == "Votre requête n'est pas valide"
    assert refused["errors"][0]["field"] == "customer_requisition"
    assert "caractères" in refused["errors"][0]["message"]


def test_the_company_named_in_the_request_must_be_one_of_the_employees(api_olga, chain):
    for path in ("companies/USMF", "companies/USMF/sales-orders/", "companies/USMF/overwrites",
                 "companies/USMF/customers",
                 f"companies/GBSI/sales-orders/{chain.original.number}"):
        assert api_olga.get(path).status_code == 404, path
    before = order_state()
    response = api_olga.post("companies/USMF/sales-orders/", {"customer": "US-001"})
    assert response.status_code == 404
    assert order_state() == before


# -- orders -------------------------------------------------------------------------------------


def test_the_list_searches_filters_and_pages_with_a_cursor(api_alice, alice, usmf,
                                                           external_customer):
    from orders.services import create_sales_order

    orders = [create_sales_order(employee=alice, company=usmf, customer=external_customer,
                                 customer_requisition=f"REQ-{i}") for i in range(5)]
    numbers = [o.number for o in reversed(orders)]

    first = api_alice.get("companies/USMF/sales-orders/?limit=2").json()
    assert [o["number"] for o in first["results"]] == numbers[:2]
    second = api_alice.get(first["next"]).json()
    assert [o["number"] for o in second["results"]] == numbers[2:4]
    last = api_alice.get(
        f"companies/USMF/sales-orders/?limit=2&cursor={second['next_cursor']}").json()
    assert [o["number"] for o in last["results"]] == numbers[4:]
    assert last["next"] is None and last["next_cursor"] is None

    found = api_alice.get("companies/USMF/sales-orders/?q=REQ-3").json()["results"]
    assert [o["customer_requisition"] for o in found] == ["REQ-3"]
    assert api_alice.get("companies/USMF/sales-orders/?intercompany=yes").json()["results"] == []
    assert len(api_alice.get("companies/USMF/sales-orders/?status=open").json()["results"]) == 5


def test_a_bad_filter_or_cursor_is_a_validation_problem(api_alice, usmf):
    bad = api_alice.get("companies/USMF/sales-orders/?status=lost")
    assert bad.status_code == 422
    body = problem(bad)
    assert body["errors"][0]["field"] == "status"
    assert "Select a valid choice" in body["errors"][0]["message"]

    cursor = api_alice.get("companies/USMF/sales-orders/?cursor=garbage!")
    assert cursor.status_code == 422
    assert problem(cursor)["errors"][0]["field"] == "cursor"


def test_the_detail_shows_the_chain_and_each_links_switch(api_alice, chain):
    response = api_alice.get(so_url(chain.original))

    assert response.status_code == 200
    assert response["ETag"] == f'"{chain.original.version}"'
    body = response.json()
    assert body["customer_requisition"] == "PO-7781"
    assert body["customer_requisition_set_by"] == {"employee": "Alice Martin", "company": "USMF"}
    assert [o["number"] for o in body["chain"]["orders"]] == [
        chain.original.number, chain.purchase.number, chain.mirror.number]
    links = {(link["source"], link["target"]): link for link in body["chain"]["links"]}
    back = links[(chain.mirror.number, chain.purchase.number)]
    assert back["on"] is False and back["policy_company"] == "DEMF"
    assert "sales order policy of DEMF" in back["off_reason"]
    assert links[(chain.original.number, chain.purchase.number)]["on"] is True


def test_every_order_shows_the_original_customer_and_the_order_it_came_from(
    api_alice, api_jonas, chain
):
    fabrikam = {"account": "US-001", "name": "Fabrikam Retail"}
    original = api_alice.get(so_url(chain.original)).json()
    assert original["original_customer"] == fabrikam
    assert original["original_customer_set_by"] == {"employee": "Alice Martin", "company": "USMF"}
    assert original["original_sales_order"] is None

    purchase = api_alice.get(po_url(chain.purchase)).json()
    assert purchase["original_customer"] == fabrikam
    assert purchase["original_sales_order"]["number"] == chain.original.number
    assert purchase["original_sales_order"]["url"].endswith(so_url(chain.original))
    listed = api_alice.get("companies/USMF/purchase-orders/").json()["results"]
    assert listed[0]["original_customer"] == fabrikam
    assert listed[0]["original_sales_order"]["number"] == chain.original.number

    mirror = api_jonas.get(so_url(chain.mirror)).json()
    assert mirror["original_customer"] == fabrikam
    # Named for DEMF's clerk, not linked: he does not work for USMF.
    assert mirror["original_sales_order"] == {
        "type": "sales", "number": chain.original.number, "company": "USMF",
        "role": "original sales order", "url": None}
    assert [row["original_customer"] for row in mirror["chain"]["orders"]] == [fabrikam] * 3


def test_changing_the_customer_changes_the_original_customer_along_the_chain(
    api_alice, api_jonas, chain, usmf
):
    make_customer(usmf, "US-002", "Northwind Traders")
    etag = api_alice.get(so_url(chain.original))["ETag"]

    response = api_alice.patch(so_url(chain.original), {"customer": "US-002"},
                               **{"If-Match": etag})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["order"]["customer"]["account"] == "US-002"
    assert body["order"]["original_customer"] == {"account": "US-002",
                                                  "name": "Northwind Traders"}
    assert chain.purchase.number in {o["number"] for o in body["result"]["copied_to"]}
    assert response["ETag"] == api_alice.get(so_url(chain.original))["ETag"]
    assert PurchaseOrder.objects.get(pk=chain.purchase.pk).original_customer_account == "US-002"
    history = api_alice.get(so_url(chain.original) + "/history").json()
    assert "original_customer_account" in {c["field"] for c in history[0]["changes"]}


def test_a_customer_change_the_order_cannot_take_is_refused_on_the_field(
    api_alice, api_jonas, chain, usmf
):
    before = order_state()

    def refusal(client, url, customer):
        etag = client.get(url)["ETag"]
        response = client.patch(url, {"customer": customer}, **{"If-Match": etag})
        assert response.status_code == 422, response.content
        [error] = problem(response)["errors"]
        assert error["field"] == "customer"
        return error["message"]

    assert refusal(api_alice, po_url(chain.purchase), "US-001") == (
        "Only a sales order has a customer.")
    assert "is an intercompany sales order" in refusal(api_jonas, so_url(chain.mirror), "DE-1")
    assert refusal(api_alice, so_url(chain.original), "US-404") == (
        "Choose one of the customers of USMF that is not an intercompany customer.")
    assert refusal(api_alice, so_url(chain.original), "") == (
        "Send the account of one of the customers of USMF.")
    assert order_state() == before

    # Its own customer sent back, as a client that sends every field does: no refusal.
    mirror = api_jonas.get(so_url(chain.mirror))
    same = api_jonas.patch(so_url(chain.mirror), {
        "customer": mirror.json()["customer"]["account"], "customer_requisition": "PO-DE"},
        **{"If-Match": mirror["ETag"]})
    assert same.status_code == 200, same.content
    assert same.json()["order"]["customer_requisition"] == "PO-DE"


def test_creating_each_of_the_four_ways(api_alice, api_jonas, alice, usmf, demf, relationship,
                                        external_customer):
    # An original sales order, then sourced from DEMF: three legs.
    created = api_alice.post("companies/USMF/sales-orders/",
                             {"customer": "US-001", "customer_requisition": "PO-1"})
    assert created.status_code == 201, created.content
    number = created.json()["order"]["number"]
    assert created["Location"].endswith(number)
    sourced = api_alice.post(f"companies/USMF/sales-orders/{number}/intercompany-purchase-orders",
                             {"vendor": relationship.intercompany_vendor.account})
    assert sourced.status_code == 201, sourced.content
    body = sourced.json()
    assert [o["role"] for o in body["created"]] == [
        "intercompany purchase order", "intercompany sales order"]
    assert body["message"].startswith("Created intercompany purchase order USMF-PO-")
    assert body["created"][1]["url"] is None  # DEMF's order: Alice does not work there

    # A purchase order to the intercompany vendor: two legs.
    po = api_alice.post("companies/USMF/purchase-orders/",
                        {"vendor": relationship.intercompany_vendor.account})
    assert po.status_code == 201
    assert po.json()["created"][1]["company"] == "DEMF"

    # A sales order (in DEMF) to the intercompany customer USMF: two legs the other way.
    so = api_jonas.post("companies/DEMF/sales-orders/",
                        {"customer": relationship.intercompany_customer.account})
    assert so.status_code == 201
    assert so.json()["created"][1]["role"] == "intercompany purchase order"
    assert SalesOrder.objects.count() == 4 and PurchaseOrder.objects.count() == 3


def test_creation_refuses_with_the_forms_messages_and_saves_nothing(api_alice, usmf,
                                                                    external_customer):
    before = order_state()

    unknown = api_alice.post("companies/USMF/sales-orders/", {"customer": "NOPE"})
    too_long = api_alice.post("companies/USMF/sales-orders/",
                              {"customer": "US-001", "customer_reference": "x" * 61})
    control = api_alice.post("companies/USMF/sales-orders/",
                             {"customer": "US-001", "customer_requisition": "a\tb"})

    assert unknown.status_code == too_long.status_code == control.status_code == 422
    assert problem(unknown)["errors"] == [
        {"field": "customer", "message": "Choose one of the customers of USMF."}]
    assert problem(too_long)["errors"] == [{
        "field": "customer_reference",
        "message": "Customer reference is too long: at most 60 characters (it has 61).",
    }]
    assert problem(control)["errors"][0]["field"] == "customer_requisition"
    assert order_state() == before


def test_an_inactive_relationship_refuses_with_409(api_alice, chain):
    chain.relationship.active = False
    chain.relationship.save()
    response = api_alice.post("companies/USMF/purchase-orders/",
                              {"vendor": chain.relationship.intercompany_vendor.account})
    assert response.status_code == 409
    assert "inactive" in problem(response)["detail"]


# -- conditional requests -----------------------------------------------------------------------


def test_an_edit_without_if_match_is_refused_with_428(api_alice, chain):
    before = order_state()
    response = api_alice.patch(so_url(chain.original), {"customer_requisition": "PO-1"})
    assert response.status_code == 428
    assert "If-Match" in problem(response)["detail"]
    star = api_alice.patch(so_url(chain.original), {"customer_requisition": "PO-1"},
                           **{"If-Match": "*"})
    assert star.status_code == 428
    assert order_state() == before


def test_an_edit_says_where_it_was_copied_and_why_not_elsewhere(api_alice, chain):
    etag = api_alice.get(so_url(chain.original))["ETag"]

    response = api_alice.patch(so_url(chain.original), {"customer_requisition": "PO-7790"},
                               **{"If-Match": etag})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["result"]["message"] == (
        f"{chain.original.number} saved. Copied to {chain.purchase.number} and "
        f"{chain.mirror.number}.")
    assert [o["number"] for o in body["result"]["copied_to"]] == [
        chain.purchase.number, chain.mirror.number]
    assert body["order"]["customer_requisition"] == "PO-7790"
    assert response["ETag"] == f'"{body["order"]["version"]}"' != etag
    assert chain.refresh().mirror.customer_requisition == "PO-7790"
    assert body["order"]["customer_reference"] == "Spring campaign"  # not sent: unchanged


def test_an_edit_stopped_by_a_switch_says_which(api_jonas, chain):
    etag = api_jonas.get(so_url(chain.mirror))["ETag"]
    body = api_jonas.patch(so_url(chain.mirror), {"customer_reference": "Ours"},
                           **{"If-Match": etag}).json()
    assert body["result"]["copied_to"] == []
    [blocked] = body["result"]["not_copied"]
    assert blocked["number"] == chain.purchase.number and blocked["company"] == "USMF"
    assert "sales order policy of DEMF" in blocked["reason"]


def test_a_stale_edit_is_refused_with_412_and_the_current_order(api_alice, api_jonas, chain,
                                                                 jonas):
    chain.relationship.sales_policy_syncs_intercompany_purchase_order = True
    chain.relationship.save()
    etag = api_alice.get(so_url(chain.original))["ETag"]
    mirror = SalesOrder.objects.get(pk=chain.mirror.pk)
    update_customer_information(order=mirror, employee=jonas, customer_requisition="PO-DE")
    before = order_state()

    response = api_alice.patch(so_url(chain.original), {"customer_requisition": "PO-US"},
                               **{"If-Match": etag})

    assert response.status_code == 412
    body = problem(response)
    assert body["current"]["customer_requisition"] == "PO-DE"
    assert body["current"]["customer_requisition_set_by"] == {
        "employee": "Jonas Weber", "company": "DEMF"}
    assert response["ETag"] == f'"{body["current"]["version"]}"' != etag
    assert order_state() == before
    retry = api_alice.patch(so_url(chain.original), {"customer_requisition": "PO-US"},
                            **{"If-Match": response["ETag"]})
    assert retry.status_code == 200


def test_an_edit_with_bad_values_uses_the_forms_messages(api_alice, chain):
    etag = api_alice.get(so_url(chain.original))["ETag"]
    before = order_state()
    response = api_alice.patch(so_url(chain.original),
                               {"customer_requisition": "x" * 41, "customer_reference": "ok"},
                               **{"If-Match": etag})
    assert response.status_code == 422
    assert problem(response)["errors"] == [{
        "field": "customer_requisition",
        "message": "Customer requisition is too long: at most 40 characters (it has 41).",
    }]
    wrong_type = api_alice.patch(so_url(chain.original), {"customer_reference": 5},
                                 **{"If-Match": etag})
    assert wrong_type.status_code == 422
    assert problem(wrong_type)["errors"][0]["field"] == "customer_reference"
    assert order_state() == before


def test_cancelling_needs_if_match_and_stops_the_copies(api_alice, chain):
    url = so_url(chain.original) + "/cancel"
    assert api_alice.post(url).status_code == 428
    etag = api_alice.get(so_url(chain.original))["ETag"]
    assert api_alice.post(url, **{"If-Match": '"999"'}).status_code == 412

    response = api_alice.post(url, **{"If-Match": etag})

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert SalesOrder.objects.get(pk=chain.original.pk).status == OrderStatus.CANCELLED
    link = next(link for link in response.json()["chain"]["links"]
                if link["source"] == chain.original.number)
    assert link["on"] is False and "cancelled" in link["off_reason"]


# -- history and overwrites ---------------------------------------------------------------------


def test_history_timeline_and_overwrites(api_alice, api_jonas, chain, jonas):
    chain.relationship.sales_policy_syncs_intercompany_purchase_order = True
    chain.relationship.save()
    etag = api_jonas.get(so_url(chain.mirror))["ETag"]
    api_jonas.patch(so_url(chain.mirror), {"customer_requisition": "PO-7790"},
                    **{"If-Match": etag})

    history = api_alice.get(so_url(chain.original) + "/history").json()
    newest = history[0]
    assert newest["kind"] == "synced"
    assert newest["by"] == {"employee": "Jonas Weber", "company": "DEMF"}
    assert newest["changes"][0]["overwrote"] == {"employee": "Alice Martin", "company": "USMF"}
    # Copied from DEMF's order, which Alice may not open: named, not linked.
    assert newest["source"]["number"] == chain.mirror.number
    assert newest["source"]["url"] is None

    timeline = api_alice.get(so_url(chain.original) + "/timeline/customer_requisition").json()
    assert [e["value"] for e in timeline] == ["PO-7781", "PO-7790"]
    assert api_alice.get(so_url(chain.original) + "/timeline/status").status_code == 404

    overwrites = api_alice.get("companies/USMF/overwrites?other_company=DEMF").json()
    assert {row["order"]["number"] for row in overwrites["results"]} == {
        chain.original.number, chain.purchase.number}
    assert "was overwritten by `PO-7790` by Jonas Weber, DEMF" in (
        overwrites["results"][0]["description"])
    assert api_alice.get("companies/USMF/overwrites?field=status").status_code == 422
    bad_dates = api_alice.get("companies/USMF/overwrites?since=2026-05-02&until=2026-05-01")
    assert problem(bad_dates)["errors"] == [
        {"field": "until", "message": "The end date is before the start date."}]


def test_overwrites_are_paged_by_cursor_newest_first_without_gaps(api_alice, api_jonas, chain):
    chain.relationship.sales_policy_syncs_intercompany_purchase_order = True
    chain.relationship.save()
    # Each round overwrites twice on each of USMF's two orders: Jonas replaces Alice's value,
    # then Alice replaces Jonas's.
    for n in range(3):
        etag = api_jonas.get(so_url(chain.mirror))["ETag"]
        api_jonas.patch(so_url(chain.mirror), {"customer_requisition": f"PO-J{n}"},
                        **{"If-Match": etag})
        etag = api_alice.get(so_url(chain.original))["ETag"]
        api_alice.patch(so_url(chain.original), {"customer_requisition": f"PO-A{n}"},
                        **{"If-Match": etag})

    everything = api_alice.get("companies/USMF/overwrites?limit=200").json()
    assert everything["next_cursor"] is None and everything["next"] is None
    seen, url = [], "companies/USMF/overwrites?limit=2&field=customer_requisition"
    while url:
        page = api_alice.get(url).json()
        assert len(page["results"]) <= 2
        seen += page["results"]
        url = page["next"]  # a path, followed as it is
        assert (url is None) == (page["next_cursor"] is None)
    assert len(seen) == 12
    assert seen == everything["results"]
    assert [row["at"] for row in seen] == sorted((row["at"] for row in seen), reverse=True)
    assert "field=customer_requisition" in api_alice.get(
        "companies/USMF/overwrites?limit=2&field=customer_requisition").json()["next"]

    for cursor in ("not-a-cursor", "²3.x"):
        bad = api_alice.get(f"companies/USMF/overwrites?cursor={cursor}")
        assert bad.status_code == 422, cursor
        assert problem(bad)["errors"][0]["field"] == "cursor"
    # A time the database cannot hold in UTC is read as no position: the first page.
    beyond = api_alice.get("companies/USMF/overwrites?limit=2&cursor=1.9999-12-31T23:59:59-14:00")
    assert beyond.status_code == 200
    assert beyond.json()["results"] == everything["results"][:2]


# -- trading relationships ----------------------------------------------------------------------


def test_relationships_are_read_by_either_company_and_changed_by_their_administrators(
    api_alice, api_jonas, api_olga, alice, chain
):
    from django.contrib.auth.models import Group

    from intercompany.admin_scoping import RELATIONSHIP_ADMINISTRATORS_GROUP

    rid = chain.relationship.pk
    assert [r["id"] for r in api_alice.get("trading-relationships/").json()] == [rid]
    as_jonas = api_jonas.get(f"trading-relationships/{rid}").json()
    assert as_jonas["may_change"] is False
    assert {s["why_not"] for s in as_jonas["switches"]} == {
        "Only superusers and members of the group “Trading relationship administrators” "
        "change trading relationships."}
    assert api_olga.get("trading-relationships/").json() == []
    assert api_olga.get(f"trading-relationships/{rid}").status_code == 404

    refused = api_alice.patch(f"trading-relationships/{rid}", {"active": False})
    assert refused.status_code == 403
    assert problem(refused)["status"] == 403

    alice.is_staff = True
    alice.save()
    alice.groups.add(Group.objects.create(name=RELATIONSHIP_ADMINISTRATORS_GROUP))
    # Each switch says whether she may change it, and why not, as the admin does.
    read = api_alice.get(f"trading-relationships/{rid}").json()
    rights = {s["name"]: (s["company"], s["may_change"], s["why_not"]) for s in read["switches"]}
    assert rights["purchase_policy_syncs_intercompany_sales_order"] == ("USMF", True, None)
    company, may, why = rights["sales_policy_syncs_intercompany_purchase_order"]
    assert (company, may) == ("DEMF", False) and "belongs to DEMF" in why
    assert read["may_change"] is True
    assert read["may_change_active"] is False  # the relationship concerns DEMF too
    # Each company changes only its own policy: Alice works for USMF, the buying company.
    theirs = api_alice.patch(f"trading-relationships/{rid}",
                             {"sales_policy_syncs_intercompany_purchase_order": True})
    assert theirs.status_code == 403
    assert "the sales order policy belongs to DEMF" in problem(theirs)["detail"]
    before = chain.relationship.purchase_policy_syncs_intercompany_sales_order
    theirs_before = chain.relationship.sales_policy_syncs_intercompany_purchase_order
    changed = api_alice.patch(f"trading-relationships/{rid}",
                              {"purchase_policy_syncs_intercompany_sales_order": not before})
    assert changed.status_code == 200
    assert changed.json()["purchase_policy_syncs_intercompany_sales_order"] is (not before)
    chain.relationship.refresh_from_db()
    assert chain.relationship.purchase_policy_syncs_intercompany_sales_order is (not before)
    assert chain.relationship.sales_policy_syncs_intercompany_purchase_order is theirs_before
    assert chain.relationship.active
    history = chain.relationship.history.first()
    assert history.history_user_id == alice.pk
    bad = api_alice.patch(f"trading-relationships/{rid}", {"active": "yes"})
    assert bad.status_code == 422


# -- idempotency --------------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_return_the_first_result(api_alice, usmf,
                                                                   external_customer):
    body = {"customer": "US-001", "customer_requisition": "PO-1"}
    first = api_alice.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "k-1"})
    second = api_alice.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "k-1"})

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"] and second["Idempotent-Replayed"] == "true"
    assert SalesOrder.objects.count() == 1

    other = api_alice.post("companies/USMF/sales-orders/", {**body, "customer_requisition": "2"},
                           **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert "already used" in problem(other)["detail"]
    assert SalesOrder.objects.count() == 1

    fresh_key = api_alice.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "k-2"})
    assert fresh_key.status_code == 201
    assert SalesOrder.objects.count() == 2


def test_an_idempotency_key_expires_after_24_hours_and_a_failure_is_not_kept(api_alice, usmf,
                                                                             external_customer):
    body = {"customer": "US-001"}
    api_alice.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "k"})
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    again = api_alice.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "k"})
    assert again.status_code == 201 and not again.has_header("Idempotent-Replayed")
    assert SalesOrder.objects.count() == 2

    failed = api_alice.post("companies/USMF/sales-orders/", {"customer": "NOPE"},
                            **{"Idempotency-Key": "f"})
    assert failed.status_code == 422
    fixed = api_alice.post("companies/USMF/sales-orders/", {"customer": "NOPE"},
                           **{"Idempotency-Key": "f"})
    assert fixed.status_code == 422  # ran again, not replayed
    assert not IdempotencyRecord.objects.filter(key="f").exists()


def test_idempotency_keys_belong_to_their_employee(api_alice, alice, usmf, external_customer):
    sam = make_employee("sam", usmf)
    api_sam = token_client(sam)
    body = {"customer": "US-001"}
    api_alice.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "same"})
    response = api_sam.post("companies/USMF/sales-orders/", body, **{"Idempotency-Key": "same"})
    assert response.status_code == 201 and not response.has_header("Idempotent-Replayed")
    assert SalesOrder.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_parallel_requests_with_the_same_key_create_one_chain(usmf, demf, alice):
    from tests.conftest import make_relationship, run_in_threads

    relationship = make_relationship(usmf, demf)
    make_customer(usmf, "US-001", "Fabrikam")
    _token, secret = __import__("api.tokens", fromlist=["x"]).create_api_token(
        employee=alice, name="ERP")
    body = {"vendor": relationship.intercompany_vendor.account, "customer_requisition": "P-1"}
    answers = [None, None]

    def send(index, barrier):
        client = ApiClient(secret)
        barrier.wait()
        answers[index] = client.post("companies/USMF/purchase-orders/", body,
                                     **{"Idempotency-Key": "parallel-1"})

    # Hold the first request inside its transaction so the second one arrives meanwhile.
    from django.db.models.signals import post_save

    entered = threading.Event()

    def slow(sender, instance, created, **kwargs):
        if created and not entered.is_set():
            entered.set()
            time.sleep(1.0)

    post_save.connect(slow, sender=PurchaseOrder, dispatch_uid="slow-po")
    try:
        errors = run_in_threads(2, send)
    finally:
        post_save.disconnect(dispatch_uid="slow-po", sender=PurchaseOrder)

    assert errors == []
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(a.has_header("Idempotent-Replayed") for a in answers) == [False, True]
    assert PurchaseOrder.objects.count() == 1 and SalesOrder.objects.count() == 1
    assert connection.vendor == "postgresql"


# -- rate limiting ------------------------------------------------------------------------------


def test_requests_beyond_the_limit_answer_429_with_retry_after(api_alice, api_jonas, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    answers = [api_alice.get("companies/") for _ in range(4)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["RateLimit-Remaining"] == "2"
    retry = int(answers[3]["Retry-After"])
    assert 1 <= retry <= 60
    assert problem(answers[3])["status"] == 429
    # Per token: Jonas's token has its own count.
    assert api_jonas.get("companies/").status_code == 200
    # The count is in the database, shared by every process.
    assert RateLimitCounter.objects.get(key__startswith="token:",
                                        count=4).count == 4


def test_the_window_resets_the_count(api_alice, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert api_alice.get("companies/").status_code == 200
    assert api_alice.get("companies/").status_code == 429
    RateLimitCounter.objects.update(window_start=0)  # as if the minute were over
    assert api_alice.get("companies/").status_code == 200
    assert RateLimitCounter.objects.count() == 1  # the old window is forgotten


# -- the schema and its documentation page ------------------------------------------------------


def test_the_schema_and_the_documentation_page_are_served_without_a_cdn(api_alice, alice_client):
    schema = api_alice.get("openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    assert "/api/v1/companies/{company}/sales-orders/{number}" in schema.json()["paths"]

    page = alice_client.get(API + "docs/")
    assert page.status_code == 200
    html = page.content.decode()
    # Every script and stylesheet from this server (a bare "cdn" test failed whenever the
    # page's random CSRF token happened to contain those three letters).
    assets = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    asset = [part for part in html.split('"') if part.endswith("swagger-ui-bundle.js")][0]
    assert alice_client.get(asset).status_code == 200

    assert Client().get(API + "openapi.json").status_code == 401
    assert Client().get(API + "docs/").status_code == 302


def test_company_list_is_only_the_employees(api_alice, usmf, demf):
    sam = make_employee("sam", usmf, demf)
    assert [c["code"] for c in token_client(sam).get("companies/").json()] == ["DEMF", "USMF"]
    assert Company.objects.count() == 2
    assert api_alice.get("companies/DEMF").status_code == 404
