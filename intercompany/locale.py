"""Each employee's language and time zone.

- ``EmployeeLocaleMiddleware`` activates the logged-in employee's saved language (else Django's
  ``LocaleMiddleware`` has chosen from the switcher's cookie or ``Accept-Language``) and time
  zone (else ``settings.TIME_ZONE``) for the whole request: templates, messages, the admin, the
  CSV export and the date filters all follow them.
- ``switch_language`` is the header's switcher: it saves the choice on the employee (and in the
  language cookie, so that the login page follows it too).
- The "Language and time zone" section of the Preferences page (registered in
  ``IntercompanyConfig.ready()``).
"""

from __future__ import annotations

import contextlib
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from intercompany.models import available_time_zones
from intercompany.preferences import PreferenceSection
from intercompany.services import set_language_and_time_zone


class EmployeeLocaleMiddleware:
    """After authentication: the employee's language and time zone for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language in dict(settings.LANGUAGES):
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            zone = _zone(user.time_zone)
            if zone is not None:
                timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            # Threads serve other requests next: never leave an employee's zone behind.
            timezone.deactivate()


def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that name; None for none, or for a zone this machine no longer knows (the
    group's default is shown then, rather than an error on every page)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The employee's zone of that name, else the group's default (``settings.TIME_ZONE``)."""
    return _zone(name) or timezone.get_default_timezone()


@contextlib.contextmanager
def employee_locale(employee):
    """The employee's language and time zone for work done outside their requests (an email a
    worker builds for them), as the middleware sets them for their requests."""
    language = employee.language
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(zone_named(employee.time_zone)):
        yield


def language_names() -> list[tuple[str, str]]:
    """Each language in its own words ("English", "Français"): how a reader finds theirs."""
    return [(code, capfirst(translation.get_language_info(code)["name_local"]))
            for code, _name in settings.LANGUAGES]


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("orders:sales-order-list")


@login_not_required
@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """The header's switcher (also on the login page): saved on the employee when logged in."""
    code = request.POST.get("language", "")
    # Back to the page the switcher was on (the Referer, as Django's set_language does: the
    # page itself does not name its own URL, so a 404 page shows nothing of what was asked).
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    response = redirect(_safe_next(request, target))
    if code not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        set_language_and_time_zone(employee=request.user, language=code)
    _remember_language(response, code)
    return response


def _remember_language(response: HttpResponse, code: str) -> None:
    """The language cookie (read by LocaleMiddleware, e.g. on the login page); none: the
    browser's Accept-Language decides."""
    if not code:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                               domain=settings.LANGUAGE_COOKIE_DOMAIN)
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, code,
        max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN, secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


# -- the Preferences section --------------------------------------------------------------------


def _time_zone_choices() -> list[tuple[str, str]]:
    default = settings.TIME_ZONE
    return [("", _("The group's default (%(zone)s)") % {"zone": default})] + [
        (name, name.replace("_", " ")) for name in sorted(available_time_zones())
    ]


class LanguageTimeZoneForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        required=False,
        help_text=gettext_lazy(
            "Every date and time is shown in this zone, and date filters mean days in it."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [
            ("", _("The language my browser asks for")), *language_names()
        ]
        self.fields["time_zone"].choices = _time_zone_choices()


def _section_context(request: HttpRequest, form: LanguageTimeZoneForm | None = None) -> dict:
    employee = request.user
    if form is None:
        form = LanguageTimeZoneForm(
            initial={"language": employee.language, "time_zone": employee.time_zone}
        )
    return {
        "form": form, "current_zone": timezone.get_current_timezone_name(), "now": timezone.now()
    }


def _save_section(request: HttpRequest) -> HttpResponse | dict:
    form = LanguageTimeZoneForm(request.POST)
    if not form.is_valid():
        return _section_context(request, form)
    employee = set_language_and_time_zone(
        employee=request.user,
        language=form.cleaned_data["language"],
        time_zone=form.cleaned_data["time_zone"],
    )
    # The confirmation already speaks the new language.
    request.COOKIES.pop(settings.LANGUAGE_COOKIE_NAME, None)
    language = employee.language or translation.get_language_from_request(request)
    with translation.override(language):
        messages.success(request, _("Your language and time zone are saved."))
    response = redirect(reverse("preferences") + "#language")
    _remember_language(response, employee.language)
    return response


LANGUAGE_SECTION = PreferenceSection(
    key="language",
    title=gettext_lazy("Language and time zone"),
    template="intercompany/preferences_language.html",
    context=_section_context,
    handle_post=_save_section,
    order=10,
)
