"""The Preferences page: one page, a section per concern, each owned by its own app.

An app contributes a section by registering it in its ``AppConfig.ready()``::

    from intercompany.preferences import PreferenceSection, register_section

    register_section(PreferenceSection(
        key="alerts", title="Alerts", template="alerts/preferences_section.html",
        order=20, context=alert_section_context, handle_post=save_alert_preferences,
    ))

so that ``intercompany`` (the page) never imports the apps that fill it; imports stay one-way.

- ``context(request)`` returns the section's template context (forms, lists).
- ``handle_post(request)`` handles a POST whose ``section`` field names the section. It returns
  an ``HttpResponse`` (usually a redirect after success, with a message) or a context dict to
  render the page again with (a bound form with its errors, status 400).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class PreferenceSection:
    key: str
    title: str
    template: str
    context: Callable[[HttpRequest], dict]
    handle_post: Callable[[HttpRequest], HttpResponse | dict]
    order: int = 50


_SECTIONS: dict[str, PreferenceSection] = {}


def register_section(section: PreferenceSection) -> None:
    _SECTIONS[section.key] = section


def sections() -> list[PreferenceSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def _render(request: HttpRequest, overrides: dict[str, dict], status: int = 200) -> HttpResponse:
    shown = [
        {"section": s, "context": overrides.get(s.key) or s.context(request)} for s in sections()
    ]
    return render(request, "intercompany/preferences.html", {"sections": shown}, status=status)


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Every section of the signed-in employee's preferences; a POST goes to one section."""
    if request.method == "POST":
        section = _SECTIONS.get(request.POST.get("section", ""))
        if section is None:
            return HttpResponseBadRequest(_("Unknown preferences section."))
        outcome = section.handle_post(request)
        if isinstance(outcome, HttpResponse):
            return outcome
        return _render(request, {section.key: outcome}, status=400)
    return _render(request, {})
