"""Who is calling: an API token (``Authorization: Bearer ict_...``) or, for the browser, the
signed-in session (with Django's CSRF check on every write). Either way the request then acts
as that employee, with exactly their access, and counts against their rate limit."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from ninja.security import HttpBearer, SessionAuth

from api import ratelimit
from api.models import ApiToken
from api.problems import Problem
from api.tokens import token_for_secret


def _count(request: HttpRequest, key: str, token: ApiToken | None = None) -> None:
    hit = ratelimit.hit(key)
    request.rate_limit = hit
    if hit.first_in_window and token is not None:
        # The last-used time to the minute, written once per window rather than on every call.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    if not hit.allowed:
        raise Problem(
            429,
            _("Too many requests: at most %(limit)d a minute for each token. Try again in "
              "%(seconds)d seconds.") % {"limit": hit.limit, "seconds": hit.retry_after},
            kind="rate-limited",
            headers={"Retry-After": str(hit.retry_after), **rate_headers(hit)},
        )


def rate_headers(hit: ratelimit.Hit) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(hit.limit),
        "RateLimit-Remaining": str(hit.remaining),
        "RateLimit-Reset": str(hit.retry_after),
    }


def _language_of(request: HttpRequest, employee) -> None:
    """Messages in the language the caller asks for (``Accept-Language``), else in the one the
    token's employee chose in Preferences (the session's requests have it from the middleware
    already)."""
    if "Accept-Language" not in request.headers and employee.language in dict(settings.LANGUAGES):
        translation.activate(employee.language)
        request.LANGUAGE_CODE = employee.language


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = token_for_secret(token.strip())
        if found is None:
            return None
        request.user = found.employee
        request.api_token = found
        _language_of(request, found.employee)
        _count(request, f"token:{found.pk}", found)
        return found.employee


class BrowserSessionAuth(SessionAuth):
    """The session of the signed-in employee; writes need the CSRF token, as on the screens."""

    def authenticate(self, request: HttpRequest, key):
        user = super().authenticate(request, key)
        if user is None:
            return None
        request.api_token = None
        _count(request, f"session:{user.pk}")
        return user


AUTH = [TokenAuth(), BrowserSessionAuth()]
