"""Admin for change events: a company's webhook endpoints and the delivery log of each.

Scoped like the rest of the admin: staff who are not superusers see and change only the endpoints
(and deliveries) of the companies they work for; another company's answers 404. Writes go through
``webhooks/services.py``.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from intercompany.admin_scoping import CompanyScopedAdminMixin
from intercompany.exceptions import NotAllowedError
from webhooks import services
from webhooks.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    WebhookEndpoint,
)


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple,
        help_text=_("Each is sent only for orders of the endpoint's company (a trading "
                    "relationship's change: for relationships the company is part of)."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("company", "url", "description", "event_types", "enabled")

    def clean_event_types(self):
        try:
            return services.clean_event_types(self.cleaned_data["event_types"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["event_types"]) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "company", "events", "enabled", "failing_since", "delivery_log")
    list_filter = ("company", "enabled")
    search_fields = ("url", "description", "company__code")
    readonly_fields = ("signing_secret", "disabled_at", "disabled_reason", "failing_since",
                       "created_by", "created_at", "delivery_log")
    list_select_related = ("company",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        )

    def get_fieldsets(self, request, obj=None):
        main = ("company", "url", "description", "event_types", "enabled")
        if obj is None:
            return ((None, {"fields": main}),)
        # The secret signs events: whoever reads it can forge them, so only those who may
        # change the endpoint see it.
        signing = ((_("Signing"), {"fields": ("signing_secret",)}),) if (
            self.has_change_permission(request, obj)) else ()
        return (
            (None, {"fields": main}),
            *signing,
            (_("Deliveries"), {"fields": ("delivery_log", "failing_since", "disabled_at",
                                          "disabled_reason", "created_by", "created_at")}),
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("company")  # an endpoint stays with its company's events
        return readonly

    @admin.display(description=_("events"))
    def events(self, obj):
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(t, t)) for t in obj.event_types)

    @admin.display(description=_("signing secret"))
    def signing_secret(self, obj):
        return format_html(
            '<code>{}</code><p class="help">{}</p>'
            '<button type="submit" form="roll-secret" class="button">{}</button>',
            obj.secret,
            _("The receiver verifies the webhook-signature header with this secret (Standard "
              "Webhooks). A new secret replaces it at once."),
            _("Generate a new secret"),
        )

    @admin.display(description=_("delivery log"))
    def delivery_log(self, obj):
        url = reverse("admin:webhooks_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a>', url,
            _("Deliveries (%(pending)s pending, %(failed)s failed)") % {
                "pending": getattr(obj, "pending", 0), "failed": getattr(obj, "failed", 0)},
        )

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.EDITABLE
                if name in form.cleaned_data}
        try:
            if change:
                saved = services.update_endpoint(endpoint=obj, employee=request.user, **data)
            else:
                enabled = data.pop("enabled", True)
                saved = services.create_endpoint(employee=request.user,
                                                 company=form.cleaned_data["company"], **data)
                if not enabled:
                    saved = services.update_endpoint(endpoint=saved, employee=request.user,
                                                     enabled=False)
        except NotAllowedError as error:
            raise PermissionDenied(str(error)) from None
        obj.pk = saved.pk
        obj.refresh_from_db()

    def get_urls(self):
        return [
            path("<path:object_id>/roll-secret/",
                 self.admin_site.admin_view(self.roll_secret_view),
                 name="webhooks_webhookendpoint_roll_secret"),
            *super().get_urls(),
        ]

    def roll_secret_view(self, request, object_id):
        # get_object answers None for an id that names no record, malformed ones included.
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is None:
            raise Http404(_("No such record."))
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        try:
            services.roll_secret(endpoint=endpoint, employee=request.user)
        except NotAllowedError as error:
            raise PermissionDenied(str(error)) from None
        self.message_user(request, _("A new signing secret was generated; give it to the "
                                     "receiving system."), messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "duration_ms", "outcome", "response_code", "error",
              "response_body")
    readonly_fields = fields
    verbose_name_plural = _("attempts")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """The delivery log: one row per event and endpoint, its attempts inline."""

    company_lookups = ("endpoint__company",)
    list_display = ("created_at", "event_type", "webhook_id", "endpoint", "status", "attempts",
                    "last_response_code", "last_attempt_at", "delivered_at", "next_attempt_at")
    list_filter = ("status", "event__type", ("endpoint", admin.RelatedOnlyFieldListFilter))
    search_fields = ("event__webhook_id", "endpoint__url")
    list_select_related = ("event", "endpoint__company")
    date_hierarchy = "created_at"
    actions = ["send_again"]
    inlines = [DeliveryAttemptInline]
    fields = ("event_type", "webhook_id", "endpoint", "status", "attempts",
              "last_response_code", "last_error", "created_at", "last_attempt_at",
              "next_attempt_at", "retry_until", "delivered_at", "sent_again_by", "sent_again_at",
              "payload")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The log is read only; "Send again" needs the permission to change deliveries.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Another company's delivery answers 404 to a POST too, as a missing one (not 403).
        self._check_visible(request, object_id)
        extra_context = {**(extra_context or {}),
                         "may_send_again": self.has_send_again_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("event"), ordering="event__type")
    def event_type(self, obj):
        return obj.event.get_type_display()

    @admin.display(description=_("webhook-id"), ordering="event__webhook_id")
    def webhook_id(self, obj):
        return obj.event.webhook_id

    @admin.display(description=_("payload"))
    def payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.event.payload, indent=2,
                                                      ensure_ascii=False, sort_keys=True))

    @admin.action(description=_("Send again"), permissions=["send_again"])
    def send_again(self, request, queryset):
        try:
            chosen = services.send_again(deliveries=list(queryset), employee=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        except NotAllowedError as error:
            raise PermissionDenied(str(error)) from None
        self.message_user(request, ngettext(
            "%(count)d delivery queued again, with the same webhook-id.",
            "%(count)d deliveries queued again, with the same webhook-id.", len(chosen),
        ) % {"count": len(chosen)}, messages.SUCCESS)
        return None

    def has_send_again_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.change_delivery")

    def get_urls(self):
        return [
            path("<path:object_id>/send-again/",
                 self.admin_site.admin_view(self.send_again_view),
                 name="webhooks_delivery_send_again"),
            *super().get_urls(),
        ]

    def send_again_view(self, request, object_id):
        # get_object answers None for an id that names no record, malformed ones included.
        delivery = self.get_object(request, unquote(object_id))
        if delivery is None:
            raise Http404(_("No such record."))
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_send_again_permission(request, delivery):
            raise PermissionDenied
        self.send_again(request, self.get_queryset(request).filter(pk=delivery.pk))
        return HttpResponseRedirect(reverse("admin:webhooks_delivery_change", args=[delivery.pk]))
