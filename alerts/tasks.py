"""Background tasks of the alerts app (run by ``manage.py db_worker``)."""

from __future__ import annotations

import smtplib

from alerts import services
from alerts.emails import build_message, delivery_lines
from intercompany.background import backoff_delay, enqueue_later, task
from intercompany.locale import employee_locale


@task()
def send_overwrite_emails() -> int:
    """Put the alerts waiting for an overwrite email into messages, one per recipient, and queue
    their delivery. Queued after the commit of every edit that made such an alert."""
    return len(services.queue_overwrite_emails())


@task()
def deliver_email(delivery_id: int) -> str:
    """Send one alert email. Another worker holding the same delivery finds it taken and does
    nothing; an SMTP server that refuses or is down makes the delivery wait and try again,
    doubling the wait each time, and after the last attempt the failure stays recorded."""
    delivery = services.claim_delivery(delivery_id)
    if delivery is None:
        return "taken"
    # In the recipient's language and time zone, as their pages are.
    with employee_locale(delivery.recipient):
        lines = delivery_lines(delivery)
        message = build_message(delivery, lines) if lines else None
    if message is None or not delivery.recipient.email:
        services.record_delivery_skipped(delivery)
        return "skipped"
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        config = services.alert_email_settings()
        if delivery.attempts >= config["max_attempts"]:
            services.record_delivery_failure(delivery, error, retry_in=None)
            return "failed"
        delay = backoff_delay(
            delivery.attempts, base_seconds=config["retry_base_seconds"],
            max_seconds=config["retry_max_seconds"],
        )
        services.record_delivery_failure(delivery, error, retry_in=delay)
        enqueue_later(deliver_email, delay, delivery_id)
        return "retrying"
    services.record_delivery_sent(delivery, message.subject)
    return "sent"
