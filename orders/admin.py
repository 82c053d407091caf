"""Admin for orders. Every write goes through orders.services, so the sync and the history
behave exactly as for clerks; ``version`` travels in the form so a stale admin form is refused."""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from intercompany.admin_history import LabelledHistoryMixin
from intercompany.admin_scoping import CompanyScopedAdminMixin, companies_of
from intercompany.exceptions import IntercompanyError
from orders import services
from orders.models import OrderStatus, PurchaseOrder, SalesOrder

# The employee whose admin page is being rendered (see OrderAdmin.chain_orders).
_viewer: ContextVar = ContextVar("order_admin_viewer", default=None)


def _as_viewer(request, view, *args):
    token = _viewer.set(request.user)
    try:
        response = view(*args)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        return response
    finally:
        _viewer.reset(token)
# Shown read-only: the original customer changes with the customer of the original sales order,
# and the original sales order is the chain's shape.
ORIGINAL_CUSTOMER_ADMIN_FIELDS = (
    "original_sales_order", "original_customer_account", "original_customer_name",
    "original_customer_account_set_by", "original_customer_account_set_for",
)
ORIGINAL_CUSTOMER_SEARCH_FIELDS = ("original_customer_account", "original_customer_name")


class OrderAdminForm(forms.ModelForm):
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # The version stored now, not the instance's: on the history's "revert to this
            # version" page the instance is the old version, and reverting is an edit of the
            # order as it is when the page is opened (refused if it changes before the save).
            stored = type(self.instance).objects.filter(pk=self.instance.pk).values_list(
                "version", flat=True
            ).first()
            self.fields["opened_version"].initial = stored or self.instance.version
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
        elif "customer" in self.fields and cleaned.get("customer") is None:
            cleaned["customer"] = self.instance.customer
        elif "customer" in self.changed_data:
            try:
                services.check_new_customer(self.instance, cleaned["customer"])
            except ValidationError as error:
                self.add_error("customer", error.message_dict["customer"])
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


class OrderAdmin(CompanyScopedAdminMixin, LabelledHistoryMixin, SimpleHistoryAdmin):
    form = OrderAdminForm
    list_filter = ("company", "status")
    list_per_page = 50
    show_full_result_count = False
    history_list_display = [
        "customer_reference", "customer_requisition", "status", "history_company",
        "history_kind", "history_source_number",
    ]
    common_readonly = (
        "number", "chain_orders", "customer_reference_set_by", "customer_reference_set_for",
        "customer_requisition_set_by", "customer_requisition_set_for",
        *ORIGINAL_CUSTOMER_ADMIN_FIELDS, "created_by", "created_at", "updated_at",
    )

    actions = ["cancel_selected"]

    # Orders are never deleted, by staff or superusers: a deleted leg breaks its chain and the
    # history that points to it. They are cancelled (the database refuses a deletion as well:
    # orders/db_guards.py).
    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # An order's page offers no deletion at all: not of the order, nor (through the related
        # widget's delete link) of its customer or vendor, which its orders protect anyway.
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget.can_delete_related = False
        return formfield

    @admin.action(description="Cancel the selected orders", permissions=["change"])
    def cancel_selected(self, request, queryset):
        cancelled, refused = [], []
        # The queryset is the admin's, already scoped to the staff member's companies; the
        # service checks each order again.
        for order in queryset.select_related("company"):
            if order.is_cancelled:
                continue
            try:
                services.cancel_order(order=order, employee=request.user)
            except IntercompanyError as error:
                refused.append(f"{order.number}: {error}")
            else:
                cancelled.append(order.number)
        if cancelled:
            messages.success(request, f"Cancelled {', '.join(cancelled)}.")
        elif not refused:
            messages.info(request, "The selected orders were already cancelled.")
        for line in refused:
            messages.error(request, line)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        readonly = (*self.common_readonly, "company", self.counterparty_field, *self.link_fields)
        # Cancelling is the only status change; a cancelled order stays cancelled (also on the
        # page that reverts to a version from before it was cancelled).
        cancelled = obj.is_cancelled or type(obj).objects.filter(
            pk=obj.pk, status=OrderStatus.CANCELLED
        ).exists()
        return (*readonly, "status") if cancelled else readonly

    # The chain field links to the orders the viewer may open: it needs the request, which
    # Django does not pass to a read-only field, so the views below set it while they run and
    # render (a TemplateResponse would otherwise render after they return).
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _as_viewer(request, super().changeform_view, request, object_id, form_url,
                          extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        return _as_viewer(request, super().history_form_view, request, object_id, version_id,
                          extra_context)

    @admin.display(description=_("chain"))
    def chain_orders(self, obj):
        """Every order of the chain, in the order they were created: a link where the viewer may
        open it, plain text for another company's order."""
        if not obj.chain_id:
            return _("Not part of an intercompany chain.")
        viewer = _viewer.get()
        visible = None if viewer is None or viewer.is_superuser else set(
            companies_of(viewer).values_list("pk", flat=True)
        )
        orders = sorted(
            [
                *SalesOrder.objects.filter(chain_id=obj.chain_id).select_related("company"),
                *PurchaseOrder.objects.filter(chain_id=obj.chain_id).select_related("company"),
            ],
            key=lambda o: (o.created_at, o.order_type != "sales", o.pk),
        )
        items = []
        for order in orders:
            text = format_html("{} ({}, {})", order.number, order.role, order.company.code)
            if order.node == obj.node:
                items.append(format_html("<li><strong>{}</strong> {}</li>", text,
                                         _("(this order)")))
            elif viewer is not None and (visible is None or order.company_id in visible):
                url = reverse(f"admin:orders_{order._meta.model_name}_change", args=[order.pk])
                items.append(format_html('<li><a href="{}">{}</a></li>', url, text))
            else:
                items.append(format_html("<li>{}</li>", text))
        joined = format_html_join("", "{}", ((item,) for item in items))
        return format_html('<ul class="chain-orders">{}</ul>', joined)

    @admin.display(description=_("role"))
    def role(self, obj):
        return obj.role

    def get_fields(self, request, obj=None):
        editable = ["customer_reference", "customer_requisition", "opened_version"]
        if obj is None:
            return ["company", self.counterparty_field, *self.add_fields, *editable]
        return [
            "number", "company", self.counterparty_field, *self.link_fields, "status",
            *editable, "customer_reference_set_by", "customer_reference_set_for",
            "customer_requisition_set_by", "customer_requisition_set_for",
            *ORIGINAL_CUSTOMER_ADMIN_FIELDS, "chain_orders", "created_by", "created_at",
            "updated_at",
        ]

    @admin.display(description=_("original customer"), ordering="original_customer_account")
    def original_customer(self, obj):
        return obj.original_customer or "—"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                # A sales order's customer is editable where it may change (SalesOrderAdmin).
                new_customer = (
                    {"customer": data["customer"]} if "customer" in form.changed_data else {}
                )
                result = services.update_customer_information(
                    order=obj,
                    employee=request.user,
                    customer_reference=data["customer_reference"],
                    customer_requisition=data["customer_requisition"],
                    expected_version=data.get("opened_version"),
                    **new_customer,
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
        except (IntercompanyError, ValidationError) as error:
            # The form validated but the rule refused (a race): say so instead of a 500.
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(request, text)
            if not change:
                raise ValidationError(text) from error

    def create(self, request, data):
        raise NotImplementedError


@admin.register(SalesOrder)
class SalesOrderAdmin(OrderAdmin):
    counterparty_field = "customer"
    link_fields = ("intercompany_purchase_order",)
    add_fields = ()
    list_display = (
        "number", "company", "customer", "customer_reference", "customer_requisition",
        "original_customer", "status", "role",
    )
    search_fields = (
        "number", "customer_reference", "customer_requisition", "customer__account",
        "customer__name", *ORIGINAL_CUSTOMER_SEARCH_FIELDS,
    )
    list_select_related = ("company", "customer")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.customer_may_change:
            # The change goes through the service: the original customer follows it along the
            # chain, and an intercompany customer is refused with the reason.
            readonly = tuple(name for name in readonly if name != "customer")
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and "customer" in form.base_fields:
            field = form.base_fields["customer"]
            field.queryset = field.queryset.filter(company=obj.company_id)
            # As on the clerk form: a POST without it leaves the customer as it is.
            field.required = False
        return form

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
        "number", "company", "vendor", "customer_reference", "customer_requisition",
        "original_customer", "status", "role",
    )
    search_fields = (
        "number", "customer_reference", "customer_requisition", "vendor__account",
        "vendor__name", *ORIGINAL_CUSTOMER_SEARCH_FIELDS,
    )
    list_select_related = ("company", "vendor")

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
