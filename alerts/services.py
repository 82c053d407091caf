"""The writes of the alerts app: creating alerts inside the edit's transaction, reading them,
preferences, and handing emails to the background tasks."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from alerts.models import (
    Alert,
    AlertPreference,
    AlertReason,
    DeliveryKind,
    DeliveryStatus,
    EmailChoice,
    EmailDelivery,
)
from intercompany.background import enqueue_after_commit
from intercompany.models import Employee
from orders.models import Order, OverwriteRecord

logger = logging.getLogger("alerts")


# -- Creating alerts (inside the edit's transaction) ---------------------------------------------


def _create_alerts_sql() -> str:
    alert = Alert._meta.db_table
    record = OverwriteRecord._meta.db_table
    membership = Employee.companies.through._meta.db_table
    employee = Employee._meta.db_table
    preference = AlertPreference._meta.db_table
    return f"""
        INSERT INTO {alert}
            (recipient_id, overwrite_id, order_company_id, reason, created_at, read_at, email,
             email_delivery_id)
        SELECT m.employee_id, r.id, r.order_company_id,
               CASE WHEN m.employee_id = r.old_set_by_id THEN %s ELSE %s END,
               r.at, NULL,
               CASE WHEN e.email = '' THEN %s ELSE COALESCE(p.email, %s) END,
               NULL
        FROM {record} r
        JOIN {membership} m ON m.company_id = r.order_company_id
        JOIN {employee} e ON e.id = m.employee_id AND e.is_active
        LEFT JOIN {preference} p ON p.employee_id = m.employee_id
        WHERE r.id IN ({{ids}})
          AND (m.employee_id = r.old_set_by_id OR p.every_company_order)
          AND (r.new_set_by_id IS NULL OR m.employee_id <> r.new_set_by_id)
        RETURNING email
    """


def create_alerts(*, records: list[OverwriteRecord]) -> int:
    """Alert, for each cross-company overwrite in ``records`` (saved, one save's worth), the
    employee whose value was replaced, and the employees who asked for every overwrite on the
    orders of their companies; never the employee who overwrote, and only employees who work for
    the order's company. One statement, whatever the number of records and recipients; called
    inside the edit's transaction, so the alerts commit or roll back with it.

    Overwrite emails leave after the commit: a sweep task is queued then (see ``tasks``)."""
    ids = [record.pk for record in records if record.pk is not None]
    if not ids:
        return 0
    sql = _create_alerts_sql().format(ids=", ".join(["%s"] * len(ids)))
    params = [AlertReason.OWN_VALUE, AlertReason.COMPANY_ORDER, EmailChoice.NONE,
              EmailChoice.DIGEST, *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        emails = [row[0] for row in cursor.fetchall()]
    if EmailChoice.EACH in emails:
        # After the commit, not inside it: the edit stays one statement longer at most. If the
        # process dies before queuing, the alerts still wait in the database for the next sweep
        # (any later overwrite, or the daily digest command).
        from alerts.tasks import send_overwrite_emails

        transaction.on_commit(send_overwrite_emails.enqueue, robust=True)
    return len(emails)


# -- Reading ----------------------------------------------------------------------------------


def mark_alert_read(*, employee: Employee, alert_id: int) -> bool:
    """Mark one of the employee's alerts read; False if there is no such alert for them."""
    from alerts.selectors import alerts_visible_to

    return bool(
        alerts_visible_to(employee).filter(pk=alert_id, read_at__isnull=True)
        .update(read_at=timezone.now())
        or alerts_visible_to(employee).filter(pk=alert_id).exists()
    )


def mark_all_alerts_read(*, employee: Employee) -> int:
    from alerts.selectors import alerts_visible_to

    return alerts_visible_to(employee).filter(read_at__isnull=True).update(read_at=timezone.now())


def mark_order_alerts_read(*, employee: Employee, order: Order) -> int:
    """The employee opened the History of ``order``: its alerts are read."""
    if not getattr(employee, "is_authenticated", False):
        return 0
    return Alert.objects.filter(
        recipient=employee, read_at__isnull=True, order_company_id=order.company_id,
        overwrite__order_type=order.order_type, overwrite__order_id=order.pk,
    ).update(read_at=timezone.now())


# -- Preferences ------------------------------------------------------------------------------


def preference_of(employee: Employee) -> AlertPreference:
    """The employee's preference, or the defaults (unsaved) when they never chose."""
    return (
        AlertPreference.objects.filter(employee=employee).first()
        or AlertPreference(employee=employee)
    )


def save_alert_preference(*, employee: Employee, email: str, every_company_order: bool):
    if email not in EmailChoice.values:
        raise ValueError(f"Unknown email choice {email!r}")
    preference, _ = AlertPreference.objects.update_or_create(
        employee=employee, defaults={"email": email, "every_company_order": every_company_order}
    )
    return preference


# -- Emails -----------------------------------------------------------------------------------


def queue_overwrite_emails(*, limit: int = 500) -> list[int]:
    """Gather the alerts waiting for an overwrite email into one message per recipient, and queue
    a task per message. Returns the deliveries queued.

    Why ``skip_locked``: several workers may sweep at once (on several machines); each takes the
    waiting alerts no other sweep holds, so an alert goes into exactly one message."""
    from alerts.tasks import deliver_email

    with transaction.atomic():
        waiting = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(email=EmailChoice.EACH, email_delivery__isnull=True)
            .order_by("id")
            .values_list("pk", "recipient_id")[:limit]
        )
        by_recipient: dict[int, list[int]] = defaultdict(list)
        for alert_id, recipient_id in waiting:
            by_recipient[recipient_id].append(alert_id)
        queued = []
        for recipient_id, alert_ids in by_recipient.items():
            delivery = EmailDelivery.objects.create(
                recipient_id=recipient_id, kind=DeliveryKind.EACH
            )
            Alert.objects.filter(pk__in=alert_ids).update(email_delivery=delivery)
            enqueue_after_commit(deliver_email, delivery.pk)
            queued.append(delivery.pk)
    return queued


def digest_day_end(day: dt.date, zone) -> dt.datetime:
    """The end of ``day`` (the next midnight) in ``zone``."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)


def queue_daily_digests(*, day: dt.date | None = None, now: dt.datetime | None = None) -> list[int]:
    """One digest per employee who has digest alerts not yet in a message, with every such alert
    made before the end of the digest's day in the employee's own time zone: ``day``, or by
    default their yesterday (a clerk in Chicago gets Chicago's day, whatever the server's
    clock). Alerts left from earlier days (a missed cron run, an edit committed after the run)
    go into the next digest. Safe to run twice: one digest per employee and day (a database
    constraint); the second run queues nothing, and what it would have sent waits."""
    from alerts.tasks import deliver_email
    from intercompany.locale import zone_named

    now = now or timezone.now()
    queued = []
    with transaction.atomic():
        waiting = (
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(email=EmailChoice.DIGEST, email_delivery__isnull=True)
            .values_list("pk", "recipient_id", "created_at", "recipient__time_zone")
        )
        by_recipient: dict[int, list[int]] = defaultdict(list)
        days: dict[int, dt.date] = {}
        for alert_id, recipient_id, created_at, zone_name in waiting:
            zone = zone_named(zone_name)
            their_day = day or now.astimezone(zone).date() - dt.timedelta(days=1)
            if created_at < digest_day_end(their_day, zone):
                by_recipient[recipient_id].append(alert_id)
                days[recipient_id] = their_day
        already = set(
            EmailDelivery.objects.filter(
                kind=DeliveryKind.DIGEST, recipient_id__in=list(by_recipient)
            ).values_list("recipient_id", "digest_date")
        )
        for recipient_id, alert_ids in sorted(by_recipient.items()):
            if (recipient_id, days[recipient_id]) in already:
                continue
            delivery = EmailDelivery.objects.create(
                recipient_id=recipient_id, kind=DeliveryKind.DIGEST,
                digest_date=days[recipient_id],
            )
            Alert.objects.filter(pk__in=alert_ids).update(email_delivery=delivery)
            enqueue_after_commit(deliver_email, delivery.pk)
            queued.append(delivery.pk)
    return queued


def claim_delivery(delivery_id: int) -> EmailDelivery | None:
    """Take a delivery for sending: one conditional UPDATE, so of two workers given the same
    delivery only one gets it (the other finds it already taken or sent)."""
    now = timezone.now()
    claimed = EmailDelivery.objects.filter(
        pk=delivery_id, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
    ).update(
        status=DeliveryStatus.SENDING, last_attempt_at=now, next_attempt_at=None,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return EmailDelivery.objects.select_related("recipient").get(pk=delivery_id)


def record_delivery_sent(delivery: EmailDelivery, subject: str) -> None:
    EmailDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), subject=subject[:250], last_error=""
    )


def record_delivery_skipped(delivery: EmailDelivery) -> None:
    EmailDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SKIPPED)


def record_delivery_failure(
    delivery: EmailDelivery, error: BaseException, *, retry_in: dt.timedelta | None
) -> None:
    """An attempt failed: wait ``retry_in`` for the next one, or give up (``None``)."""
    message = f"{type(error).__name__}: {error}"[:2000]
    if retry_in is None:
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error=message, next_attempt_at=None
        )
        logger.error(
            "alert email %s to %s failed after %s attempts, given up: %s",
            delivery.pk, delivery.recipient.username, delivery.attempts, message,
        )
    else:
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.RETRYING, last_error=message,
            next_attempt_at=timezone.now() + retry_in,
        )
        logger.warning(
            "alert email %s to %s failed (attempt %s), retrying in %ss: %s",
            delivery.pk, delivery.recipient.username, delivery.attempts,
            int(retry_in.total_seconds()), message,
        )


def alert_email_settings() -> dict:
    return {
        "max_attempts": getattr(settings, "ALERT_EMAIL_MAX_ATTEMPTS", 6),
        "retry_base_seconds": getattr(settings, "ALERT_EMAIL_RETRY_BASE_SECONDS", 60),
        "retry_max_seconds": getattr(settings, "ALERT_EMAIL_RETRY_MAX_SECONDS", 3600),
    }

