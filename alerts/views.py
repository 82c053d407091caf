"""The Alerts page, marking alerts read, and the Needs attention landing page."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from alerts import selectors, services
from orders.context import clerk_view, employee_company_ids


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 100_000))
    except ValueError:
        return 1


@clerk_view
@require_GET
def alert_list(request):
    unread_only = request.GET.get("show") == "unread"
    page = selectors.alert_page(
        employee=request.user, company_ids=employee_company_ids(request),
        page=_page_number(request), unread_only=unread_only,
    )
    return render(request, "alerts/alert_list.html", {"page": page, "unread_only": unread_only})


def _back(request, default: str = "alerts:alert-list"):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


@clerk_view
def alert_read(request, pk: int):
    # An id that names none of the employee's alerts (one beyond 64 bits included) answers as a
    # missing record whatever the method; only then is a GET refused.
    if not selectors.alerts_visible_to(request.user).filter(pk=pk).exists():
        raise Http404("No such alert.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not services.mark_alert_read(employee=request.user, alert_id=pk):
        raise Http404("No such alert.")
    return _back(request)


@clerk_view
@require_POST
def alert_read_all(request):
    count = services.mark_all_alerts_read(employee=request.user)
    messages.success(request, ngettext(
        "%(count)s alert marked as read.", "%(count)s alerts marked as read.", count,
    ) % {"count": count})
    return _back(request)


@clerk_view
@require_GET
def needs_attention(request):
    company_ids = employee_company_ids(request)
    alerts = selectors.alert_page(
        employee=request.user, company_ids=company_ids, unread_only=True, page_size=20
    )
    changed = selectors.orders_changed_by_other_companies(company=request.current_company)
    return render(request, "alerts/needs_attention.html", {
        "alerts": alerts, "changed": changed, "days": selectors.ATTENTION_DAYS,
    })
