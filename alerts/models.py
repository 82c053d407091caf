"""Alerts: telling an employee that another company's employee overwrote their value.

One ``Alert`` per recipient and overwrite record (``orders.OverwriteRecord``), written in the
transaction of the edit that made the overwrite. Email leaves later, through background tasks:
an ``EmailDelivery`` is one message (one overwrite email, or one daily digest) with its attempts.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intercompany.models import Company
from orders.models import OverwriteRecord


class EmailChoice(models.TextChoices):
    EACH = "each", _("An email for each overwrite")
    DIGEST = "digest", _("A daily digest")
    NONE = "none", _("No email")


class AlertReason(models.TextChoices):
    OWN_VALUE = "own", _("your value")
    COMPANY_ORDER = "company", _("an order of your company")


class AlertPreference(models.Model):
    """How an employee wants to be told. No row means the defaults (daily digest; alerts only
    for their own values)."""

    employee = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference",
        verbose_name=_("employee"),
    )
    email = models.CharField(
        _("email"), max_length=10, choices=EmailChoice.choices, default=EmailChoice.DIGEST
    )
    every_company_order = models.BooleanField(
        _("alerts for every order of my companies"), default=False,
        help_text=_("Also be alerted when any value on an order of your companies is "
                    "overwritten by another company (for a team lead)."),
    )

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def __str__(self) -> str:
        return f"{self.employee}: {self.get_email_display()}"


class DeliveryKind(models.TextChoices):
    EACH = "each", _("overwrite email")
    DIGEST = "digest", _("daily digest")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENDING = "sending", _("being sent")
    RETRYING = "retrying", _("failed, will retry")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("nothing to send")


class EmailDelivery(models.Model):
    """One email to one employee and what became of it: every attempt counts, the last error is
    kept, and a message given up on stays here as ``failed``."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DeliveryKind.choices)
    digest_date = models.DateField(_("digest of"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    subject = models.CharField(_("subject"), max_length=250, blank=True, default="")

    class Meta:
        verbose_name = _("email delivery")
        verbose_name_plural = _("email deliveries")
        constraints = [
            # The daily digest command may run twice: one digest per employee and day.
            models.UniqueConstraint(
                fields=["recipient", "digest_date"], condition=Q(kind="digest"),
                name="one_digest_per_recipient_and_day",
            ),
        ]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="delivery_recipient")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.get_status_display()})"


class Alert(models.Model):
    """An overwrite the recipient is told about: their own value replaced by an employee acting
    for another company, or (if they chose so) any overwrite on an order of their companies.

    ``order_company`` repeats the record's company so that the unread count and the Alerts page
    filter on the recipient's current companies with one index (an employee who leaves a company
    stops seeing its alerts). ``email`` is how the recipient wanted to be told when the alert was
    made; ``email_delivery`` the message that carried it, once there is one.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("recipient"),
    )
    overwrite = models.ForeignKey(
        OverwriteRecord, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("overwrite"),
    )
    order_company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="+", verbose_name=_("company")
    )
    reason = models.CharField(_("why"), max_length=10, choices=AlertReason.choices)
    created_at = models.DateTimeField(_("when"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email = models.CharField(_("email"), max_length=10, choices=EmailChoice.choices)
    email_delivery = models.ForeignKey(
        EmailDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts",
        verbose_name=_("email"),
    )

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "overwrite"], name="one_alert_per_overwrite"
            )
        ]
        indexes = [
            # The Alerts page: one employee's alerts, newest first.
            models.Index(fields=["recipient", "-created_at", "-id"], name="alert_recipient"),
            # The header's unread count: only unread rows are in this index, so it stays small
            # however many alerts were ever read.
            models.Index(
                fields=["recipient", "order_company"], condition=Q(read_at__isnull=True),
                name="alert_unread",
            ),
            # Alerts waiting for their overwrite email (the worker's sweep).
            models.Index(
                fields=["id"], condition=Q(email="each", email_delivery__isnull=True),
                name="alert_email_waiting",
            ),
            # Alerts waiting for a daily digest, by day.
            models.Index(
                fields=["created_at"], condition=Q(email="digest", email_delivery__isnull=True),
                name="alert_digest_waiting",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.overwrite}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
