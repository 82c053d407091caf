"""Change events: the endpoints a company registers, the events (the outbox) and their deliveries.

An ``Event`` is written in the transaction of the change it reports, for one company, with one
``Delivery`` per endpoint of that company that wants its type. Deliveries are attempted after
commit by background tasks (``webhooks/delivery.py``); every attempt leaves a
``DeliveryAttempt`` row, the delivery log administrators read in the admin.
"""

from __future__ import annotations

import base64
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intercompany.models import Company, Employee
from webhooks.addresses import url_refusal


class EventType(models.TextChoices):
    ORDER_CREATED = "order.created", _("Order created")
    CUSTOMER_INFORMATION_CHANGED = (
        "order.customer_information_changed", _("Customer information changed"),
    )
    CUSTOMER_INFORMATION_OVERWRITTEN = (
        "order.customer_information_overwritten", _("Customer information overwritten"),
    )
    ORDER_CANCELLED = "order.cancelled", _("Order cancelled")
    TRADING_RELATIONSHIP_CHANGED = (
        "trading_relationship.changed", _("Trading relationship switches changed"),
    )


def new_secret() -> str:
    """A signing secret in the Standard Webhooks format: ``whsec_`` and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_webhook_id() -> str:
    """The ``webhook-id`` of an event: the same on every attempt, so receivers drop duplicates."""
    return "msg_" + secrets.token_hex(16)


class WebhookEndpoint(models.Model):
    """A URL of one company's system that receives the events it subscribed to."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="webhook_endpoints",
        verbose_name=_("company"),
        help_text=_("The endpoint receives only events about this company's orders and "
                    "trading relationships."),
    )
    url = models.URLField(
        _("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("Where the events are POSTed, e.g. https://erp.example.com/webhooks/ic."),
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(
        _("events"), default=list,
        help_text=_("The events this endpoint receives."),
    )
    secret = models.CharField(
        _("signing secret"), max_length=100, default=new_secret,
        help_text=_("The receiver verifies the webhook-signature header with it (Standard "
                    "Webhooks)."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    failing_since = models.DateTimeField(
        _("failing since"), null=True, blank=True,
        help_text=_("The first failed attempt since the last successful one."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["company__code", "url"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.company.code} {self.url}"

    def clean(self) -> None:
        refusal = url_refusal(self.url or "")
        if refusal:
            raise ValidationError({"url": refusal})

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types


class Event(models.Model):
    """One change, reported to one company: the body of every delivery of it."""

    webhook_id = models.CharField(
        _("webhook-id"), max_length=40, unique=True, default=new_webhook_id, editable=False
    )
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="+", verbose_name=_("company")
    )
    type = models.CharField(_("event"), max_length=50, choices=EventType.choices)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.type}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")


class Delivery(models.Model):
    """One event to one endpoint, until the receiver answers 2xx or the retries run out."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(
        _("next attempt"), null=True, blank=True, default=timezone.now,
        help_text=_("While an attempt is running: when another worker takes over if it never "
                    "finishes."),
    )
    retry_until = models.DateTimeField(
        _("retried until"), null=True, blank=True,
        help_text=_("After this, a failed attempt marks the delivery failed."),
    )
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_again_by = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("sent again by"),
    )
    sent_again_at = models.DateTimeField(_("sent again at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event.webhook_id} → {self.endpoint.url}"


class AttemptOutcome(models.TextChoices):
    SENDING = "sending", _("sending")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    INTERRUPTED = "interrupted", _("interrupted (the worker stopped)")


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: when, how long, what came back."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=AttemptOutcome.choices,
        default=AttemptOutcome.SENDING,
    )
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_body = models.TextField(_("response body (start)"), blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"#{self.number} {self.get_outcome_display()}"
