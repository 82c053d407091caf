"""Login throttling and the log of refused access.

Everything refused is written to the logger ``intercompany.security`` (WARNING), one line each:

- a failed login (wrong password, unknown user, or a locked-out attempt), with the username as
  typed and the client address;
- a lockout by django-axes (too many failed logins for one username from one address);
- a refusal answered by a view: ``PermissionDenied`` (403, including a CSRF failure) for anyone,
  and ``Http404`` raised by a view for a logged-in employee. The scoped selectors answer 404 for
  another company's order exactly as for a missing one, so the page tells nothing; the log keeps
  who asked for what, and what they were told.

User-supplied text (usernames, paths) is logged with ``%r`` so that line breaks or terminal
escape sequences cannot forge log lines.
"""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import Http404
from django.shortcuts import render
from django.utils.cache import patch_cache_control

log = logging.getLogger("intercompany.security")


def client_address(request) -> str:
    if request is None:
        return "-"
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "-")


def _shorten(text, limit: int = 200):
    if isinstance(text, str) and len(text) > limit:
        return f"{text[:limit]}…({len(text)} characters)"
    return text


def describe_user(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous"
    return f"{user.get_username()} (id {user.pk})"


# -- login throttling ---------------------------------------------------------------------------


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with an HTTP request.

    Every login form (the clerk login page and the admin's) passes the request and is throttled.
    ``authenticate()`` without a request (the shell, a management command, the test client's
    ``login()``) has no client to throttle; axes would raise ``AxesBackendRequestParameterRequired``
    there, so this backend steps aside and lets ``ModelBackend`` check the password.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


# django-axes stores the username in a 255-character column, but Django's login forms do not
# limit its length: without this, a longer username is a 500 (PostgreSQL refuses the row)
# instead of a failed login. Real usernames have at most 150 characters, so nothing is lost.
AXES_USERNAME_LENGTH = 255


def username_for_throttling(request, credentials=None) -> str | None:
    """The username a login attempt is counted under (AXES_USERNAME_CALLABLE)."""
    if credentials:
        username = credentials.get("username")
    else:
        username = getattr(request, "POST", {}).get("username")
    if isinstance(username, str):
        return username[:AXES_USERNAME_LENGTH]
    return username


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login attempt sees (AXES_LOCKOUT_CALLABLE): the reason, when to try
    again, and whom to ask; HTTP 429."""
    cool_off = settings.AXES_COOLOFF_TIME
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(
        request,
        "intercompany/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cool_off_minutes": minutes},
        status=429,
    )


@receiver(user_login_failed, dispatch_uid="intercompany.security.log_login_failure")
def log_login_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get("username", "") if credentials else ""
    log.warning(
        "login failed: username %r from %s (%s %r)",
        _shorten(username), client_address(request),
        getattr(request, "method", "-"), getattr(request, "path", "-"),
    )


@receiver(user_locked_out, dispatch_uid="intercompany.security.log_lockout")
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    log.warning(
        "login locked out: username %r from %s after %s failed attempts",
        _shorten(username), ip_address or client_address(request), settings.AXES_FAILURE_LIMIT,
    )


# -- refused access -----------------------------------------------------------------------------


class RefusalLogMiddleware:
    """Logs every 403, and every 404 a view raised for a logged-in employee (the answer the
    company scoping gives for another company's order), to ``intercompany.security``.

    Placed after AuthenticationMiddleware so that it knows the user. A 404 for a URL that
    matches no page is not a refusal and is not logged.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        if status == 403 or (status == 404 and getattr(request, "_refused_by", None)):
            user = getattr(request, "user", None)
            if status == 404 and not getattr(user, "is_authenticated", False):
                return response
            reason = getattr(request, "_refused_by", None)
            log.warning(
                "access refused: %s %s %r -> %s%s",
                describe_user(user), request.method, _shorten(request.get_full_path()), status,
                f" ({type(reason).__name__}: {reason})" if reason is not None else "",
            )
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, (PermissionDenied, Http404)):
            request._refused_by = exception
        return None  # Django turns it into the 403/404 page as usual


# -- pages of a logged-in employee --------------------------------------------------------------


class PrivatePagesMiddleware:
    """``Cache-Control: private, no-store`` on every response to a logged-in employee: a shared
    computer's back button, the browser's disk cache or a proxy keep nothing of the previous
    clerk's orders. Static files (served by WhiteNoise before this runs) stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False):
            patch_cache_control(response, private=True, no_store=True)
        return response
