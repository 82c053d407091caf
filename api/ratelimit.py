"""Requests per minute per caller, counted in the database.

The counters live in the database because it is the only state shared by every gunicorn
process: a per-process counter would let a client multiply its limit by the number of workers.
One upsert per request (``INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING``, PostgreSQL and
SQLite alike) both counts and reads, atomically, so two processes never hand out the same slot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from api.models import RateLimitCounter

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Hit:
    count: int
    limit: int
    window: int  # start of the window, epoch seconds

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def first_in_window(self) -> bool:
        return self.count == 1

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, int(self.window + WINDOW_SECONDS - time.time() + 0.999))

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def limit_per_minute() -> int:
    return int(getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600))


def hit(key: str) -> Hit:
    """Count one request of ``key`` in the current window and return the count so far."""
    window = int(time.time()) // WINDOW_SECONDS * WINDOW_SECONDS
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "
            "ON CONFLICT (key, window_start) "
            f"DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key, window],
        )
        (count,) = cursor.fetchone()
    if count == 1:
        # Once per window: forget the windows that are over.
        RateLimitCounter.objects.filter(key=key, window_start__lt=window).delete()
    return Hit(count=count, limit=limit_per_minute(), window=window)
