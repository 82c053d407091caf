"""When a delivery is (re)attempted: the background task queued for it, and the backoff."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from intercompany.background import backoff_delay, enqueue_later


def schedule_delivery(delivery_id: int, *, at: datetime) -> None:
    """Queue the delivery task to run at ``at``. With the database task backend the task row is
    written in the current transaction: it commits or rolls back with the rows that asked for it,
    and no worker sees it before the commit."""
    from webhooks.tasks import deliver_webhook

    enqueue_later(deliver_webhook, max(at - timezone.now(), timedelta(0)), delivery_id)


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff before the retry after failed attempt number ``attempt``: doubling
    from WEBHOOK_RETRY_BASE_SECONDS up to WEBHOOK_RETRY_MAX_DELAY_SECONDS, with up to 10 %
    jitter so that the retries of many events to one recovering receiver spread out."""
    delay = backoff_delay(
        attempt,
        base_seconds=settings.WEBHOOK_RETRY_BASE_SECONDS,
        max_seconds=settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS,
    )
    return delay * (1 + random.random() / 10)  # noqa: S311 - jitter, not a secret


def lease() -> timedelta:
    """How long an attempt may take before another worker assumes its worker died: the HTTP
    timeout (for connecting and for reading, each), plus a margin."""
    return timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 1)
