"""Per-company scoping for the admin: staff who are not superusers see and change only the
records of the companies they work for, history views included."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils.translation import gettext_lazy

from intercompany.models import Company

RELATIONSHIP_ADMINISTRATORS_GROUP = "Trading relationship administrators"
NOT_A_RELATIONSHIP_ADMINISTRATOR = gettext_lazy(
    "Only superusers and members of the group “Trading relationship administrators” change "
    "trading relationships."
)


def companies_of(user):
    if user.is_superuser:
        return Company.objects.all()
    return Company.objects.filter(employees=user)


def administrable_employees(user, queryset):
    """The employees ``user`` (staff, not superuser) administers: themselves, and the clerks
    (neither staff nor superuser) every one of whose companies is one of ``user``'s. An account
    with rights of its own, or a foot in a company ``user`` does not work for, is out of reach:
    its password, email, activity, companies and groups are not theirs to change."""
    theirs = companies_of(user).values("pk")
    memberships = Company.objects.filter(employees=OuterRef("pk"))
    return queryset.filter(
        Q(pk=user.pk)
        | (
            Q(is_superuser=False, is_staff=False)
            & Exists(memberships.filter(pk__in=theirs))
            & ~Exists(memberships.exclude(pk__in=theirs))
        )
    )


def may_administer_relationships(user) -> bool:
    """Superusers, and staff in the group named in the README."""
    return user.is_active and user.is_staff and (
        user.is_superuser or user.groups.filter(name=RELATIONSHIP_ADMINISTRATORS_GROUP).exists()
    )


def object_id_or_404(object_id):
    """``object_id`` from a URL as the primary key it names, or 404 when it cannot name one
    (``abc``, ``1.5``, a number beyond the 64-bit keys): a malformed id is a missing record."""
    try:
        value = int(unquote(str(object_id)))
    except (TypeError, ValueError):
        raise Http404("No such record.") from None
    if not 0 < value < 2**63:
        raise Http404("No such record.")
    return value


class CompanyListFilter(admin.RelatedFieldListFilter):
    """The company filter of a changelist: the companies of the staff member only (all of them
    for a superuser), never the names of the group's other companies."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin) or ("code",)
        return [
            (company.pk, str(company))
            for company in companies_of(request.user).order_by(*ordering)
        ]


class CompanyScopedAdminMixin:
    """``company_lookups``: the paths from the model to a company; a record is visible when any
    of them is one of the user's companies."""

    company_lookups: tuple[str, ...] = ("company",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        companies = list(companies_of(request.user).values_list("pk", flat=True))
        condition = Q()
        for lookup in self.company_lookups:
            condition |= Q(**{f"{lookup}__in": companies})
        return queryset.filter(condition).distinct() if len(self.company_lookups) > 1 else (
            queryset.filter(condition)
        )

    def get_list_filter(self, request):
        # Every filter on a company lists the staff member's companies only.
        scoped = []
        for entry in super().get_list_filter(request):
            if isinstance(entry, str) and self._is_company_field(entry):
                entry = (entry, CompanyListFilter)
            scoped.append(entry)
        return scoped

    def _is_company_field(self, name: str) -> bool:
        try:
            field = self.model._meta.get_field(name)
        except Exception:  # a lookup path or a method: not a plain company field
            return False
        return getattr(field, "related_model", None) is Company

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and not request.user.is_superuser:
            related = db_field.related_model
            if related is Company:
                field.queryset = field.queryset.filter(employees=request.user)
            elif hasattr(related, "company"):
                field.queryset = field.queryset.filter(company__employees=request.user)
        return field

    def get_object(self, request, object_id, from_field=None):
        if from_field is None:
            object_id = object_id_or_404(object_id)
        return super().get_object(request, object_id, from_field)

    def _check_visible(self, request, object_id):
        if not self.get_queryset(request).filter(pk=object_id_or_404(object_id)).exists():
            raise Http404("No such record.")

    # The admin answers a record missing from the queryset with a redirect to its index; the
    # product answers 404 for a missing record and, identically, for another company's.
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("No such record.")

    # django-simple-history falls back to the history rows when the object is not in the
    # queryset; another company's history must answer 404 like the object itself.
    def history_view(self, request, object_id, extra_context=None):
        self._check_visible(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._check_visible(request, object_id)
        version_id = object_id_or_404(version_id)
        # django-simple-history hides the revert button from those who may not change the
        # record, but saves a posted revert all the same: refuse it as the change form would.
        if request.method == "POST" and not self.has_change_permission(
            request, self.get_object(request, object_id)
        ):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
