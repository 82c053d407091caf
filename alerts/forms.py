from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import EmailChoice


class AlertPreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label=_("Email me"), choices=EmailChoice.choices, widget=forms.RadioSelect,
        help_text=_("The daily digest arrives the morning after, one message for the day."),
    )
    every_company_order = forms.BooleanField(
        label=_("Alert me about every order of my companies"), required=False,
        help_text=_("Not only when your own value is overwritten: any overwrite by another "
                    "company on the orders of the companies you work for (for a team lead)."),
    )
