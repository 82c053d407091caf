"""What the HTTP API stores: the employees' tokens, the rate-limit counters and the results of
requests made with an ``Idempotency-Key``. Nothing here is read by ``orders`` or
``intercompany``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A secret an employee gives another system so it acts as them through the API.

    Only a SHA-256 digest of the secret is stored: the secret itself is shown once, when the
    token is created. ``prefix`` (the first characters) lets the employee recognise it.
    """

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
        verbose_name=_("employee"),
    )
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(_("prefix"), max_length=16)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RateLimitCounter(models.Model):
    """Requests of one caller (``key``: a token or a browser session's employee) in one window.

    In the database because it is the only state the gunicorn processes share: every process
    counts into the same row (an upsert), so the limit holds whichever process answers.
    """

    key = models.CharField(max_length=40)
    window_start = models.BigIntegerField(
        help_text="Start of the window, in seconds since the epoch."
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="one_counter_per_window")
        ]

    def __str__(self) -> str:
        return f"{self.key} @{self.window_start}: {self.count}"


class IdempotencyRecord(models.Model):
    """The first answer to a creation sent with an ``Idempotency-Key``, replayed for 24 hours
    to the same employee sending the same key with the same request."""

    employee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("employee"),
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True, default="")
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["employee", "key"], name="one_result_per_key")
        ]
        verbose_name = _("idempotent request")

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
