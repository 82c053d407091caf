"""Admin for orders. Every write goes through orders.services, so the sync and the history
behave exactly as for clerks; ``version`` travels in the form so a stale admin form is refused."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from intercompany.admin_scoping import CompanyScopedAdminMixin
from intercompany.exceptions import IntercompanyError
from orders import services
from orders.models import OrderStatus, PurchaseOrder, SalesOrder


class OrderAdminForm(forms.ModelForm):
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["opened_version"].initial = self.instance.version
            # Without it the stale check could be skipped by leaving the field out.
            self.fields["opened_version"].required = True

    def clean(self):
        cleaned = super().clean()
        values = {
            name: cleaned.get(name, "")
            for name in ("customer_reference", "customer_requisition")
            if name in self.fields
        }
        try:
            cleaned.update(services.clean_customer_information(values))
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                self.add_error(field, messages_)
        if not self.instance.pk:
            self.check_new_order(cleaned)
        expected = cleaned.get("opened_version")
        if self.instance.pk and expected is not None:
            current = type(self.instance).objects.filter(pk=self.instance.pk).first()
            if current is not None and current.version != expected:
                raise ValidationError(
                    _(
                        "%(number)s was changed by someone else after you opened it (customer "
                        "reference now “%(reference)s”, customer requisition now "
                        "“%(requisition)s”). Reload the page and make your change again."
                    ) % {
                        "number": current.number,
                        "reference": current.customer_reference,
                        "requisition": current.customer_requisition,
                    }
                )
        return cleaned

    def check_new_order(self, cleaned):
        """The rules the creating service will apply, checked here so they show on the form."""
        company = cleaned.get("company")
        party_field = "customer" if "customer" in self.fields else "vendor"
        party = cleaned.get(party_field)
        if company is None or party is None:
            return
        if party.company_id != company.pk:
            self.add_error(
                party_field,
                _("%(account)s is not an account of %(company)s.")
                % {"account": party.account, "company": company.code},
            )
            return
        origin = cleaned.get("source_sales_order")
        if origin is not None:
            if origin.company_id != company.pk:
                self.add_error(
                    "source_sales_order",
                    _("%(number)s is not an order of %(company)s.")
                    % {"number": origin.number, "company": company.code},
                )
            if not party.is_intercompany:
                self.add_error(
                    "vendor", _("Only an intercompany vendor can source a sales order.")
                )
        if party.is_intercompany:
            buyer, seller = (
                (company, party.represents_company) if party_field == "vendor"
                else (party.represents_company, company)
            )
            try:
                services.active_relationship(buying_company=buyer, selling_company=seller)
            except IntercompanyError as error:
                self.add_error(party_field, str(error))


class OrderAdmin(CompanyScopedAdminMixin, SimpleHistoryAdmin):
    form = OrderAdminForm
    list_filter = ("company", "status")
    list_per_page = 50
    show_full_result_count = False
    history_list_display = [
        "customer_reference", "customer_requisition", "status", "history_company",
        "history_kind", "history_source_number",
    ]
    common_readonly = (
        "number", "chain", "customer_reference_set_by", "customer_reference_set_for",
        "customer_requisition_set_by", "customer_requisition_set_for", "created_by",
        "created_at", "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = (*self.common_readonly, "company", self.counterparty_field, *self.link_fields)
        # Cancelling is the only status change; a cancelled order stays cancelled.
        return (*readonly, "status") if obj.is_cancelled else readonly

    def get_fields(self, request, obj=None):
        editable = ["customer_reference", "customer_requisition", "opened_version"]
        if obj is None:
            return ["company", self.counterparty_field, *self.add_fields, *editable]
        return [
            "number", "company", self.counterparty_field, *self.link_fields, "status",
            *editable, "customer_reference_set_by", "customer_reference_set_for",
            "customer_requisition_set_by", "customer_requisition_set_for", "chain",
            "created_by", "created_at", "updated_at",
        ]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                result = services.update_customer_information(
                    order=obj,
                    employee=request.user,
                    customer_reference=data["customer_reference"],
                    customer_requisition=data["customer_requisition"],
                    expected_version=data.get("opened_version"),
                )
                if result.changed_fields:
                    messages.info(request, result.message)
                # The form already set obj.status: look at what the user changed instead.
                if "status" in form.changed_data and data["status"] == OrderStatus.CANCELLED:
                    services.cancel_order(order=obj, employee=request.user)
                obj.refresh_from_db()
            else:
                created = self.create(request, data)
                obj.__dict__.update(created.__dict__)
        except IntercompanyError as error:
            # The form validated but the rule refused (a race): say so instead of a 500.
            messages.error(request, str(error))
            if not change:
                raise ValidationError(str(error)) from error

    def create(self, request, data):
        raise NotImplementedError


@admin.register(SalesOrder)
class SalesOrderAdmin(OrderAdmin):
    counterparty_field = "customer"
    link_fields = ("intercompany_purchase_order",)
    add_fields = ()
    list_display = (
        "number", "company", "customer", "customer_reference", "customer_requisition",
        "status", "is_intercompany",
    )
    search_fields = (
        "number", "customer_reference", "customer_requisition", "customer__account",
        "customer__name",
    )
    list_select_related = ("company", "customer")

    @admin.display(boolean=True, description=gettext_lazy("intercompany"))
    def is_intercompany(self, obj):
        return obj.intercompany_purchase_order_id is not None

    def create(self, request, data):
        return services.create_sales_order(
            employee=request.user,
            company=data["company"],
            customer=data["customer"],
            customer_reference=data["customer_reference"],
            customer_requisition=data["customer_requisition"],
        )


class PurchaseOrderAdminForm(OrderAdminForm):
    source_sales_order = forms.ModelChoiceField(
        queryset=SalesOrder.objects.none(),
        required=False,
        label=gettext_lazy("Source sales order"),
        help_text=gettext_lazy(
            "To source a sales order from an intercompany vendor (three legs): the sales order "
            "of the same company. Its customer information is copied as the purchase order "
            "policy says."
        ),
    )


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(OrderAdmin):
    form = PurchaseOrderAdminForm
    counterparty_field = "vendor"
    link_fields = ("origin_sales_order", "trading_relationship")
    add_fields = ("source_sales_order",)
    list_display = (
        "number", "company", "vendor", "customer_reference", "customer_requisition", "status",
        "is_intercompany",
    )
    search_fields = (
        "number", "customer_reference", "customer_requisition", "vendor__account",
        "vendor__name",
    )
    list_select_related = ("company", "vendor")

    @admin.display(boolean=True, description=gettext_lazy("intercompany"))
    def is_intercompany(self, obj):
        return obj.trading_relationship_id is not None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None:
            queryset = SalesOrder.objects.filter(status=OrderStatus.OPEN)
            if not request.user.is_superuser:
                queryset = queryset.filter(company__employees=request.user)
            form.base_fields["source_sales_order"].queryset = queryset
        return form

    def create(self, request, data):
        origin = data.get("source_sales_order")
        if origin is not None:
            return services.create_intercompany_purchase_order(
                employee=request.user, sales_order=origin, vendor=data["vendor"]
            )
        return services.create_purchase_order(
            employee=request.user,
            company=data["company"],
            vendor=data["vendor"],
            customer_reference=data["customer_reference"],
            customer_requisition=data["customer_requisition"],
        )
