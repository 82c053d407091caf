"""The Alerts section of the Preferences page (registered in ``AlertsConfig.ready``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alerts.forms import AlertPreferenceForm
from alerts.models import EmailDelivery
from alerts.services import preference_of, save_alert_preference
from intercompany.preferences import PreferenceSection


def section_context(request, form=None) -> dict:
    preference = preference_of(request.user)
    if form is None:
        form = AlertPreferenceForm(initial={
            "email": preference.email, "every_company_order": preference.every_company_order,
        })
    return {
        "form": form,
        "has_email": bool(request.user.email),
        "recent_emails": list(
            EmailDelivery.objects.filter(recipient=request.user).order_by("-created_at")[:5]
        ),
    }


def handle_post(request):
    form = AlertPreferenceForm(request.POST)
    if not form.is_valid():
        return section_context(request, form)
    save_alert_preference(
        employee=request.user, email=form.cleaned_data["email"],
        every_company_order=form.cleaned_data["every_company_order"],
    )
    messages.success(request, _("Alert preferences saved."))
    return redirect(reverse("preferences") + "#alerts")


SECTION = PreferenceSection(
    key="alerts", title=gettext_lazy("Alerts"), template="alerts/preferences_section.html",
    order=20, context=section_context, handle_post=handle_post,
)
