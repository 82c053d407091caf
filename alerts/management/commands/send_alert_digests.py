"""``manage.py send_alert_digests``: the daily digest, for cron.

Queues one email per employee who chose the daily digest and has alerts of the day not yet sent
(a worker sends them). Safe to run twice: a digest already made for an employee and day is not
made again. Also sweeps the alerts still waiting for their per-overwrite email (in case the
process that should have queued them stopped first).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from alerts import services


class Command(BaseCommand):
    help = "Queue the daily alert digests of a day (default: yesterday) for the workers to send."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="The day to send, YYYY-MM-DD, in TIME_ZONE (default: yesterday)."
        )

    def handle(self, *args, date=None, **options):
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as error:
                raise CommandError(f"--date must be YYYY-MM-DD, not {date!r}.") from error
        else:
            day = timezone.localdate() - dt.timedelta(days=1)
        digests = services.queue_daily_digests(day=day)
        swept = services.queue_overwrite_emails()
        self.stdout.write(
            f"{len(digests)} digest(s) of {day.isoformat()} queued; "
            f"{len(swept)} overwrite email(s) queued that were still waiting."
        )
