"""API tokens: create, revoke, and find the token a request presents.

A token reads ``ict_<40 random characters>``. Only its SHA-256 digest is stored, so a copy of
the database does not give access; the secret is handed out once, by ``create_api_token``.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken
from intercompany.models import Employee
from intercompany.validators import clean_text

TOKEN_PREFIX = "ict_"
NAME_MAX_LENGTH = 60
MAX_ACTIVE_TOKENS = 20


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_token(*, employee: Employee, name: str) -> tuple[ApiToken, str]:
    """A new token for ``employee``; returns it with its secret (shown once, never stored)."""
    name = clean_text(name, label=_("Name"), max_length=NAME_MAX_LENGTH)
    if not name:
        raise ValidationError({"name": _("Give the token a name, e.g. the system that uses it.")})
    with transaction.atomic():
        active = ApiToken.objects.filter(employee=employee, revoked_at__isnull=True)
        if active.count() >= MAX_ACTIVE_TOKENS:
            raise ValidationError(
                {"name": _("You have %(count)d active tokens: revoke one you no longer use "
                           "first.") % {"count": MAX_ACTIVE_TOKENS}}
            )
        if active.filter(name=name).exists():
            raise ValidationError(
                {"name": _("You already have an active token named “%(name)s”.") % {"name": name}}
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(30)
        token = ApiToken.objects.create(
            employee=employee, name=name, prefix=secret[:10], digest=digest_of(secret)
        )
    return token, secret


def revoke_api_token(*, employee: Employee, token_id: int) -> ApiToken | None:
    """Revoke one of ``employee``'s tokens (None if they have no such active token). Takes
    effect on the next request: every request looks the token up."""
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(employee=employee, pk=token_id, revoked_at__isnull=True)
            .first()
        )
        if token is None:
            return None
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its (active) employee; one query."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return (
        ApiToken.objects.select_related("employee")
        .filter(digest=digest_of(secret), revoked_at__isnull=True, employee__is_active=True)
        .first()
    )


def tokens_of(employee: Employee):
    return ApiToken.objects.filter(employee=employee).order_by("revoked_at", "-created_at")
