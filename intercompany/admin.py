from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from intercompany.admin_history import LabelledHistoryMixin
from intercompany.admin_scoping import (
    CompanyScopedAdminMixin,
    administrable_employees,
    companies_of,
    may_administer_relationships,
)
from intercompany.exceptions import NotAllowedError
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from intercompany.services import (
    check_may_create_relationship,
    create_trading_relationship,
    update_trading_relationship,
)
from intercompany.switches import SWITCHES, PolicyRights


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
        # Not the mixin's "any company is theirs": an employee of USMF and DEMF is administered
        # by superusers only (and by staff of both), never by DEMF's staff, who could otherwise
        # set their password, log in as them and read USMF's orders.
        queryset = UserAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return administrable_employees(request.user, queryset)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # Only superusers hand out superuser rights, staff status and permissions.
            readonly += ["is_superuser", "is_staff", "groups", "user_permissions"]
        return readonly

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser and "companies" in form.base_fields:
            # An employee of no company would leave the staff member's scope once saved.
            form.base_fields["companies"].required = True
        return form

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "companies" and not request.user.is_superuser:
            field.queryset = companies_of(request.user)
        return field

    def save_related(self, request, form, formsets, change):
        # The form offers only the staff member's companies: without this, saving an employee
        # would silently take them out of every other company. Read before the form's save.
        kept = []
        if change and not request.user.is_superuser:
            kept = list(
                form.instance.companies.exclude(pk__in=companies_of(request.user).values("pk"))
            )
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.companies.add(*kept)


class TradingAccountAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ("account", "name", "company", "represents_company")
    list_filter = ("company", ("represents_company", admin.RelatedOnlyFieldListFilter))
    search_fields = ("account", "name", "company__code")
    list_select_related = ("company", "represents_company")

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        relationship = _relationship_using(obj)
        # The account a trading relationship uses concerns both companies, as the
        # relationship's accounts do: whom it represents (a sale to it makes a chain) is changed
        # only by an employee of both, or a superuser.
        if relationship is not None and PolicyRights.of(request.user, relationship).refusal(
            "intercompany_customer"
        ):
            readonly += ["company", "represents_company"]
        return readonly


def _relationship_using(account) -> TradingRelationship | None:
    if account is None or account.pk is None:
        return None
    try:
        return account.trading_relationship
    except ObjectDoesNotExist:
        return None


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

    user = None  # the employee using the form (set by the admin's get_form)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("intercompany_vendor", "intercompany_customer"):
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].help_text = "{} {}".format(
                    self.fields[name].help_text,
                    _("Leave empty to use the existing intercompany account or create one."),
                )

    def clean(self):
        cleaned = super().clean()
        buyer, seller = cleaned.get("buying_company"), cleaned.get("selling_company")
        if self.instance.pk is None and buyer and seller and self.user:
            # The service's rule, shown on the form before anything is saved.
            try:
                check_may_create_relationship(self.user, buyer, seller)
            except NotAllowedError as error:
                raise ValidationError(str(error)) from None
        return cleaned


def _switch_column(switch):
    def column(self, obj):
        return getattr(obj, switch.field)

    column.__name__ = switch.field
    return admin.display(boolean=True, description=switch.qualified_label)(column)


POLICY_FIELDSETS = {
    True: _("Purchase order policy (buying company)"),
    False: _("Sales order policy (selling company)"),
}


@admin.register(TradingRelationship)
class TradingRelationshipAdmin(CompanyScopedAdminMixin, LabelledHistoryMixin, SimpleHistoryAdmin):
    """Switches grouped by the policy (and company) that owns them. Each company changes its
    own policy; the active switch and the accounts need both (intercompany/switches.py)."""

    company_lookups = ("buying_company", "selling_company")
    form = TradingRelationshipForm
    list_display = ("__str__", "active", *(f"switch_{s.field}" for s in SWITCHES))
    list_filter = ("active", "buying_company", "selling_company")
    search_fields = ("buying_company__code", "selling_company__code")
    list_select_related = ("buying_company", "selling_company")
    readonly_fields = ("intercompany_accounts",)
    history_list_display = ["active", *TradingRelationship.POLICY_FIELDS, "history_company",
                            "history_kind"]
    fieldsets = (
        (
            _("Trading relationship"),
            {
                "fields": ("buying_company", "selling_company", "active"),
                "description": _("The buying company purchases from the selling company."),
            },
        ),
        (
            _("Intercompany accounts"),
            {"fields": ("intercompany_vendor", "intercompany_customer", "intercompany_accounts")},
        ),
        (
            POLICY_FIELDSETS[True],
            {
                "fields": tuple(s.field for s in SWITCHES if s.owned_by_buyer),
                "description": _("Recommended: both on. The original sales order and the "
                "intercompany purchase order stay in step, and the intercompany purchase order "
                "feeds the intercompany sales order."),
            },
        ),
        (
            POLICY_FIELDSETS[False],
            {
                "fields": tuple(s.field for s in SWITCHES if not s.owned_by_buyer),
                "description": _("With this on as well as the purchase order policy, an "
                "employee of one company can overwrite what an employee of the other company "
                "entered: the last edit wins on every order of the chain. Overwrites are listed "
                "on the Overwrites page."),
            },
        ),
    )

    @admin.display(description=_("accounts"))
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

    def _refusals(self, request, obj) -> dict[str, str]:
        """The fields of ``obj`` the user may not change, with the reason (one query, cached
        on the request for the page)."""
        if obj is None or request.user.is_superuser:
            return {}
        cache = request.__dict__.setdefault("_relationship_refusals", {})
        if obj.pk not in cache:
            rights = PolicyRights.of(request.user, obj)
            cache[obj.pk] = {
                name: reason
                for name in ("active", *TradingRelationship.POLICY_FIELDS)
                if (reason := rights.refusal(name)) is not None
            }
        return cache[obj.pk]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly += [
                "buying_company", "selling_company", "intercompany_vendor",
                "intercompany_customer", *self._refusals(request, obj),
            ]
        return readonly

    def get_fieldsets(self, request, obj=None):
        refusals = self._refusals(request, obj)
        if not refusals or not self.has_change_permission(request, obj):
            return self.fieldsets
        fieldsets = []
        for title, options in self.fieldsets:
            reasons = []
            for name in options["fields"]:
                reason = refusals.get(name)
                if reason and reason not in reasons:
                    reasons.append(reason)
            if reasons:
                note = _("Read only for you: %(reasons)s.") % {"reasons": "; ".join(reasons)}
                description = options.get("description")
                options = {
                    **options,
                    "description": f"{note} {description}" if description else note,
                }
            fieldsets.append((title, options))
        return fieldsets

    def has_add_permission(self, request):
        user = request.user
        # A relationship concerns two companies: its creator works for both.
        return may_administer_relationships(user) and (
            user.is_superuser or user.companies.count() >= 2
        )

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
            before = TradingRelationship.objects.get(pk=obj.pk)
            try:
                saved = update_trading_relationship(
                    relationship=obj, employee=request.user, **switches
                )
            except NotAllowedError as error:
                # The form showed these switches as read only: only a forged or raced post.
                messages.error(request, str(error))
                saved = before
            for line in describe_switch_changes(before, saved):
                messages.info(request, line)
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


# The changelist's switch columns, headed "<name> (<policy>)": two switches share a name.
for _switch in SWITCHES:
    setattr(TradingRelationshipAdmin, f"switch_{_switch.field}", _switch_column(_switch))


def describe_switch_changes(before, after) -> list[str]:
    """One line per switch changed, named as everywhere else, e.g. "Purchase order policy of
    USMF: “Customer information, original sales order ↔ intercompany purchase order” switched
    off."""
    lines = []
    if before.active != after.active:
        lines.append(
            _("%(relationship)s: the trading relationship is now active.")
            if after.active else _("%(relationship)s: the trading relationship is now inactive.")
        )
        lines[-1] = lines[-1] % {"relationship": after}
    for switch in SWITCHES:
        old, new = getattr(before, switch.field), getattr(after, switch.field)
        if old != new:
            state = _("switched on") if new else _("switched off")
            lines.append(
                _("%(Policy)s of %(company)s: “%(label)s” %(state)s.") % {
                    "Policy": capfirst(switch.policy), "company": switch.owner(after).code,
                    "label": switch.label, "state": state,
                }
            )
    return lines
