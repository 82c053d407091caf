"""The clerk screens. Thin: fetch through a scoped selector, validate with a form, call one
service, redirect with a message. Sales and purchase orders share these views; ``order_type``
comes from the URL pattern (orders/urls.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intercompany.exceptions import IntercompanyError
from intercompany.models import Company
from orders import selectors
from orders.context import clerk_view, employee_company_ids, set_current_company
from orders.domain_signals import order_history_viewed
from orders.exceptions import StaleOrderError
from orders.exports import csv_delimiter, overwrite_csv_lines
from orders.forms import (
    CompanySwitchForm,
    CustomerInformationForm,
    IntercompanyPurchaseOrderForm,
    OrderFilterForm,
    OverwriteFilterForm,
    PurchaseOrderCreateForm,
    SalesOrderCreateForm,
)
from orders.models import Order, OrderType
from orders.services import (
    cancel_order,
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)

URL_PREFIXES = {OrderType.SALES: "sales-order", OrderType.PURCHASE: "purchase-order"}


def order_url(order_type: str, pk: int, action: str = "detail") -> str:
    return reverse(f"orders:{URL_PREFIXES[order_type]}-{action}", args=[pk])


@dataclass(frozen=True)
class Kind:
    """What differs between the sales order and purchase order screens."""

    order_type: str
    title: str  # "Sales orders"
    singular: str  # "sales order"
    partner: str  # "customer" / "vendor"
    create_form: type
    search_help: str

    @property
    def partner_label(self) -> str:
        return _("Customer") if self.partner == "customer" else _("Vendor")

    def url(self, action: str) -> str:
        return reverse(f"orders:{URL_PREFIXES[self.order_type]}-{action}")

    @property
    def list_url(self) -> str:
        return self.url("list")

    @property
    def create_url(self) -> str:
        return self.url("create")


KINDS = {
    OrderType.SALES: Kind(
        OrderType.SALES, gettext_lazy("Sales orders"), gettext_lazy("sales order"), "customer",
        SalesOrderCreateForm,
        gettext_lazy(
            "Number, customer, customer reference, customer requisition or original customer."
        ),
    ),
    OrderType.PURCHASE: Kind(
        OrderType.PURCHASE, gettext_lazy("Purchase orders"), gettext_lazy("purchase order"),
        "vendor", PurchaseOrderCreateForm,
        gettext_lazy(
            "Number, vendor, customer reference, customer requisition or original customer."
        ),
    ),
}


# -- helpers ------------------------------------------------------------------------------------


def _get_order_or_404(request, order_type: str, pk: int) -> Order:
    """The order, if the employee works for its company; 404 otherwise, exactly as for an order
    that does not exist. Opening an order of another of the employee's companies makes that
    company the current one: every edit on the order is made for its company."""
    order = selectors.order_for_page(request.user, order_type, pk)
    if order is None:
        raise Http404("No such order.")
    if order.company_id != request.current_company.pk:
        set_current_company(request, order.company)
        messages.info(
            request,
            _("You now act for %(company)s, the company of %(number)s.")
            % {"company": order.company, "number": order.number},
        )
    return order


def _add_service_error(form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names, or above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _order_link(order: Order, company_ids: set[int]):
    """The order's number, linked when the employee may open it."""
    if order.company_id in company_ids:
        return format_html('<a href="{}">{}</a>', order_url(order.order_type, order.pk),
                           order.number)
    return format_html("{}", order.number)


def _created_message(order: Order, others: list[Order], company_ids: set[int]):
    """E.g. "Created intercompany purchase order USMF-PO-000012 and intercompany sales order
    DEMF-SO-000007.", each number linked where the employee may open it."""
    orders = [order, *others]
    parts = [format_html("{} {}", _(o.role), _order_link(o, company_ids)) for o in orders]
    if len(parts) == 1:
        joined = parts[0]
    else:
        joined = format_html(
            _("{} and {}"), format_html_join(", ", "{}", ((p,) for p in parts[:-1])), parts[-1]
        )
    return format_html(_("Created {}."), joined)


def _order_context(order: Order, **extra) -> dict:
    kind = KINDS[order.order_type]
    return {"order": order, "kind": kind, **extra}


# -- lists --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListColumn:
    """A column header of a list: its label and, when sortable, the link that sorts by it."""

    label: str
    url: str = ""  # "" when the column cannot be sorted
    sorted: str = ""  # "ascending" / "descending" when the list is sorted by it (aria-sort)


def _list_columns(request, kind: Kind, sort: str) -> list[ListColumn]:
    """The headers of a list. A click sorts by the column (ascending, the last changed column
    newest first), a second click turns the order round; filters and rows per page are kept,
    the place in the list is not (a new sort starts on its first page)."""
    current, descending = selectors.parse_sort(sort)
    labels = [
        ("number", _("Number")),
        ("partner", kind.partner_label),
        ("customer_reference", _("Customer reference")),
        ("customer_requisition", _("Customer requisition")),
        ("updated_at", _("Last changed")),
    ]
    columns = []
    for name, label in labels:
        if name == current.name:
            state = "descending" if descending else "ascending"
            target = name if descending else f"-{name}"
        else:
            state, target = "", f"-{name}" if name == "updated_at" else name
        query = request.GET.copy()
        for key in ("after", "before"):
            query.pop(key, None)
        query["sort"] = target
        columns.append(ListColumn(label, f"?{query.urlencode()}", state))
    return columns


@clerk_view
@require_GET
def order_list(request, order_type: str):
    kind = KINDS[order_type]
    form = OrderFilterForm(request.GET, search_help=kind.search_help)
    form.is_valid()  # a bad value in one filter drops that filter only
    data = form.cleaned_data
    filters = selectors.OrderFilters(
        q=data.get("q") or "",
        intercompany=data.get("intercompany") or "",
        status=data.get("status") or "",
    )
    sort = data.get("sort") or selectors.DEFAULT_SORT
    page = selectors.order_list(
        company=request.current_company,
        order_type=order_type,
        filters=filters,
        sort=sort,
        after=data.get("after") or "",
        before=data.get("before") or "",
        page_size=data.get("per_page") or selectors.PAGE_SIZE,
    )
    return render(
        request,
        "orders/order_list.html",
        {
            "kind": kind, "form": form, "page": page,
            "filtered": any(vars(filters).values()),
            "columns": _list_columns(request, kind, sort),
        },
    )


# -- create -------------------------------------------------------------------------------------


@clerk_view
@require_http_methods(["GET", "POST"])
def order_create(request, order_type: str):
    kind = KINDS[order_type]
    company = request.current_company
    form = kind.create_form(request.POST or None, company=company)
    if request.method == "POST" and form.is_valid():
        values = {
            name: form.cleaned_data[name]
            for name in (kind.partner, "customer_reference", "customer_requisition")
        }
        try:
            if order_type == OrderType.SALES:
                order = create_sales_order(employee=request.user, company=company, **values)
            else:
                order = create_purchase_order(employee=request.user, company=company, **values)
        except ValidationError as error:
            _add_service_error(form, error)
        except IntercompanyError as error:
            form.add_error(None, str(error))
        else:
            if order_type == OrderType.SALES:
                others = [order.intercompany_purchase_order] if order.is_intercompany else []
            else:
                others = [order.intercompany_sales_order] if order.is_intercompany else []
            messages.success(
                request, _created_message(order, others, employee_company_ids(request))
            )
            return redirect(order_url(order_type, order.pk))
    return render(request, "orders/order_create.html", {"kind": kind, "form": form})


# -- one order ----------------------------------------------------------------------------------


@clerk_view
@require_GET
def order_detail(request, order_type: str, pk: int):
    order = _get_order_or_404(request, order_type, pk)
    panel = selectors.chain_panel(
        order=order, employee=request.user, company_ids=employee_company_ids(request)
    )
    intercompany_form = None
    if order_type == OrderType.SALES and not order.is_cancelled:
        intercompany_form = IntercompanyPurchaseOrderForm(company=order.company)
    return render(
        request,
        "orders/order_detail.html",
        _order_context(order, panel=panel, intercompany_form=intercompany_form,
                       tab="details"),
    )


@clerk_view
@require_GET
def order_history_tab(request, order_type: str, pk: int):
    order = _get_order_or_404(request, order_type, pk)
    order_history_viewed.send(sender=type(order), order=order, employee=request.user)
    lines = selectors.history_lines(
        order=order, company_ids=employee_company_ids(request), url_of=order_url
    )
    return render(
        request, "orders/order_history.html",
        _order_context(order, lines=lines, tab="history"),
    )


@clerk_view
@require_http_methods(["GET", "POST"])
def order_edit(request, order_type: str, pk: int):
    order = _get_order_or_404(request, order_type, pk)
    if request.method == "GET":
        form = CustomerInformationForm.for_order(order)
        return render(request, "orders/order_edit.html", _order_context(order, form=form))

    form = CustomerInformationForm(request.POST, order=order)
    if form.is_valid():
        opened_at = form.cleaned_data["version"]
        values = {
            name: form.cleaned_data[name]
            for name in ("customer", "customer_reference", "customer_requisition")
            if form.cleaned_data.get(name) is not None
        }
        try:
            result = update_customer_information(
                order=order, employee=request.user, expected_version=opened_at, **values
            )
        except StaleOrderError:
            # Refused, nothing saved. Show what is there now and who set it, keep the clerk's
            # input, and move the form to the current version: saving again is a deliberate
            # choice to replace what they have now seen.
            current = selectors.order_for_page(request.user, order_type, pk)
            data = request.POST.copy()
            data["version"] = current.version
            form = CustomerInformationForm(data, order=current)
            return render(
                request,
                "orders/order_edit.html",
                _order_context(
                    current, form=form, stale=True,
                    changes=selectors.changes_since(order=current, version=opened_at),
                ),
                status=409,
            )
        except ValidationError as error:
            _add_service_error(form, error)
        except IntercompanyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, result.message)
            return redirect(order_url(order_type, order.pk))
    return render(request, "orders/order_edit.html", _order_context(order, form=form))


@clerk_view
@require_http_methods(["GET", "POST"])
def order_cancel(request, order_type: str, pk: int):
    order = _get_order_or_404(request, order_type, pk)
    if request.method == "POST":
        try:
            cancel_order(order=order, employee=request.user)
        except IntercompanyError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _(
                    "%(number)s is cancelled. It keeps its values and no longer sends or "
                    "receives customer-information copies."
                ) % {"number": order.number},
            )
        return redirect(order_url(order_type, order.pk))
    return render(request, "orders/order_cancel.html", _order_context(order))


@clerk_view
@require_http_methods(["GET", "POST"])
def intercompany_purchase_order_create(request, pk: int):
    sales_order = _get_order_or_404(request, OrderType.SALES, pk)
    form = IntercompanyPurchaseOrderForm(request.POST or None, company=sales_order.company)
    if request.method == "POST" and form.is_valid():
        try:
            purchase_order = create_intercompany_purchase_order(
                employee=request.user, sales_order=sales_order, vendor=form.cleaned_data["vendor"]
            )
        except ValidationError as error:
            _add_service_error(form, error)
        except IntercompanyError as error:
            form.add_error(None, str(error))
        else:
            mirror = purchase_order.intercompany_sales_order
            messages.success(
                request,
                _created_message(purchase_order, [mirror], employee_company_ids(request)),
            )
            return redirect(order_url(OrderType.SALES, sales_order.pk))
    return render(
        request,
        "orders/intercompany_purchase_order_form.html",
        _order_context(sales_order, form=form),
    )


# -- overwrites ---------------------------------------------------------------------------------


def _overwrite_filters(request) -> tuple[OverwriteFilterForm, selectors.OverwriteFilters]:
    form = OverwriteFilterForm(request.GET, company=request.current_company)
    if not form.is_valid():
        return form, selectors.OverwriteFilters()
    data = form.cleaned_data
    return form, selectors.OverwriteFilters(
        since=data.get("since"),
        until=data.get("until"),
        field=data.get("field") or "",
        other_company=data.get("other_company"),
    )


@clerk_view
@require_GET
def overwrites(request):
    form, filters = _overwrite_filters(request)
    page = None
    if form.is_valid():
        page = selectors.overwrites_page(
            company=request.current_company, filters=filters,
            after=request.GET.get("after", "")[:200], before=request.GET.get("before", "")[:200],
            page_size=selectors.OVERWRITES_PAGE_SIZE,
        )
    return render(
        request,
        "orders/overwrites.html",
        {"form": form, "page": page, "rows": page.rows if page else []},
    )


@clerk_view
@require_GET
def overwrites_csv(request):
    form, filters = _overwrite_filters(request)
    if not form.is_valid():
        return HttpResponse(
            _("The filters are not valid: %(errors)s") % {"errors": "; ".join(
                f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                for name, errors in form.errors.items()
            )},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    company: Company = request.current_company
    records = selectors.overwrite_records_of(company=company, filters=filters)
    # Streamed: the rows are read with a cursor and sent as they are written, so a year or
    # ten of overwrites costs the server one chunk of memory and starts downloading at once.
    response = StreamingHttpResponse(
        overwrite_csv_lines(records, delimiter=csv_delimiter()),
        content_type="text/csv; charset=utf-8",
    )
    filename = f"overwrites-{company.code}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- the company switcher -----------------------------------------------------------------------


@clerk_view
@require_POST
def company_switch(request):
    form = CompanySwitchForm(request.POST, companies=selectors.companies_of(request.user))
    if not form.is_valid():
        messages.error(request, _("Choose one of the companies you work for."))
        return redirect("orders:sales-order-list")
    company = form.cleaned_data["company"]
    set_current_company(request, company)
    messages.info(request, _("You now act for %(company)s.") % {"company": company})
    return redirect(_after_switch(request, form.cleaned_data.get("next") or ""))


def _after_switch(request, target: str) -> str:
    """Back to the page the clerk switched on, unless it is a page of one order: that order
    belongs to the company they just left, so they land on the list of the same kind."""
    fallback = reverse("orders:sales-order-list")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return fallback
    try:
        match = resolve(urlsplit(target).path)
    except Resolver404:
        return fallback
    if match.namespace != "orders" or "pk" not in match.kwargs:
        return target
    order_type = match.kwargs.get("order_type", OrderType.SALES)
    return KINDS[order_type].url("list")
