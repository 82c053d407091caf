"""Per-company scoping for the admin: staff who are not superusers see and change only the
records of the companies they work for, history views included."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.http import Http404

from intercompany.models import Company

RELATIONSHIP_ADMINISTRATORS_GROUP = "Trading relationship administrators"


def companies_of(user):
    if user.is_superuser:
        return Company.objects.all()
    return Company.objects.filter(employees=user)


def may_administer_relationships(user) -> bool:
    """Superusers, and staff in the group named in the README."""
    return user.is_active and user.is_staff and (
        user.is_superuser or user.groups.filter(name=RELATIONSHIP_ADMINISTRATORS_GROUP).exists()
    )


class CompanyScopedAdminMixin:
    """``company_lookups``: the paths from the model to a company; a record is visible when any
    of them is one of the user's companies."""

    company_lookups: tuple[str, ...] = ("company",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        companies = list(companies_of(request.user).values_list("pk", flat=True))
        from django.db.models import Q

        condition = Q()
        for lookup in self.company_lookups:
            condition |= Q(**{f"{lookup}__in": companies})
        return queryset.filter(condition).distinct() if len(self.company_lookups) > 1 else (
            queryset.filter(condition)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and not request.user.is_superuser:
            related = db_field.related_model
            if related is Company:
                field.queryset = field.queryset.filter(employees=request.user)
            elif hasattr(related, "company"):
                field.queryset = field.queryset.filter(company__employees=request.user)
        return field

    def _check_visible(self, request, object_id):
        if not self.get_queryset(request).filter(pk=unquote(object_id)).exists():
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
        return super().history_form_view(request, object_id, version_id, extra_context)
