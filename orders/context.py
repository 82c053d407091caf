"""The company a clerk acts for: chosen in the header, remembered in the session.

``clerk_view`` wraps every clerk screen: it requires a login and sets

- ``request.employee_companies``: the companies the employee works for (one query), and
- ``request.current_company``: the one chosen in the session, else the first of them,

which the base layout shows in the header (through the ``request`` context processor). It is a
view decorator rather than a middleware so that the settings need no change, and so that the
admin and the login page never pay for it.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import render

from intercompany.models import Company
from orders.selectors import companies_of

SESSION_KEY = "orders.current_company_id"


def resolve_current_company(request: HttpRequest) -> Company | None:
    companies = list(companies_of(request.user))
    request.employee_companies = companies
    chosen = request.session.get(SESSION_KEY)
    current = next((c for c in companies if c.pk == chosen), companies[0] if companies else None)
    request.current_company = current
    return current


def set_current_company(request: HttpRequest, company: Company) -> None:
    request.session[SESSION_KEY] = company.pk
    request.current_company = company


def employee_company_ids(request: HttpRequest) -> set[int]:
    return {c.pk for c in request.employee_companies}


def clerk_view(view):
    """Login required; resolves the current company; an employee who works for no company gets
    a page that says so instead of empty screens."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if resolve_current_company(request) is None:
            return render(request, "orders/no_company.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
