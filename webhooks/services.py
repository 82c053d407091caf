"""Writes on webhook endpoints and deliveries, for the admin: register, change, new secret,
send again. Each checks that the employee administers the endpoint's company."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from intercompany.exceptions import NotAllowedError
from intercompany.models import Company, Employee
from webhooks.models import Delivery, DeliveryStatus, EventType, WebhookEndpoint, new_secret
from webhooks.scheduling import schedule_delivery

EDITABLE = ("url", "description", "event_types", "enabled")


def check_administers(employee: Employee, company: Company) -> None:
    if not (employee.is_active and employee.is_staff) or not (
        employee.is_superuser or employee.works_for(company)
    ):
        raise NotAllowedError(_("%(employee)s does not administer %(company)s.") % {
            "employee": employee, "company": company.code})


def clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types))
    unknown = [t for t in chosen if t not in EventType.values]
    if unknown:
        raise ValidationError({"event_types": _("Unknown events: %(names)s.") % {
            "names": ", ".join(unknown)}})
    if not chosen:
        raise ValidationError({"event_types": _("Choose at least one event.")})
    return [t for t in EventType.values if t in chosen]


def create_endpoint(
    *, employee: Employee, company: Company, url: str, event_types: Iterable[str],
    description: str = "",
) -> WebhookEndpoint:
    """Register an endpoint of ``company``; it gets a new signing secret."""
    check_administers(employee, company)
    endpoint = WebhookEndpoint(
        company=company, url=url.strip(), description=description.strip(),
        event_types=clean_event_types(event_types), created_by=employee,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def update_endpoint(*, endpoint: WebhookEndpoint, employee: Employee, **changes) -> WebhookEndpoint:
    """Change the URL, description, events or the enabled switch. Enabling a disabled endpoint
    starts afresh: its failure streak is forgotten (deliveries it missed are sent again from
    the delivery log)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    check_administers(employee, endpoint.company)
    if "event_types" in changes:
        changes["event_types"] = clean_event_types(changes["event_types"])
    with transaction.atomic():
        current = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        was_enabled = current.enabled
        for name, value in changes.items():
            setattr(current, name, value.strip() if isinstance(value, str) else value)
        if current.enabled and not was_enabled:
            current.disabled_at = None
            current.disabled_reason = ""
            current.failing_since = None
        elif was_enabled and not current.enabled:
            current.disabled_at = timezone.now()
            current.disabled_reason = _("Disabled by %(employee)s.") % {"employee": employee}
        current.full_clean()
        current.save()
    return current


def roll_secret(*, endpoint: WebhookEndpoint, employee: Employee) -> WebhookEndpoint:
    """Give the endpoint a new signing secret; the old one stops working at once."""
    check_administers(employee, endpoint.company)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=new_secret())
    endpoint.refresh_from_db(fields=["secret"])
    return endpoint


def send_again(*, deliveries: Iterable[Delivery], employee: Employee) -> list[Delivery]:
    """Queue the deliveries again, now, with the same ``webhook-id`` and body, and a fresh day
    of retries. Refused for a disabled endpoint (enable it first) and for a delivery being
    attempted at this moment."""
    ids = [d.pk for d in deliveries]
    now = timezone.now()
    with transaction.atomic():
        chosen = list(
            Delivery.objects.select_for_update(of=("self",)).select_related("endpoint__company")
            .filter(pk__in=ids).order_by("pk")
        )
        for delivery in chosen:
            check_administers(employee, delivery.endpoint.company)
            if not delivery.endpoint.enabled:
                raise ValidationError(_(
                    "The endpoint %(url)s is disabled: enable it before sending again."
                ) % {"url": delivery.endpoint.url})
            if delivery.attempt_log.filter(outcome="sending").exists() and (
                delivery.next_attempt_at and delivery.next_attempt_at > now
            ):
                raise ValidationError(_(
                    "Delivery %(id)s is being attempted right now; wait for its outcome."
                ) % {"id": delivery.pk})
        for delivery in chosen:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now
            delivery.retry_until = None  # a fresh day of retries from the next attempt
            delivery.sent_again_by = employee
            delivery.sent_again_at = now
            delivery.save(update_fields=["status", "next_attempt_at", "retry_until",
                                         "sent_again_by", "sent_again_at"])
            schedule_delivery(delivery.pk, at=now)
    return chosen
