"""Errors as RFC 9457 problem details (``application/problem+json``), one shape everywhere.

``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}``; ``errors`` lists the
field-level messages of a validation error, worded exactly as on the clerk forms (the API
validates with the same forms and services). A 412 adds ``current``: the order as it is now.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from intercompany.exceptions import IntercompanyError, NotAllowedError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://intercompany.invalid/problems/"

# The HTTP status phrases, in the language of the request (RFC 9457 lets the title be
# localized; the type and status say the same in every language).
TITLES = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Forbidden"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    409: gettext_lazy("Conflict"),
    412: gettext_lazy("Precondition failed"),
    415: gettext_lazy("Unsupported media type"),
    422: gettext_lazy("Unprocessable content"),
    428: gettext_lazy("Precondition required"),
    429: gettext_lazy("Too many requests"),
}


class Problem(Exception):
    """Raised anywhere in the API to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        kind: str = "",
        title: str = "",
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict | None = None,
    ):
        self.status = status
        self.detail = detail
        self.kind = kind
        self.title = str(title or TITLES.get(status, _("Error")))
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(detail)

    def document(self) -> dict:
        doc = {
            "type": PROBLEM_BASE + self.kind if self.kind else "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem) -> HttpResponse:
    response = HttpResponse(
        json.dumps(problem.document(), ensure_ascii=False, default=str),
        status=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in problem.headers.items():
        response[name] = value
    return response


def field_errors(error: DjangoValidationError | dict) -> list[dict]:
    """``[{"field": name or None, "message": text}]`` from a service's ValidationError or a
    form's ``errors`` (None: about the request as a whole)."""
    if isinstance(error, DjangoValidationError):
        items = error.message_dict.items() if hasattr(error, "error_dict") else [
            (None, error.messages)
        ]
    else:
        items = error.items()
    found = []
    for name, messages in items:
        field = None if name in (None, "__all__") else name
        for message in messages:
            found.append({"field": field, "message": str(message)})
    return found


def validation_problem(errors: list[dict], detail: str = "") -> Problem:
    return Problem(
        422,
        detail or _("The request is not valid: nothing was saved."),
        kind="validation-error",
        title=_("Your request is not valid"),
        errors=errors,
    )


# -- the handlers NinjaAPI calls ---------------------------------------------------------------


def handle_problem(request, exc: Problem):
    return problem_response(exc)


def handle_django_validation_error(request, exc: DjangoValidationError):
    return problem_response(validation_problem(field_errors(exc)))


def handle_ninja_validation_error(request, exc: NinjaValidationError):
    errors = []
    for item in exc.errors:
        location = [str(part) for part in item.get("loc", ())]
        # ("body", "payload", "customer_reference") -> "customer_reference"
        if location and location[0] in ("body", "query", "path", "header", "cookie"):
            location = location[1:]
            if location and location[0] == "payload":
                location = location[1:]
        errors.append({"field": ".".join(location) or None, "message": str(item.get("msg"))})
    return problem_response(validation_problem(errors))


def handle_http_error(request, exc: HttpError):
    headers = {}
    if isinstance(exc, AuthenticationError) or exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
        detail = _("Send an API token (Authorization: Bearer ict_...) or sign in.")
        return problem_response(Problem(401, detail, kind="authentication", headers=headers))
    if exc.status_code == 403 and "CSRF" in str(exc):
        return problem_response(Problem(
            403, _("A browser session must send its CSRF token (X-CSRFToken header)."),
            kind="csrf",
        ))
    return problem_response(Problem(exc.status_code, str(exc)))


def handle_404(request, exc: Http404):
    return problem_response(Problem(404, str(exc) or _("No such record."), kind="not-found"))


def handle_not_allowed(request, exc: NotAllowedError):
    # The record exists but is not the employee's: told apart from nothing.
    return problem_response(Problem(404, _("No such record."), kind="not-found"))


def handle_business_rule(request, exc: IntercompanyError):
    return problem_response(Problem(409, str(exc), kind="refused", title=_("Refused")))


def install(api) -> None:
    api.add_exception_handler(Problem, handle_problem)
    api.add_exception_handler(DjangoValidationError, handle_django_validation_error)
    api.add_exception_handler(NinjaValidationError, handle_ninja_validation_error)
    api.add_exception_handler(HttpError, handle_http_error)
    api.add_exception_handler(Http404, handle_404)
    api.add_exception_handler(NotAllowedError, handle_not_allowed)
    api.add_exception_handler(IntercompanyError, handle_business_rule)
