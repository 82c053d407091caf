"""Alert emails: through a real SMTP server on 127.0.0.1, sent by the real worker, after the
commit; the daily digest; retries with backoff when the server refuses; several workers."""

from __future__ import annotations

import datetime as dt
import re
import time
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from alerts.models import (
    Alert,
    AlertPreference,
    DeliveryKind,
    DeliveryStatus,
    EmailChoice,
    EmailDelivery,
)
from alerts.services import queue_daily_digests
from orders.services import update_customer_information
from tests.conftest import make_employee

pytestmark = pytest.mark.django_db


def edit(order, employee, **values):
    order.refresh_from_db()
    return update_customer_information(order=order, employee=employee, **values)


def give_email(employee, choice: str, **extra):
    employee.email = f"{employee.username}@example.test"
    employee.save()
    AlertPreference.objects.update_or_create(employee=employee,
                                             defaults={"email": choice, **extra})


def digest_today() -> str:
    out = StringIO()
    call_command("send_alert_digests", "--date", timezone.localdate().isoformat(), stdout=out)
    return out.getvalue()


def test_an_overwrite_email_arrives_after_the_commit_with_what_who_and_a_link(
    chain_all_on, alice, jonas, smtp_server, mail_through, run_worker,
    django_capture_on_commit_callbacks, settings,
):
    server = smtp_server()
    mail_through(server)
    settings.SITE_URL = "https://intercompany.example.test"
    give_email(alice, EmailChoice.EACH)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
        assert server.messages == []  # nothing leaves inside the transaction
    assert len(callbacks) >= 1
    assert server.messages == []  # queued, not sent by the web process

    run_worker()

    [message] = server.wait_for(1, timeout=5)
    assert message["To"] == "alice@example.test"
    assert message["Subject"] == (
        "Intercompany: Jonas Weber (DEMF) overwrote customer requisition on "
        f"{chain_all_on.purchase.number}, {chain_all_on.original.number}"
    )
    body = SmtpServer_text(message)
    changes = [line for line in body.splitlines() if line.startswith("- ")]
    assert changes == [
        f"- {chain_all_on.purchase.number} (USMF), Customer requisition: PO-7781 -> PO-7790",
        f"- {chain_all_on.original.number} (USMF), Customer requisition: PO-7781 -> PO-7790",
    ]  # DEMF's order, which Alice may not see, is not named as a change
    assert body.count(
        f"by Jonas Weber (DEMF), {timezone.localtime():%-d %b %Y}"
    ) == 2
    assert body.count(f"copied from intercompany sales order {chain_all_on.mirror.number}") == 2
    links = re.findall(r"https://intercompany\.example\.test/\S+#change-\S+", body)
    assert [link.split("/history/")[0] for link in links] == [
        f"https://intercompany.example.test/purchase-orders/{chain_all_on.purchase.pk}",
        f"https://intercompany.example.test/sales-orders/{chain_all_on.original.pk}",
    ]
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 1)

    run_worker()  # nothing is sent twice
    assert len(server.messages) == 1


def SmtpServer_text(message) -> str:  # noqa: N802 - reads like the server's own helper
    return message.get_body(preferencelist=("plain",)).get_content()


def test_an_edit_that_rolls_back_sends_nothing(chain_all_on, alice, jonas, smtp_server,
                                               mail_through, run_worker,
                                               django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.EACH)
    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        edit(chain_all_on.mirror, jonas, customer_requisition="bad\tvalue")
    run_worker()
    assert server.messages == []


def test_digest_choosers_get_no_email_per_overwrite(chain_all_on, alice, jonas, smtp_server,
                                                    mail_through, run_worker,
                                                    django_capture_on_commit_callbacks):
    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    run_worker()
    assert server.messages == []


def test_none_choosers_get_no_email_at_all(chain_all_on, alice, jonas, smtp_server,
                                           mail_through, run_worker):
    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.NONE)
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    digest_today()
    run_worker()
    assert server.messages == []
    assert Alert.objects.filter(recipient=alice).count() == 2  # still told in the product


def test_the_daily_digest_groups_the_days_overwrites_in_one_message_per_recipient(
    chain_all_on, alice, jonas, usmf, smtp_server, mail_through, run_worker
):
    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.DIGEST)
    lead = make_employee("lead", usmf, first="Lea", last="Lead")
    give_email(lead, EmailChoice.DIGEST, every_company_order=True)

    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    edit(chain_all_on.mirror, jonas, customer_reference="Jonas ref")

    first = digest_today()
    second = digest_today()  # cron ran twice: nothing more is queued
    assert first.startswith("2 digest(s)")
    assert second.startswith("0 digest(s)")
    run_worker()

    messages = server.wait_for(2, timeout=5)
    assert sorted(m["To"] for m in messages) == ["alice@example.test", "lead@example.test"]
    to_alice = next(m for m in messages if m["To"] == "alice@example.test")
    body = SmtpServer_text(to_alice)
    assert to_alice["Subject"] == (
        f"Intercompany: 4 overwrites on {timezone.localdate():%-d %b %Y}"
    )
    assert body.count("\n- ") == 4
    assert "PO-7781 -> PO-7790" in body and "Fabrikam spring -> Jonas ref" in body
    to_lead = next(m for m in messages if m["To"] == "lead@example.test")
    assert "(the value was set by Alice Martin)" in SmtpServer_text(to_lead)
    assert EmailDelivery.objects.filter(kind=DeliveryKind.DIGEST).count() == 2

    digest_today()
    run_worker()
    assert len(server.messages) == 2


def test_an_email_speaks_the_recipients_language_and_clock(
    chain_all_on, alice, jonas, smtp_server, mail_through, run_worker,
    django_capture_on_commit_callbacks,
):
    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.EACH)
    alice.language, alice.time_zone = "fr", "America/Chicago"
    alice.save()

    with django_capture_on_commit_callbacks(execute=True):
        edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    run_worker()

    [message] = server.wait_for(1, timeout=5)
    # (A long encoded subject is folded after "Subject:", hence the strip.)
    assert str(message["Subject"]).strip().startswith(
        "Intersociétés : Jonas Weber (DEMF) a remplacé numéro de bon de commande client sur ")
    body = SmtpServer_text(message)
    chicago = timezone.localtime(timezone=zoneinfo.ZoneInfo("America/Chicago"))
    assert f"{chicago:%H:}" in body and ("CST" in body or "CDT" in body)
    assert "UTC" not in body


def test_the_digest_is_each_employees_day_and_takes_what_an_earlier_run_left(
    chain_all_on, alice, jonas, usmf, smtp_server, mail_through, run_worker
):
    """Alice works in Auckland: at 10:00 UTC on 27 November her 26th is over (it ended at
    11:00 UTC on the 26th), while the 27th has begun. An alert from three days earlier that no
    run took (cron was down) goes with it; one made after her day's end waits for the next."""
    give_email(alice, EmailChoice.DIGEST)
    alice.time_zone = "Pacific/Auckland"
    alice.save()
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")  # two alerts for Alice
    edit(chain_all_on.mirror, jonas, customer_reference="Jonas ref")  # two more
    first, second, old, late = Alert.objects.filter(recipient=alice).order_by("id")[:4]
    utc = dt.UTC
    for alert, at in ((first, dt.datetime(2026, 11, 26, 1, 0, tzinfo=utc)),     # 26th, 14:00
                      (second, dt.datetime(2026, 11, 26, 10, 59, tzinfo=utc)),  # 26th, 23:59
                      (old, dt.datetime(2026, 11, 23, 9, 0, tzinfo=utc)),       # 23rd
                      (late, dt.datetime(2026, 11, 26, 11, 1, tzinfo=utc))):    # 27th, 00:01
        Alert.objects.filter(pk=alert.pk).update(created_at=at)

    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=utc)
    [delivery_id] = queue_daily_digests(now=now)
    assert queue_daily_digests(now=now) == []  # cron ran twice

    delivery = EmailDelivery.objects.get(pk=delivery_id)
    assert delivery.digest_date == dt.date(2026, 11, 26)
    assert set(delivery.alerts.values_list("pk", flat=True)) == {first.pk, second.pk, old.pk}
    late.refresh_from_db()
    assert late.email_delivery is None  # waits for the digest of the 27th
    [next_day] = queue_daily_digests(now=now + dt.timedelta(days=1))
    assert EmailDelivery.objects.get(pk=next_day).digest_date == dt.date(2026, 11, 27)
    assert list(EmailDelivery.objects.get(pk=next_day).alerts.all()) == [late]


def test_a_deactivated_employee_is_mailed_nothing_more(
    chain_all_on, alice, jonas, smtp_server, mail_through, run_worker
):
    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.DIGEST)
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    alice.is_active = False  # left the group, her companies not yet cleaned up
    alice.save()

    digest_today()
    run_worker()

    assert server.messages == []
    assert EmailDelivery.objects.get().status == DeliveryStatus.SKIPPED


def test_an_email_never_names_an_order_the_recipient_no_longer_sees(
    chain_all_on, alice, jonas, usmf, smtp_server, mail_through, run_worker
):
    server = smtp_server()
    mail_through(server)
    give_email(alice, EmailChoice.DIGEST)
    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    alice.companies.remove(usmf)  # she left USMF before the digest went out

    digest_today()
    run_worker()

    assert server.messages == []
    assert EmailDelivery.objects.get().status == DeliveryStatus.SKIPPED


def test_a_refusing_server_gets_retries_with_growing_waits_then_the_failure_is_recorded(
    chain_all_on, alice, jonas, smtp_server, mail_through, run_worker, settings,
    django_capture_on_commit_callbacks,
):
    server = smtp_server(refuse="451 4.3.0 Mailbox temporarily unavailable")
    mail_through(server)
    settings.ALERT_EMAIL_MAX_ATTEMPTS = 3
    settings.ALERT_EMAIL_RETRY_BASE_SECONDS = 0.4
    give_email(alice, EmailChoice.EACH)
    with django_capture_on_commit_callbacks(execute=True):
        edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")

    run_worker()
    delivery = EmailDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert "451" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run_worker()
        delivery.refresh_from_db()
        if delivery.status == DeliveryStatus.FAILED:
            break
        time.sleep(0.05)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert "Mailbox temporarily unavailable" in delivery.last_error
    assert len(server.attempts) == 3
    waits = [b - a for a, b in zip(server.attempts, server.attempts[1:], strict=False)]
    assert waits[0] >= 0.4 and waits[1] >= 0.8  # the wait doubles
    run_worker()
    assert len(server.attempts) == 3  # given up: no more attempts


def test_a_server_that_is_down_is_retried_and_the_failure_recorded(
    chain_all_on, alice, jonas, smtp_server, mail_through, run_worker, settings,
    django_capture_on_commit_callbacks,
):
    server = smtp_server()
    mail_through(server)
    server.stop()  # nothing listens on that port any more
    settings.ALERT_EMAIL_MAX_ATTEMPTS = 2
    settings.ALERT_EMAIL_RETRY_BASE_SECONDS = 0
    give_email(alice, EmailChoice.EACH)
    with django_capture_on_commit_callbacks(execute=True):
        edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")

    run_worker()

    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert "Connection refused" in delivery.last_error or "ConnectionRefused" in (
        delivery.last_error
    )


def test_the_preferences_page_shows_a_failed_email(alice, login_client):
    give_email(alice, EmailChoice.EACH)
    EmailDelivery.objects.create(recipient=alice, kind=DeliveryKind.EACH,
                                 status=DeliveryStatus.FAILED, attempts=6,
                                 last_error="SMTPDataError: (451, b'busy')")
    page = login_client(alice).get("/preferences/").text
    assert "failed" in page and "451" in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_postgresql_never_send_the_same_mail_twice(
    chain_all_on, jonas, usmf, smtp_server, worker_process
):
    """Thirty team leads each get one email for Jonas's edit. Every task is queued three times
    over (the sweep, and each delivery again, as a second cron run or a retry racing a slow
    worker would): two worker processes share the queue, and each lead still gets one message."""
    from django_tasks_db.models import DBTaskResult

    from alerts.tasks import deliver_email, send_overwrite_emails

    server = smtp_server()
    leads = [make_employee(f"lead{n:02d}", usmf) for n in range(30)]
    for lead in leads:
        give_email(lead, EmailChoice.EACH, every_company_order=True)

    edit(chain_all_on.mirror, jonas, customer_requisition="PO-7790")
    for _ in range(3):
        send_overwrite_emails.enqueue()

    env = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(server.port), "EMAIL_USE_TLS": "0"}
    worker_process(**env)
    worker_process(**env)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if EmailDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 30:
            break
        time.sleep(0.1)
    for delivery_id in EmailDelivery.objects.values_list("pk", flat=True):
        deliver_email.enqueue(delivery_id)  # the same deliveries again, while both run
        deliver_email.enqueue(delivery_id)
    while time.monotonic() < deadline and DBTaskResult.objects.filter(
        status__in=["READY", "RUNNING"]
    ).exists():
        time.sleep(0.1)
    time.sleep(0.5)

    recipients = sorted(m["To"] for m in server.messages)
    assert recipients == sorted(f"{lead.username}@example.test" for lead in leads)
    assert EmailDelivery.objects.count() == 30
    assert set(EmailDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert Alert.objects.filter(email=EmailChoice.EACH, email_delivery__isnull=True).count() == 0
    workers = {
        worker for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)
        for worker in ids
    }
    assert len(workers) == 2  # both workers took tasks
