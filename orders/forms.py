"""Clerk forms. They check the shape of the input; the services check the rules.

Choice lists are built from the current company's records only, so a forged POST naming another
company's customer or vendor fails as an invalid choice before any service runs.
"""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from intercompany.models import Company
from intercompany.validators import invisible_characters_validator, reject_control_characters
from orders.history import FIELD_LABELS
from orders.models import (
    CUSTOMER_REFERENCE_MAX_LENGTH,
    CUSTOMER_REQUISITION_MAX_LENGTH,
    TYPED_CUSTOMER_INFORMATION_FIELDS,
    OrderStatus,
    OrderType,
)
from orders.selectors import (
    PAGE_SIZE,
    PAGE_SIZES,
    active_intercompany_vendors_of,
    customers_of,
    other_companies,
    vendors_of,
)


class AccountChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        if obj.represents_company_id:
            return _("%(account)s %(name)s (intercompany: %(company)s)") % {
                "account": obj.account, "name": obj.name, "company": obj.represents_company.code
            }
        return f"{obj.account} {obj.name}"


def _customer_reference_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Customer reference"),
        max_length=CUSTOMER_REFERENCE_MAX_LENGTH,
        required=False,
        validators=[
            reject_control_characters, invisible_characters_validator("Customer reference")
        ],
        error_messages={
            "max_length": gettext_lazy(
                "Customer reference is too long: at most %(limit_value)d characters "
                "(it has %(show_value)d)."
            )
        },
    )


def _customer_requisition_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Customer requisition"),
        max_length=CUSTOMER_REQUISITION_MAX_LENGTH,
        required=False,
        help_text=gettext_lazy("The customer's purchase order number."),
        validators=[
            reject_control_characters, invisible_characters_validator("Customer requisition")
        ],
        error_messages={
            "max_length": gettext_lazy(
                "Customer requisition is too long: at most %(limit_value)d characters "
                "(it has %(show_value)d)."
            )
        },
    )


class CompanyBoundForm(forms.Form):
    """A create form remembers the company it was opened for: if the clerk switched company in
    another window meanwhile, the save is refused rather than made for the wrong company."""

    company = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, company: Company, **kwargs):
        self.for_company = company
        super().__init__(*args, **kwargs)
        self.fields["company"].initial = company.code

    def clean_company(self) -> str:
        code = self.cleaned_data["company"]
        if code != self.for_company.code:
            raise forms.ValidationError(
                _(
                    "This form was opened for %(opened)s, but you now act for %(now)s. "
                    "Check the form and save again."
                ) % {"opened": code, "now": self.for_company.code}
            )
        return code


class SalesOrderCreateForm(CompanyBoundForm):
    customer = AccountChoiceField(
        queryset=None, label=gettext_lazy("Customer"), empty_label=gettext_lazy("Choose a customer")
    )
    customer_reference = _customer_reference_field()
    customer_requisition = _customer_requisition_field()

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, company=company, **kwargs)
        self.fields["customer"].queryset = customers_of(company).select_related(
            "represents_company"
        )
        self.fields["customer"].error_messages["invalid_choice"] = _(
            "Choose one of the customers of %(company)s."
        ) % {"company": company.code}
        self.fields["customer"].error_messages["required"] = _("Choose the customer.")


class PurchaseOrderCreateForm(CompanyBoundForm):
    vendor = AccountChoiceField(
        queryset=None, label=gettext_lazy("Vendor"), empty_label=gettext_lazy("Choose a vendor")
    )
    customer_reference = _customer_reference_field()
    customer_requisition = _customer_requisition_field()

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, company=company, **kwargs)
        self.fields["vendor"].queryset = vendors_of(company).select_related("represents_company")
        self.fields["vendor"].error_messages["invalid_choice"] = _(
            "Choose one of the vendors of %(company)s."
        ) % {"company": company.code}
        self.fields["vendor"].error_messages["required"] = _("Choose the vendor.")


class CustomerInformationForm(forms.Form):
    """Edit the customer information of an order. ``version`` is the order's version when the
    form was opened: the service refuses the save if the order changed since.

    On an open sales order that is not an intercompany one, the customer can be changed too,
    among the company's customers that are not intercompany customers (a sale to one of those
    is another kind of chain; the service refuses it with the reason).
    """

    # Not required: a form without it (an API-like POST, an older page) leaves the customer as is.
    customer = AccountChoiceField(
        queryset=None, label=gettext_lazy("Customer"), empty_label=None, required=False
    )
    customer_reference = _customer_reference_field()
    customer_requisition = _customer_requisition_field()
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            code: gettext_lazy(
                "This form is incomplete or damaged. Open the order again and redo the change."
            )
            for code in ("required", "invalid", "min_value")
        },
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        if may_change_customer(order):
            field = self.fields["customer"]
            field.queryset = customers_of(order.company).filter(represents_company__isnull=True)
            field.help_text = _(
                "Changing it changes the original customer of the orders of its chain as the "
                "switches say. Intercompany customers are not offered: a sale to one is "
                "another kind of chain."
            )
            field.error_messages["invalid_choice"] = _(
                "Choose one of the customers of %(company)s that is not an intercompany "
                "customer."
            ) % {"company": order.company.code}
        else:
            del self.fields["customer"]

    @classmethod
    def for_order(cls, order, data=None) -> CustomerInformationForm:
        initial = {name: getattr(order, name) for name in TYPED_CUSTOMER_INFORMATION_FIELDS}
        initial["version"] = order.version
        if may_change_customer(order):
            initial["customer"] = order.customer_id
        return cls(data=data, initial=initial, order=order)


def may_change_customer(order) -> bool:
    """Whether the edit form offers the customer: an open sales order, not an intercompany
    one (whose customer is the intercompany customer by definition)."""
    return order.order_type == OrderType.SALES and order.customer_may_change


class IntercompanyPurchaseOrderForm(forms.Form):
    vendor = AccountChoiceField(
        queryset=None,
        label=gettext_lazy("Intercompany vendor"),
        empty_label=gettext_lazy("Choose an intercompany vendor"),
        help_text=gettext_lazy("Only vendors on an active trading relationship are listed."),
    )

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = active_intercompany_vendors_of(company)
        self.fields["vendor"].error_messages["invalid_choice"] = _(
            "Choose one of the active intercompany vendors of %(company)s."
        ) % {"company": company.code}
        self.fields["vendor"].error_messages["required"] = _("Choose the intercompany vendor.")


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    intercompany = forms.ChoiceField(
        label=gettext_lazy("Intercompany"),
        required=False,
        choices=[
            ("", gettext_lazy("All orders")),
            ("yes", gettext_lazy("Intercompany only")),
            ("no", gettext_lazy("Not intercompany")),
        ],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *OrderStatus.choices],
    )
    per_page = forms.TypedChoiceField(
        label=gettext_lazy("Rows per page"),
        required=False,
        coerce=int,
        empty_value=PAGE_SIZE,
        choices=[(size, str(size)) for size in PAGE_SIZES],
    )
    # The column the list is sorted by ("-" first: descending), kept when filtering.
    sort = forms.CharField(required=False, max_length=30, widget=forms.HiddenInput)
    # Where the page starts: a row of the list (see selectors.Cursor), not a page number.
    after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    before = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, search_help: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].help_text = search_help
        self.fields["q"].widget.attrs["type"] = "search"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self):
        super().__init__(format="%Y-%m-%d")


# Dates outside these years cannot be turned into the day boundaries the filter needs (a day
# is added to "To"; time zones shift both) without leaving Python's date range.
_FIRST_DATE, _LAST_DATE = datetime.date(1900, 1, 1), datetime.date(9998, 12, 31)


class OverwriteFilterForm(forms.Form):
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput())
    field = forms.ChoiceField(
        label=gettext_lazy("Field"),
        required=False,
        choices=[("", gettext_lazy("Both fields"))]
        + [(name, FIELD_LABELS[name]) for name in TYPED_CUSTOMER_INFORMATION_FIELDS],
    )
    other_company = forms.ModelChoiceField(
        label=gettext_lazy("Other company"), required=False, queryset=None,
        empty_label=gettext_lazy("Any company"), to_field_name="code",
    )

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["other_company"].queryset = other_companies(company)

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        for name, value in (("since", since), ("until", until)):
            if value and not _FIRST_DATE <= value <= _LAST_DATE:
                self.add_error(name, _("Choose a date between the years 1900 and 9998."))
                cleaned[name] = None
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


class CompanySwitchForm(forms.Form):
    company = forms.ModelChoiceField(
        label=gettext_lazy("Acting for"), queryset=None, to_field_name="code", empty_label=None
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies
