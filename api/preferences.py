"""The "API tokens" section of the Preferences page: create a named token (its secret shown
once), see when each was last used, revoke one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.tokens import NAME_MAX_LENGTH, create_api_token, revoke_api_token, tokens_of

SESSION_KEY = "api.new_token"


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"), max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("The system that will use it, e.g. “Warehouse system”."),
    )


class TokenRevokeForm(forms.Form):
    token = forms.IntegerField(widget=forms.HiddenInput)


def section_context(request, form=None) -> dict:
    # Shown once: taken out of the session by the page that shows it.
    new_token = request.session.pop(SESSION_KEY, None)
    return {
        "form": form or TokenCreateForm(),
        "tokens": list(tokens_of(request.user)),
        "new_token": new_token,
        "api_docs_url": reverse("api:openapi-view"),
    }


def handle_post(request):
    if request.POST.get("action") == "revoke":
        form = TokenRevokeForm(request.POST)
        token = None
        if form.is_valid():
            token = revoke_api_token(employee=request.user, token_id=form.cleaned_data["token"])
        if token is None:
            messages.error(request, _("No such active token."))
        else:
            messages.success(request, _("Token “%(name)s” is revoked: it no longer opens the "
                                        "API.") % {"name": token.name})
        return redirect(reverse("preferences") + "#api-tokens")
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, secret = create_api_token(employee=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            for message in error.messages:
                form.add_error("name", message)
        else:
            request.session[SESSION_KEY] = {"name": token.name, "secret": secret}
            return redirect(reverse("preferences") + "#api-tokens")
    return section_context(request, form=form)
