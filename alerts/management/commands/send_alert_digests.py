"""``manage.py send_alert_digests``: the daily digest, for cron.

Queues one email per employee who chose the daily digest and has alerts not yet sent, made up to
the end of the day in the employee's own time zone (a worker sends them): by default their
yesterday, which is over whatever the hour of the run. Safe to run twice: a digest already made
for an employee and day is not made again. Also sweeps the alerts still waiting for their
per-overwrite email (in case the process that should have queued them stopped first).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from alerts import services


class Command(BaseCommand):
    help = "Queue the daily alert digests of a day (default: yesterday) for the workers to send."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="The day to send, YYYY-MM-DD, in each employee's time zone "
            "(default: each employee's yesterday)."
        )

    def handle(self, *args, date=None, **options):
        if date:
            try:
                day = dt.date.fromisoformat(date)
            except ValueError as error:
                raise CommandError(
                    _("--date must be YYYY-MM-DD, not %(value)r.") % {"value": date}
                ) from error
        else:
            day = None
        digests = services.queue_daily_digests(day=day)
        swept = services.queue_overwrite_emails()
        which = day.isoformat() if day else _("each employee's yesterday")
        self.stdout.write(
            _("%(digests)s digest(s) of %(day)s queued; %(swept)s overwrite email(s) queued that "
              "were still waiting.") % {"digests": len(digests), "day": which, "swept": len(swept)}
        )
