"""Change events (webhooks): written with the change, scoped to the endpoint's company, delivered
by the background worker to a real HTTP receiver that verifies the Standard Webhooks signature,
retried on errors and timeouts, given up after the retry window, and an endpoint that keeps
failing is disabled with an email to its company's administrators.

The worker-process tests (SIGKILL mid-delivery) are in tests/test_webhooks_worker.py.
"""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from intercompany.services import update_trading_relationship
from orders import services
from tests.conftest import EVERY_SWITCH_ON, make_customer, make_employee, make_relationship
from tests.conftest import make_three_legged_chain as three_legged
from webhooks.models import (
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    Event,
    EventType,
    WebhookEndpoint,
)
from webhooks.services import create_endpoint, send_again, update_endpoint

pytestmark = pytest.mark.django_db

ALL_EVENTS = list(EventType.values)


@pytest.fixture(autouse=True)
def receivers_on_this_machine(settings):
    """The receivers of these tests listen on 127.0.0.1, which production refuses
    (webhooks/addresses.py): allowed here, as an operator allows an internal network."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def run_worker(monkeypatch):
    """``run_worker()``: the real worker runs every ready task of every queue (the deliveries'
    ``webhooks`` queue and the ``default`` one of the notices) in this process, until none is
    ready. The retries and the lease follow-ups that are not due yet stay queued."""
    import signal

    from django.core.management import call_command
    from django.db import connection
    from django_tasks_db.management.commands import db_worker

    if connection.in_atomic_block:
        # The worker closes connections as a request does; here it shares the test's
        # transaction, which must stay open (see tests/fixtures_tasks.py).
        monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0,
                         verbosity=0, queue_name="*")
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)

    return run


@pytest.fixture
def quick_retries(settings):
    """Retries at once and short timeouts, so the worker's retries run within the test."""
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5


def endpoint_for(company, url, *, events=ALL_EVENTS, receiver=None) -> WebhookEndpoint:
    admin = make_employee(f"admin-{company.code.lower()}-{WebhookEndpoint.objects.count()}",
                          company, is_staff=True)
    endpoint = create_endpoint(employee=admin, company=company, url=url, event_types=events)
    if receiver is not None:
        receiver.secret = endpoint.secret
    return endpoint


@pytest.fixture
def every_switch_on(usmf, demf):
    return make_relationship(usmf, demf, **EVERY_SWITCH_ON)


@pytest.fixture
def chain(alice, every_switch_on, external_customer):
    return three_legged(employee=alice, relationship=every_switch_on, customer=external_customer,
                        customer_requisition="PO-7781")


def events_of(endpoint, event_type: str | None = None) -> list[dict]:
    deliveries = endpoint.deliveries.select_related("event").order_by("pk")
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    return [d.event.payload for d in deliveries]


# -- the outbox: what is written, for whom ------------------------------------------------------


def test_an_edit_copied_along_the_chain_reaches_each_company_with_where_it_went(
    chain, jonas, usmf, demf, gbsi
):
    usmf_hook = endpoint_for(usmf, "https://usmf.example.com/hooks")
    demf_hook = endpoint_for(demf, "https://demf.example.com/hooks")
    gbsi_hook = endpoint_for(gbsi, "https://gbsi.example.com/hooks")

    services.update_customer_information(order=chain.mirror, employee=jonas,
                                         customer_requisition="PO-7790")

    (edited,) = events_of(demf_hook, "order.customer_information_changed")
    data = edited["data"]
    assert data["how"] == "edited" and data["order"]["number"] == chain.mirror.number
    assert data["order"]["customer_requisition"] == "PO-7790"
    assert data["changed_fields"] == ["customer_requisition"]
    assert data["changed_by"] == {"id": jonas.pk, "username": "jonas", "name": "Jonas Weber",
                                  "company": "DEMF"}
    assert {o["number"] for o in data["copied_to"]} == {chain.purchase.number,
                                                        chain.original.number}
    copies = events_of(usmf_hook, "order.customer_information_changed")
    assert {c["data"]["order"]["number"] for c in copies} == {chain.purchase.number,
                                                              chain.original.number}
    for copy in copies:
        assert copy["data"]["how"] == "copied"
        assert copy["data"]["copied_from"]["number"] == chain.mirror.number
        assert copy["data"]["order"]["customer_requisition"] == "PO-7790"
        assert copy["data"]["order"]["company"] == "USMF"
    assert events_of(gbsi_hook) == []


def test_an_overwrite_tells_whose_value_was_replaced_by_whom(chain, jonas, usmf, demf, gbsi):
    usmf_hook = endpoint_for(usmf, "https://usmf.example.com/hooks",
                             events=["order.customer_information_overwritten"])
    gbsi_hook = endpoint_for(gbsi, "https://gbsi.example.com/hooks")

    services.update_customer_information(order=chain.mirror, employee=jonas,
                                         customer_requisition="PO-7790")

    overwrites = events_of(usmf_hook)
    assert {o["data"]["order"]["number"] for o in overwrites} == {chain.original.number,
                                                                  chain.purchase.number}
    for overwrite in overwrites:
        data = overwrite["data"]
        assert overwrite["type"] == "order.customer_information_overwritten"
        assert data["field"] == "customer_requisition" and data["order"]["company"] == "USMF"
        assert data["old"]["value"] == "PO-7781" and data["old"]["company"] == "USMF"
        assert data["old"]["employee"]["name"] == "Alice Martin"
        assert data["new"]["value"] == "PO-7790" and data["new"]["company"] == "DEMF"
        assert data["new"]["employee"]["name"] == "Jonas Weber"
        assert data["how"] == "copied" and data["via"]["number"] in (chain.mirror.number,
                                                                     chain.purchase.number)
    assert events_of(gbsi_hook) == []


def test_an_edit_stopped_by_a_switch_says_why_and_the_other_company_hears_nothing(
    alice, relationship, external_customer, usmf, demf
):
    chain = three_legged(employee=alice, relationship=relationship, customer=external_customer)
    update_trading_relationship(relationship=relationship, employee=None,
                                purchase_policy_syncs_intercompany_sales_order=False)
    usmf_hook = endpoint_for(usmf, "https://usmf.example.com/hooks",
                             events=["order.customer_information_changed"])
    demf_hook = endpoint_for(demf, "https://demf.example.com/hooks")

    services.update_customer_information(order=chain.original, employee=alice,
                                         customer_reference="Spring campaign")

    events = events_of(usmf_hook)
    assert [e["data"]["order"]["number"] for e in events] == [chain.original.number,
                                                              chain.purchase.number]
    (not_copied,) = events[0]["data"]["not_copied"]
    assert not_copied["order"]["number"] == chain.mirror.number
    assert "switched off" in not_copied["reason"]
    assert events_of(demf_hook) == []


def test_creating_a_chain_tells_each_company_of_its_own_order(alice, relationship, usmf, demf,
                                                              gbsi):
    usmf_hook = endpoint_for(usmf, "https://usmf.example.com/hooks")
    demf_hook = endpoint_for(demf, "https://demf.example.com/hooks")
    gbsi_hook = endpoint_for(gbsi, "https://gbsi.example.com/hooks")

    po = services.create_purchase_order(employee=alice, company=usmf,
                                        vendor=relationship.intercompany_vendor,
                                        customer_requisition="REQ-1")

    (mine,) = events_of(usmf_hook)
    (theirs,) = events_of(demf_hook)
    assert mine["type"] == theirs["type"] == "order.created"
    assert mine["data"]["order"]["number"] == po.number
    assert theirs["data"]["order"]["number"] == po.intercompany_sales_order.number
    assert theirs["data"]["order"]["company"] == "DEMF"
    assert theirs["data"]["created_by"]["company"] == "USMF"
    assert theirs["data"]["created_with"][0]["number"] == po.number
    assert events_of(gbsi_hook) == []


def test_cancelling_is_told_to_the_orders_company_only(alice, usmf, demf, external_customer):
    usmf_hook = endpoint_for(usmf, "https://usmf.example.com/hooks",
                             events=["order.cancelled"])
    demf_hook = endpoint_for(demf, "https://demf.example.com/hooks")
    so = services.create_sales_order(employee=alice, company=usmf, customer=external_customer)

    services.cancel_order(order=so, employee=alice)

    (cancelled,) = events_of(usmf_hook)  # order.created was not subscribed
    assert cancelled["type"] == "order.cancelled"
    assert cancelled["data"]["order"] == {**cancelled["data"]["order"], "number": so.number,
                                          "status": "cancelled"}
    assert cancelled["data"]["cancelled_by"]["username"] == "alice"
    assert events_of(demf_hook) == []


def test_a_switch_change_goes_to_both_companies_and_to_nobody_else(
    admin, relationship, usmf, demf, gbsi
):
    hooks = {c.code: endpoint_for(c, f"https://{c.code.lower()}.example.com/h")
             for c in (usmf, demf, gbsi)}

    update_trading_relationship(relationship=relationship, employee=admin,
                                sales_policy_syncs_intercompany_purchase_order=True)

    for code in ("USMF", "DEMF"):
        (event,) = events_of(hooks[code])
        assert event["type"] == "trading_relationship.changed"
        assert event["data"]["relationship"]["buying_company"] == "USMF"
        (change,) = event["data"]["changes"]
        assert change == {**change, "switch": "sales_policy_syncs_intercompany_purchase_order",
                          "policy_of": "DEMF", "old": False, "new": True}
    assert events_of(hooks["GBSI"]) == []
    webhook_ids = {hooks[c].deliveries.get().event.webhook_id for c in ("USMF", "DEMF")}
    assert len(webhook_ids) == 2


def test_a_disabled_endpoint_and_an_unwanted_event_get_nothing(alice, usmf, external_customer):
    wants_cancel = endpoint_for(usmf, "https://a.example.com/h", events=["order.cancelled"])
    disabled = endpoint_for(usmf, "https://b.example.com/h")
    update_endpoint(endpoint=disabled, employee=disabled.created_by, enabled=False)

    services.create_sales_order(employee=alice, company=usmf, customer=external_customer)

    assert not wants_cancel.deliveries.exists() and not disabled.deliveries.exists()
    assert Event.objects.count() == 0


def test_a_rolled_back_change_leaves_no_event_no_delivery_and_no_task(chain, alice, usmf):
    endpoint_for(usmf, "https://usmf.example.com/hooks")
    tasks_before = DBTaskResult.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.update_customer_information(order=chain.original, employee=alice,
                                             customer_requisition="ROLLED-BACK")
        assert Event.objects.count() == 2  # written inside the transaction...
        raise RuntimeError("the rest of the change failed")

    assert Event.objects.count() == 0  # ...and gone with it
    assert Delivery.objects.count() == 0
    assert DBTaskResult.objects.count() == tasks_before


def test_a_change_and_its_events_commit_together_with_a_task_queued_for_each_delivery(
    chain, alice, usmf
):
    endpoint_for(usmf, "https://one.example.com/hooks")
    endpoint_for(usmf, "https://two.example.com/hooks")
    tasks_before = DBTaskResult.objects.count()

    services.update_customer_information(order=chain.original, employee=alice,
                                         customer_requisition="PO-1")

    assert Delivery.objects.count() == 4  # two orders of USMF changed, two endpoints
    queued = DBTaskResult.objects.count() - tasks_before
    assert queued == 4
    assert set(DBTaskResult.objects.values_list("task_path", "queue_name")) == {
        ("webhooks.tasks.deliver_webhook", "webhooks")}


# -- delivery to a real receiver ------------------------------------------------------------------


def test_the_receiver_verifies_the_signature_and_gets_the_event(
    chain, alice, usmf, receiver, run_worker
):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver,
                            events=["order.customer_information_changed"])
    services.update_customer_information(order=chain.original, employee=alice,
                                         customer_requisition="PO-9")

    run_worker()

    got = receiver.wait_for(2)
    assert all(r.verified for r in got), [r.error for r in got]
    assert {r.payload["data"]["order"]["number"] for r in got} == {chain.original.number,
                                                                   chain.purchase.number}
    for request in got:
        assert request.headers["content-type"] == "application/json"
        assert request.webhook_id.startswith("msg_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
        assert request.headers["webhook-signature"].startswith("v1,")
    deliveries = list(endpoint.deliveries.all())
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}
    assert {d.event.webhook_id for d in deliveries} == {r.webhook_id for r in got}
    for delivery in deliveries:
        (attempt,) = delivery.attempt_log.all()
        assert attempt.outcome == AttemptOutcome.SUCCEEDED and attempt.response_code == 200
        assert attempt.duration_ms is not None and delivery.last_response_code == 200


def test_a_wrong_secret_fails_the_receivers_check(chain, alice, usmf, receiver, run_worker):
    endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.secret = "whsec_" + "QUJD" * 8  # not the endpoint's

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    (request,) = receiver.wait_for(1)
    assert not request.verified and "signature" in request.error.lower()


def test_a_500_is_retried_with_the_same_webhook_id_and_body(
    chain, alice, usmf, receiver, run_worker, quick_retries
):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script = ["error", "error", "ok"]

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    first, second, third = receiver.wait_for(3)
    assert first.webhook_id == second.webhook_id == third.webhook_id
    assert first.body == second.body == third.body
    assert all(r.verified for r in (first, second, third))
    delivery = endpoint.deliveries.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    log = list(delivery.attempt_log.values_list("outcome", "response_code"))
    assert log == [("failed", 500), ("failed", 500), ("succeeded", 200)]
    assert delivery.attempt_log.first().response_body == "receiver broke"


def test_a_timeout_is_retried(chain, alice, usmf, receiver, run_worker, quick_retries):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script, receiver.slow_seconds = ["slow", "ok"], 2

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    first, second = receiver.wait_for(2)
    assert first.webhook_id == second.webhook_id
    delivery = endpoint.deliveries.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    timed_out = delivery.attempt_log.first()
    assert timed_out.outcome == AttemptOutcome.FAILED and timed_out.response_code is None
    assert "No answer within 0.5 s" in timed_out.error


def test_the_retries_wait_with_exponential_backoff(chain, alice, usmf, receiver, run_worker,
                                                   settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script = ["error"] * 10

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()  # the first attempt only: the retry is not due yet

    delivery = endpoint.deliveries.get()
    assert len(receiver.requests) == 1 and delivery.status == DeliveryStatus.PENDING
    waits = []
    for _ in range(3):
        waits.append((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds())
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        from webhooks.delivery import attempt_delivery

        attempt_delivery(delivery.pk)
        delivery.refresh_from_db()
    assert [round(w / 60) for w in waits] == [1, 2, 4]  # 60 s doubling (+ up to 10 % jitter)
    assert delivery.retry_until - delivery.created_at < timedelta(days=1, minutes=1)


def test_after_a_day_of_failures_the_delivery_is_marked_failed(
    chain, alice, usmf, receiver, run_worker, quick_retries
):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script = ["error"] * 10
    services.cancel_order(order=chain.original, employee=alice)
    delivery = endpoint.deliveries.get()
    # The day of retries has run out by the next attempt.
    Delivery.objects.filter(pk=delivery.pk).update(
        retry_until=timezone.now() - timedelta(seconds=1), attempts=20)

    run_worker()

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.attempts == 21 and delivery.last_response_code == 500
    assert len(receiver.requests) == 1


def test_a_refused_connection_and_a_redirect_are_failures(chain, alice, usmf, receiver,
                                                          run_worker, settings):
    settings.WEBHOOK_RETRY_FOR_SECONDS = 0  # one attempt each
    refused = endpoint_for(usmf, "http://127.0.0.1:9/nobody-listens", events=["order.cancelled"])
    redirected = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script = ["redirect"]

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    refused_delivery, redirected_delivery = refused.deliveries.get(), redirected.deliveries.get()
    assert refused_delivery.status == DeliveryStatus.FAILED
    assert "Connection failed" in refused_delivery.last_error
    assert redirected_delivery.status == DeliveryStatus.FAILED
    assert redirected_delivery.last_response_code == 302
    assert "not followed" in redirected_delivery.last_error
    assert len(receiver.requests) == 1  # the redirect's target was never called


def test_a_slow_receiver_never_delays_the_clerks_save(chain, alice, usmf, receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 30
    endpoint_for(usmf, receiver.url, receiver=receiver)
    receiver.script = ["hang"] * 5

    started = time.monotonic()
    result = services.update_customer_information(order=chain.original, employee=alice,
                                                  customer_requisition="FAST")
    took = time.monotonic() - started

    assert result.copied_to and took < 5
    assert receiver.requests == []  # nothing is sent from the clerk's request
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2


def test_an_endpoint_that_keeps_failing_is_disabled_and_its_administrators_are_told(
    chain, alice, usmf, demf, receiver, run_worker, quick_retries, smtp_server, mail_through
):
    smtp = smtp_server()
    mail_through(smtp)
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script = ["error"] * 10
    usmf_admin = make_employee("ursula", usmf, is_staff=True, email="ursula@usmf.example.com")
    usmf_admin.user_permissions.add(Permission.objects.get(codename="change_webhookendpoint"))
    make_employee("clerk", usmf, email="clerk@usmf.example.com")  # not staff: not told
    demf_admin = make_employee("dieter", demf, is_staff=True, email="dieter@demf.example.com")
    demf_admin.user_permissions.add(Permission.objects.get(codename="change_webhookendpoint"))
    other = services.create_sales_order(employee=alice, company=usmf,
                                        customer=make_customer(usmf))
    services.cancel_order(order=other, employee=alice)
    # It has failed for three days already.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1))
    waiting = endpoint.deliveries.get()
    Delivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now() + timedelta(1))

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    endpoint.refresh_from_db()
    assert not endpoint.enabled and "failed since" in endpoint.disabled_reason
    assert set(endpoint.deliveries.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    (notice,) = smtp.wait_for(1)
    assert notice["X-Envelope-To"] == "ursula@usmf.example.com"
    assert receiver.url in notice["Subject"] and "disabled" in notice["Subject"]
    text = smtp.text(notice)
    assert "Send again" in text and "USMF" in text and "failed since" in text
    assert f"http://127.0.0.1:8000/admin/webhooks/webhookendpoint/{endpoint.pk}/change/" in text
    # It receives nothing more until enabled again.
    services.create_sales_order(employee=alice, company=usmf, customer=make_customer(usmf))
    assert endpoint.deliveries.count() == 2
    assert len(receiver.requests) == 1


def test_one_success_ends_the_failure_streak(chain, alice, usmf, receiver, run_worker,
                                             quick_retries):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    receiver.script = ["error", "ok"]

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is None


def test_send_again_delivers_the_same_event_again(chain, alice, usmf, receiver, run_worker):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    services.cancel_order(order=chain.original, employee=alice)
    run_worker()
    delivery = endpoint.deliveries.get()
    assert delivery.status == DeliveryStatus.DELIVERED

    send_again(deliveries=[delivery], employee=endpoint.created_by)
    run_worker()

    first, second = receiver.wait_for(2)
    assert first.webhook_id == second.webhook_id and first.body == second.body
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
    assert delivery.sent_again_by == endpoint.created_by


def test_the_body_is_the_stored_payload(chain, alice, usmf, receiver, run_worker):
    endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    (request,) = receiver.wait_for(1)
    assert json.loads(request.body) == Event.objects.get().payload
    assert request.payload["type"] == "order.cancelled"
    assert request.payload["data"]["order"]["id"] == chain.original.pk


# -- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def usmf_admin(usmf):
    employee = make_employee("ursula", usmf, is_staff=True, email="ursula@usmf.example.com")
    employee.user_permissions.add(*Permission.objects.filter(content_type__app_label="webhooks"))
    return employee


def test_an_administrator_registers_an_endpoint_in_the_admin(usmf, demf, usmf_admin,
                                                             login_client):
    client = login_client(usmf_admin)
    add = reverse("admin:webhooks_webhookendpoint_add")
    page = client.get(add).content.decode()
    assert f'<option value="{demf.pk}">' not in page  # only the administrator's companies
    assert "Customer information overwritten" in page

    response = client.post(add, {"company": usmf.pk, "url": "https://erp.usmf.example.com/ic",
                                 "description": "ERP", "event_types": ["order.created",
                                                                       "order.cancelled"],
                                 "enabled": "on"})

    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.company == usmf and endpoint.event_types == ["order.created",
                                                                 "order.cancelled"]
    assert endpoint.secret.startswith("whsec_") and endpoint.created_by == usmf_admin
    change = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret in change.content.decode()


def test_an_endpoint_registered_disabled_receives_nothing_until_enabled(
    usmf, usmf_admin, login_client, alice, external_customer
):
    client = login_client(usmf_admin)
    client.post(reverse("admin:webhooks_webhookendpoint_add"),
                {"company": usmf.pk, "url": "https://erp.usmf.example.com/ic",
                 "event_types": ["order.created"]})
    endpoint = WebhookEndpoint.objects.get()
    services.create_sales_order(employee=alice, company=usmf, customer=external_customer)

    assert not endpoint.enabled and not endpoint.deliveries.exists()
    update_endpoint(endpoint=endpoint, employee=usmf_admin, enabled=True)
    services.create_sales_order(employee=alice, company=usmf, customer=external_customer)
    assert endpoint.deliveries.count() == 1


def test_the_admin_refuses_a_bad_url_and_no_events(usmf, usmf_admin, login_client):
    client = login_client(usmf_admin)
    response = client.post(reverse("admin:webhooks_webhookendpoint_add"),
                           {"company": usmf.pk, "url": "ftp://x.example.com/", "enabled": "on"})

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "url" in errors and "event_types" in errors
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url, shown", [
    ("http://127.0.0.1:5432/", "127.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),  # a cloud's metadata
    ("http://10.0.0.7/hooks", "10.0.0.7"),
    ("http://[::1]:8000/", "::1"),
    ("http://[64:ff9b::a00:5]/", "64:ff9b::a00:5"),  # 10.0.0.5 through a NAT64 gateway
    ("http://[::ffff:7f00:1]/", "::ffff:7f00:1"),
    ("http://localhost:8000/", "localhost"),
])
def test_the_admin_refuses_an_address_of_the_servers_own_network(
    usmf, usmf_admin, login_client, settings, url, shown
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client = login_client(usmf_admin)
    response = client.post(reverse("admin:webhooks_webhookendpoint_add"), {
        "company": usmf.pk, "url": url, "event_types": ["order.created"], "enabled": "on"})

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["url"]
    assert shown in message and "webhooks go to systems on the internet" in message
    assert not WebhookEndpoint.objects.exists()


def test_only_those_who_may_change_an_endpoint_see_its_signing_secret(
    usmf, usmf_admin, login_client
):
    endpoint = endpoint_for(usmf, "https://usmf-erp.example.com/hooks")
    viewer = make_employee("vera", usmf, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_webhookendpoint"))
    url = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])

    as_viewer = login_client(viewer).get(url)
    as_administrator = login_client(usmf_admin).get(url)

    assert as_viewer.status_code == as_administrator.status_code == 200
    assert endpoint.secret not in as_viewer.content.decode()  # it could forge events
    assert endpoint.secret in as_administrator.content.decode()


def test_a_name_that_leads_to_a_private_address_is_refused_before_anything_is_sent(
    chain, alice, usmf, receiver, run_worker, settings
):
    # Registered while allowed (or a name whose address changed since): the connection is
    # checked too, on the socket, before the request is written.
    endpoint = endpoint_for(usmf, receiver.url.replace("127.0.0.1", "localhost"),
                            receiver=receiver, events=["order.cancelled"])
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    settings.WEBHOOK_RETRY_FOR_SECONDS = 0  # one attempt

    services.cancel_order(order=chain.original, employee=alice)
    run_worker()

    delivery = endpoint.deliveries.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error.startswith("Refused: localhost leads to a private address")
    assert "127.0.0.1" not in delivery.last_error  # the log maps nothing inside
    assert receiver.requests == []


def test_a_new_secret_replaces_the_old_one(usmf, usmf_admin, login_client):
    endpoint = endpoint_for(usmf, "https://x.example.com/h")
    old = endpoint.secret

    response = login_client(usmf_admin).post(
        reverse("admin:webhooks_webhookendpoint_roll_secret", args=[endpoint.pk]))

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret.startswith("whsec_")


def test_enabling_again_in_the_admin_forgets_the_failure_streak(usmf, usmf_admin, login_client):
    endpoint = endpoint_for(usmf, "https://x.example.com/h", events=["order.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_at=timezone.now(), disabled_reason="kept failing",
        failing_since=timezone.now() - timedelta(days=4))

    login_client(usmf_admin).post(
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        {"url": endpoint.url, "event_types": ["order.created"], "enabled": "on"})

    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is None and not endpoint.disabled_reason


def test_the_delivery_log_shows_status_code_attempts_and_sends_again(
    chain, alice, usmf, demf, usmf_admin, login_client, receiver, run_worker
):
    endpoint = endpoint_for(usmf, receiver.url, receiver=receiver, events=["order.cancelled"])
    services.cancel_order(order=chain.original, employee=alice)
    endpoint_for(demf, "https://demf.example.com/h")
    services.cancel_order(order=chain.mirror, employee=make_employee("d", demf))
    run_worker()
    client = login_client(usmf_admin)
    delivery = endpoint.deliveries.get()

    log = client.get(reverse("admin:webhooks_delivery_changelist")).content.decode()
    detail = client.get(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))

    assert delivery.event.webhook_id in log and "delivered" in log.lower()
    assert "demf.example.com" not in log  # another company's deliveries are not listed
    page = detail.content.decode()
    assert "200" in page and "Send again" in page and chain.original.number in page
    response = client.post(reverse("admin:webhooks_delivery_send_again", args=[delivery.pk]))
    assert response.status_code == 302
    run_worker()
    assert [r.webhook_id for r in receiver.wait_for(2)] == [delivery.event.webhook_id] * 2


def test_another_companys_endpoint_and_deliveries_answer_404(
    chain, alice, usmf, gbsi, login_client
):
    endpoint = endpoint_for(usmf, "https://usmf.example.com/h", events=["order.cancelled"])
    services.cancel_order(order=chain.original, employee=alice)
    delivery = endpoint.deliveries.get()
    gina = make_employee("gina", gbsi, is_staff=True)
    gina.user_permissions.add(*Permission.objects.filter(content_type__app_label="webhooks"))
    client = login_client(gina)

    for url in (
        reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
        reverse("admin:webhooks_webhookendpoint_roll_secret", args=[endpoint.pk]),
        reverse("admin:webhooks_delivery_change", args=[delivery.pk]),
        reverse("admin:webhooks_delivery_send_again", args=[delivery.pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    assert "usmf.example.com" not in client.get(
        reverse("admin:webhooks_webhookendpoint_changelist")).content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret == WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    assert delivery.attempts == Delivery.objects.get(pk=delivery.pk).attempts == 0


def test_old_finished_events_are_pruned_and_pending_ones_kept(chain, alice, usmf):
    from django.core.management import call_command

    endpoint = endpoint_for(usmf, "https://x.example.com/h", events=["order.cancelled"])
    services.cancel_order(order=chain.original, employee=alice)
    services.cancel_order(order=chain.purchase, employee=alice)
    finished, waiting = endpoint.deliveries.order_by("pk")
    Delivery.objects.filter(pk=finished.pk).update(status=DeliveryStatus.DELIVERED)
    Event.objects.update(created_at=timezone.now() - timedelta(days=31))

    call_command("prune_webhook_events", "--min-age-days", "30", stdout=io.StringIO())

    assert list(Delivery.objects.values_list("pk", flat=True)) == [waiting.pk]
    assert Event.objects.count() == 1
