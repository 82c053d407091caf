"""Delivering an event to an endpoint: claim, sign and POST, record, retry or give up.

At least once, never lost: an attempt is claimed in its own short transaction that also moves
``next_attempt_at`` to the end of a lease and queues a task for that moment. If the worker is
killed during the HTTP request, that task finds the delivery still pending and due, and attempts
it again with the same ``webhook-id`` (the receiver may see it twice, and drops the duplicate).
No database lock or transaction is held during the HTTP request, so a slow receiver holds up
nobody but the worker running it; clerks' saves never wait for a delivery.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from intercompany.background import enqueue_after_commit
from intercompany.models import Employee
from webhooks.addresses import GuardedHTTPHandler, GuardedHTTPSHandler, PrivateAddressRefused
from webhooks.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
)
from webhooks.scheduling import lease, retry_delay, schedule_delivery

logger = logging.getLogger("webhooks")

RESPONSE_BODY_KEPT = 500  # characters of the receiver's answer kept in the delivery log
USER_AGENT = "Intercompany-Webhooks/1"


# -- signing and sending ------------------------------------------------------------------------


def event_body(payload: dict) -> str:
    """The exact bytes signed and sent (the same on every attempt)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def signed_headers(*, secret: str, webhook_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: ``webhook-id``, ``webhook-timestamp`` (the attempt's time)
    and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>``)."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=webhook_id, timestamp=at, data=body),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following it would send the signed event
    somewhere the administrator did not register."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# No proxy from the environment: the guard must see the receiver's own address.
_opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), GuardedHTTPHandler, GuardedHTTPSHandler, _NoRedirects
)


@dataclass
class Response:
    code: int | None
    body: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def post_event(*, url: str, body: str, headers: dict[str, str], timeout: float) -> Response:
    """POST ``body`` to ``url``; any answer but 2xx, a refused connection or a timeout is a
    failure."""
    request = urllib.request.Request(
        url, data=body.encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    started = time.monotonic()
    code, text, error = None, b"", ""
    try:
        with _opener.open(request, timeout=timeout) as answer:
            code, text = answer.status, answer.read(RESPONSE_BODY_KEPT)
    except urllib.error.HTTPError as answer:
        code, text = answer.code, answer.read(RESPONSE_BODY_KEPT)
        error = _("HTTP %(code)s") % {"code": answer.code}
        if 300 <= answer.code < 400:
            error = _("Redirect to %(location)s (redirects are not followed)") % {
                "location": answer.headers.get("Location", "?")}
    except TimeoutError:
        error = _("No answer within %(seconds)s s") % {"seconds": timeout}
    except urllib.error.URLError as failure:
        reason = failure.reason
        if isinstance(reason, PrivateAddressRefused):
            error = _("Refused: %(reason)s") % {"reason": reason}
        elif isinstance(reason, TimeoutError):
            error = _("No answer within %(seconds)s s") % {"seconds": timeout}
        else:
            error = _("Connection failed: %(reason)s") % {"reason": reason}
    except (OSError, http.client.HTTPException, ValueError) as failure:
        error = _("Connection failed: %(reason)s") % {"reason": failure}
    duration_ms = int((time.monotonic() - started) * 1000)
    return Response(code, text.decode(errors="replace"), error[:500], duration_ms)


# -- one attempt --------------------------------------------------------------------------------


def _claim(delivery_id: int) -> tuple[Delivery, DeliveryAttempt] | None:
    """Take the delivery for one attempt, if it is pending and due and nobody else holds it."""
    now = timezone.now()
    with transaction.atomic():
        # Why skip_locked: a second task for the same delivery (the lease's follow-up, a send
        # again) must not wait behind the worker that is recording an attempt; it is not due.
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        # An attempt still "sending" was cut off: its worker died (we hold the lease now).
        if delivery.attempts:
            delivery.attempt_log.filter(outcome=AttemptOutcome.SENDING).update(
                outcome=AttemptOutcome.INTERRUPTED,
                error=_("The worker stopped during the attempt; sent again."),
            )
        if not delivery.endpoint.enabled:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            delivery.last_error = _("The endpoint is disabled.")
            delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now
        if delivery.retry_until is None:
            delivery.retry_until = now + timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)
        # The lease: if this worker never records the outcome, the task queued here attempts
        # the delivery again once it runs out. At least once, never lost.
        delivery.next_attempt_at = now + lease()
        delivery.save(update_fields=["attempts", "last_attempt_at", "retry_until",
                                     "next_attempt_at"])
        schedule_delivery(delivery.pk, at=delivery.next_attempt_at)
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery, number=delivery.attempts, started_at=now
        )
    return delivery, attempt


def attempt_delivery(delivery_id: int) -> Delivery | None:
    """Attempt the delivery once if it is due. Returns it as recorded, or None when it was not
    due (delivered, failed, waiting for its retry, or being attempted elsewhere)."""
    claimed = _claim(delivery_id)
    if claimed is None:
        return None
    delivery, attempt = claimed
    event, endpoint = delivery.event, delivery.endpoint
    body = event_body(event.payload)
    response = post_event(
        url=endpoint.url, body=body, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        headers=signed_headers(secret=endpoint.secret, webhook_id=event.webhook_id, body=body,
                               at=timezone.now()),
    )
    return _record(delivery.pk, attempt.pk, response)


def _record(delivery_id: int, attempt_id: int, response: Response) -> Delivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",)).select_related("endpoint")
            .filter(pk=delivery_id).first()
        )
        attempt = DeliveryAttempt.objects.filter(pk=attempt_id).first()
        if delivery is None or attempt is None:
            return None  # the endpoint was deleted during the attempt
        attempt.duration_ms = response.duration_ms
        attempt.response_code = response.code
        attempt.response_body = response.body
        attempt.error = response.error
        attempt.outcome = (
            AttemptOutcome.SUCCEEDED if response.succeeded else AttemptOutcome.FAILED
        )
        attempt.save()
        if delivery.status != DeliveryStatus.PENDING or delivery.attempts != attempt.number:
            # Our lease ran out and another worker took over (or it was sent again): the
            # delivery's state is theirs now; this attempt only goes into the log.
            return delivery
        delivery.last_response_code = response.code
        delivery.last_error = response.error
        if response.succeeded:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if delivery.endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
                    failing_since=None)
        elif now >= delivery.retry_until:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = min(now + retry_delay(attempt.number),
                                           delivery.retry_until)
            schedule_delivery(delivery.pk, at=delivery.next_attempt_at)
        delivery.save()
        if not response.succeeded:
            _note_failure(delivery.endpoint_id, since=attempt.started_at, now=now)
    return delivery


# -- an endpoint that keeps failing -------------------------------------------------------------


def _note_failure(endpoint_id: int, *, since: datetime, now: datetime) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.failing_since is None:
        endpoint.failing_since = since
        endpoint.save(update_fields=["failing_since"])
    keeps_failing = timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if endpoint.enabled and now - endpoint.failing_since >= keeps_failing:
        disable_endpoint(
            endpoint,
            reason=_("Every attempt failed since %(since)s.") % {
                "since": timezone.localtime(endpoint.failing_since).strftime("%Y-%m-%d %H:%M %Z")
            },
        )


def disable_endpoint(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Stop sending to ``endpoint``: its pending deliveries are marked failed (an administrator
    may send them again once it works), and its company's administrators are told by email
    (a task queued in the caller's transaction, so only once it commits)."""
    now = timezone.now()
    endpoint.enabled = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason[:300]
    endpoint.save(update_fields=["enabled", "disabled_at", "disabled_reason"])
    endpoint.deliveries.filter(status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None,
        last_error=_("The endpoint was disabled."),
    )
    logger.warning("webhook endpoint %s (%s) disabled: %s", endpoint.pk, endpoint.url, reason)
    from webhooks import tasks

    enqueue_after_commit(tasks.notify_endpoint_disabled, endpoint.pk)


def company_administrators(company) -> list[Employee]:
    """The staff of ``company`` who may change its webhook endpoints (superusers included when
    they work for it)."""
    staff = Employee.objects.filter(companies=company, is_active=True, is_staff=True)
    return [e for e in staff if e.has_perm("webhooks.change_webhookendpoint")]


def notify_endpoint_disabled(endpoint_id: int) -> int:
    """Email the company's administrators that the endpoint was disabled; returns how many."""
    endpoint = WebhookEndpoint.objects.select_related("company").get(pk=endpoint_id)
    recipients = [e.email for e in company_administrators(endpoint.company) if e.email]
    if not recipients:
        logger.warning("webhook endpoint %s disabled; no administrator of %s has an email",
                       endpoint.pk, endpoint.company.code)
        return 0
    failed = endpoint.deliveries.filter(status=DeliveryStatus.FAILED).count()
    path = settings.SITE_URL.rstrip("/") + reverse(
        "admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    subject = _("Webhook endpoint disabled: %(url)s") % {"url": endpoint.url}
    body = _(
        "The webhook endpoint %(url)s of %(company)s kept failing and was disabled.\n\n"
        "%(reason)s\n\n"
        "Deliveries marked failed: %(failed)s. No further events are sent to it.\n\n"
        "Once the receiving system answers again, enable the endpoint in the admin (%(path)s) "
        "and use “Send again” in its delivery log for the events it missed."
    ) % {"url": endpoint.url, "company": endpoint.company, "reason": endpoint.disabled_reason,
         "failed": failed, "path": path}
    return send_mail(subject, body, None, recipients)
