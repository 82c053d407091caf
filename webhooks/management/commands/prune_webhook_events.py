"""Delete old change events whose deliveries are all finished (delivered or failed)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db.models import Exists, OuterRef
from django.utils import timezone

from webhooks.models import Delivery, DeliveryStatus, Event


class Command(BaseCommand):
    help = (
        "Delete change events older than --min-age-days (default 30) with their delivery log, "
        "unless a delivery of theirs is still pending."
    )

    def add_arguments(self, parser):
        parser.add_argument("--min-age-days", type=int, default=30)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *, min_age_days, dry_run, **options):
        cutoff = timezone.now() - timedelta(days=min_age_days)
        pending = Delivery.objects.filter(event=OuterRef("pk"), status=DeliveryStatus.PENDING)
        old = Event.objects.filter(created_at__lt=cutoff).exclude(Exists(pending))
        count = old.count()
        if not dry_run:
            old.delete()
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} event(s) older than {min_age_days} days.")
