from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from intercompany.admin_scoping import (
    CompanyScopedAdminMixin,
    companies_of,
    may_administer_relationships,
)
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from intercompany.services import create_trading_relationship, update_trading_relationship


@admin.register(Company)
class CompanyAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    company_lookups = ("pk",)
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Employee)
class EmployeeAdmin(CompanyScopedAdminMixin, UserAdmin):
    company_lookups = ("companies",)
    list_display = ("username", "first_name", "last_name", "email", "is_staff", "is_active")
    list_filter = ("companies", "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "first_name", "last_name", "email")
    # Plain multiple-choice lists: Django's two-box filter widget fails axe-core
    # (aria-prohibited-attr on its search icons).
    filter_horizontal = ()
    # Django's split date/time inputs have no label of their own (axe: label); these dates are
    # records, not settings.
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (gettext_lazy("Companies"), {"fields": ("companies",)}),
        (gettext_lazy("Language and time zone"), {"fields": ("language", "time_zone")}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "first_name", "last_name", "companies", "password1",
                           "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # A staff member administers the clerks of their companies and themselves, never an
        # account with rights of its own (a superuser, another staff member): resetting its
        # password or deactivating it would be taking those rights.
        return queryset.filter(
            Q(is_superuser=False, is_staff=False) | Q(pk=request.user.pk)
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only superusers hand out superuser rights, staff status and permissions.
            readonly += ["is_superuser", "is_staff", "groups", "user_permissions"]
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "companies" and not request.user.is_superuser:
            field.queryset = companies_of(request.user)
        return field


class TradingAccountAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ("account", "name", "company", "represents_company")
    list_filter = ("company", ("represents_company", admin.RelatedOnlyFieldListFilter))
    search_fields = ("account", "name", "company__code")
    list_select_related = ("company", "represents_company")


@admin.register(Customer)
class CustomerAdmin(TradingAccountAdmin):
    pass


@admin.register(Vendor)
class VendorAdmin(TradingAccountAdmin):
    pass


class TradingRelationshipForm(forms.ModelForm):
    class Meta:
        model = TradingRelationship
        fields = (
            "buying_company", "selling_company", "active", "intercompany_vendor",
            "intercompany_customer", *TradingRelationship.POLICY_FIELDS,
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("intercompany_vendor", "intercompany_customer"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = "{} {}".format(
                    self.fields[name].help_text,
                    _("Leave empty to use the existing intercompany account or create one."),
                )


@admin.register(TradingRelationship)
class TradingRelationshipAdmin(CompanyScopedAdminMixin, SimpleHistoryAdmin):
    """Switches grouped by the policy (and company) that owns them."""

    company_lookups = ("buying_company", "selling_company")
    form = TradingRelationshipForm
    list_display = (
        "__str__", "active", "purchase_policy_syncs_original_sales_order",
        "purchase_policy_syncs_intercompany_sales_order",
        "sales_policy_syncs_intercompany_purchase_order",
    )
    list_filter = ("active", "buying_company", "selling_company")
    search_fields = ("buying_company__code", "selling_company__code")
    list_select_related = ("buying_company", "selling_company")
    readonly_fields = ("intercompany_accounts",)
    history_list_display = [
        "active", "purchase_policy_syncs_original_sales_order",
        "purchase_policy_syncs_intercompany_sales_order",
        "sales_policy_syncs_intercompany_purchase_order", "history_company", "history_kind",
    ]
    fieldsets = (
        (
            gettext_lazy("Trading relationship"),
            {
                "fields": ("buying_company", "selling_company", "active"),
                "description": gettext_lazy(
                    "The buying company purchases from the selling company."
                ),
            },
        ),
        (
            gettext_lazy("Intercompany accounts"),
            {"fields": ("intercompany_vendor", "intercompany_customer", "intercompany_accounts")},
        ),
        (
            gettext_lazy("Purchase order policy (buying company)"),
            {
                "fields": (
                    "purchase_policy_syncs_original_sales_order",
                    "purchase_policy_syncs_intercompany_sales_order",
                ),
                "description": gettext_lazy(
                    "Recommended: both on. The original sales order and the intercompany "
                    "purchase order stay in step, and the intercompany purchase order feeds the "
                    "intercompany sales order."
                ),
            },
        ),
        (
            gettext_lazy("Sales order policy (selling company)"),
            {
                "fields": ("sales_policy_syncs_intercompany_purchase_order",),
                "description": gettext_lazy(
                    "With this on as well as the purchase order policy, an employee of one "
                    "company can overwrite what an employee of the other company entered: the "
                    "last edit wins on every order of the chain. Overwrites are listed on the "
                    "Overwrites page."
                ),
            },
        ),
    )

    @admin.display(description=gettext_lazy("accounts"))
    def intercompany_accounts(self, obj):
        if not obj or not obj.pk:
            return _("Created automatically when left empty.")
        vendor, customer = obj.intercompany_vendor, obj.intercompany_customer
        return format_html(
            _("Vendor <a href=\"{}\">{} {}</a> in {} represents {}.") + "<br>"
            + _("Customer <a href=\"{}\">{} {}</a> in {} represents {}."),
            reverse("admin:intercompany_vendor_change", args=[vendor.pk]),
            vendor.account, vendor.name, obj.buying_company.code, obj.selling_company.code,
            reverse("admin:intercompany_customer_change", args=[customer.pk]),
            customer.account, customer.name, obj.selling_company.code, obj.buying_company.code,
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [
                "buying_company", "selling_company", "intercompany_vendor",
                "intercompany_customer",
            ]
        return readonly

    def has_add_permission(self, request):
        return may_administer_relationships(request.user)

    def has_change_permission(self, request, obj=None):
        return may_administer_relationships(request.user)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        switches = {
            name: data[name]
            for name in ("active", *TradingRelationship.POLICY_FIELDS)
            if name in data
        }
        if change:
            saved = update_trading_relationship(
                relationship=obj, employee=request.user, **switches
            )
        else:
            try:
                saved = create_trading_relationship(
                    buying_company=data["buying_company"],
                    selling_company=data["selling_company"],
                    employee=request.user,
                    intercompany_vendor=data.get("intercompany_vendor"),
                    intercompany_customer=data.get("intercompany_customer"),
                    **switches,
                )
            except ValidationError as error:
                # Lost a race with an identical request after the form validated.
                raise ValidationError(error.messages) from error
        obj.__dict__.update(saved.__dict__)
