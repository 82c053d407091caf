"""The operations of the HTTP API (``/api/v1/``). Thin, like the clerk views: fetch through a
scoped selector, check the input with the clerk forms, call one service, answer with the
representation. Sales and purchase orders share their operations (``_order_operations``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, NinjaAPI, Query, Router, Schema
from ninja.openapi.docs import Swagger

from api import idempotency, problems, representations, selectors
from api.auth import AUTH
from api.problems import Problem, field_errors, validation_problem
from api.schemas import (
    AccountPageOut,
    CompanyOut,
    CustomerInformationIn,
    HistoryEntryOut,
    IntercompanyPurchaseOrderIn,
    OrderCreatedOut,
    OrderDetailOut,
    OrderPageOut,
    OrderSavedOut,
    OverwritePageOut,
    ProblemOut,
    PurchaseOrderIn,
    SalesOrderIn,
    StaleProblemOut,
    TimelineEntryOut,
    TradingRelationshipIn,
    TradingRelationshipOut,
)
from intercompany.admin_scoping import (
    NOT_A_RELATIONSHIP_ADMINISTRATOR,
    may_administer_relationships,
)
from intercompany.exceptions import NotAllowedError
from intercompany.models import Company, Customer, Vendor
from intercompany.services import update_trading_relationship
from orders import selectors as order_selectors
from orders.exceptions import StaleOrderError
from orders.forms import (
    CustomerInformationForm,
    IntercompanyPurchaseOrderForm,
    OrderFilterForm,
    OverwriteFilterForm,
    PurchaseOrderCreateForm,
    SalesOrderCreateForm,
)
from orders.history import customer_information_timeline, order_history
from orders.models import (
    CUSTOMER_INFORMATION_FIELDS,
    TYPED_CUSTOMER_INFORMATION_FIELDS,
    Order,
    OrderType,
)
from orders.services import (
    cancel_order,
    create_intercompany_purchase_order,
    create_purchase_order,
    create_sales_order,
    refuse_customer_change_of,
    update_customer_information,
)

JSON = "application/json; charset=utf-8"


class IntercompanyAPI(NinjaAPI):
    """Serves the schema with the answers every operation may give besides its own: problem
    documents (``application/problem+json``) for 401, 403, 404, 422 and 429."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        problem = {"$ref": "#/components/schemas/ProblemOut"}
        generic = {
            "401": _("No valid API token and no signed-in session."),
            "429": _("Too many requests: wait for the seconds in Retry-After."),
        }
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                wanted = dict(generic)
                if "{" in path:
                    wanted["404"] = _("No such record, or not one of your companies'.")
                if operation.get("parameters") or operation.get("requestBody"):
                    wanted["422"] = _("The request is not valid; errors lists each field.")
                if operation.get("requestBody"):
                    wanted["400"] = _("The body is not JSON.")
                if method in ("post", "put", "patch", "delete"):
                    wanted["403"] = _("Refused (a browser session without its CSRF token, or "
                                      "an action the employee may not take).")
                for status, description in wanted.items():
                    responses.setdefault(status, {"description": description})
                for status, response in responses.items():
                    if int(status) >= 400:
                        content = response.get("content", {}).get("application/json")
                        ref = content["schema"] if content else problem
                        response["content"] = {problems.PROBLEM_CONTENT_TYPE: {"schema": ref}}
        schema.setdefault("components", {}).setdefault("schemas", {})
        schema["components"]["schemas"].setdefault(
            "ProblemOut", ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        return schema


def _docs_access(view):
    """The schema and the documentation page: for a signed-in session or a valid token."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login

    from api.tokens import token_for_secret

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            header = request.headers.get("Authorization", "")
            bearer = header[:7].lower() == "bearer "
            token = token_for_secret(header[7:].strip()) if bearer else None
            if token is None:
                if request.path.endswith(".json"):
                    return problems.handle_http_error(request, problems.AuthenticationError())
                return redirect_to_login(request.get_full_path())
            request.user = token.employee
        return view(request, *args, **kwargs)

    return wrapper


api = IntercompanyAPI(
    title="Intercompany API",
    version="1",
    description=(
        "Companies, sales and purchase orders, their chains, history and cross-company "
        "overwrites, and trading relationships: the same services, rules and scoping as the "
        "clerk screens.\n\n"
        "**Authentication**: `Authorization: Bearer ict_...` with a token created in "
        "Preferences (it acts as its employee, with exactly their access), or the browser's "
        "session (writes need the `X-CSRFToken` header).\n\n"
        "**Edits** need `If-Match` with the order's `ETag` (428 without it; 412 with the "
        "current order when it changed since). **Creation** accepts `Idempotency-Key`: the "
        "same key and body within 24 hours answers with the first result. **Errors** are "
        "RFC 9457 problem details. **Rate limit**: per token and minute (429 with "
        "`Retry-After`)."
    ),
    auth=AUTH,
    urls_namespace="api",
    docs=Swagger(settings={"persistAuthorization": False}),
    docs_url="/docs/",
    openapi_url="/openapi.json",
    docs_decorator=_docs_access,
)
problems.install(api)


# -- helpers ------------------------------------------------------------------------------------


def _json(schema, data: dict, *, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """A response checked against ``schema`` (so it matches the served OpenAPI schema)."""
    payload = schema.model_validate(data).model_dump(mode="json")
    response = HttpResponse(json.dumps(payload, ensure_ascii=False), status=status,
                            content_type=JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _company(request: HttpRequest, code: str) -> Company:
    company = selectors.company_for(request.auth, code)
    if company is None:
        raise Http404(_("No such company."))
    return company


def _order(request: HttpRequest, order_type: str, company: str, number: str) -> Order:
    order = selectors.order_by_number(request.auth, order_type, company, number)
    if order is None:
        raise Http404(_("No such order."))
    return order


def _detail(request: HttpRequest, order: Order):
    company_ids = selectors.company_ids_of(request.auth)
    panel = order_selectors.chain_panel(order=order, employee=request.auth,
                                        company_ids=company_ids)
    codes = {row.order.company_id: row.order.company.code for row in panel.rows}
    return representations.order_detail(order, panel, company_ids), codes, company_ids


def _stale(request: HttpRequest, order: Order, message: str) -> Problem:
    current = selectors.order_by_number(request.auth, order.order_type, order.company.code,
                                        order.number)
    data, _codes, _ids = _detail(request, current)
    return Problem(
        412, message, kind="stale-order", title=_("The order changed since you read it"),
        headers={"ETag": representations.etag_of(current)},
        extra={"current": OrderDetailOut.model_validate(data).model_dump(mode="json")},
    )


_ETAG = re.compile(r'"(\d{1,10})"')


def _expected_version(request: HttpRequest, order: Order) -> int:
    """The version the client read (If-Match), which must be the order's current one."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        raise Problem(
            428,
            _('Send If-Match with the ETag of the order as you read it (e.g. If-Match: "3"): '
              "the change is refused if someone changed the order since."),
            kind="if-match-required",
        )
    versions = {int(m.group(1)) for part in header.split(",")
                if (m := _ETAG.fullmatch(part.strip()))}
    if order.version not in versions:
        raise _stale(request, order, str(StaleOrderError(current=order)))
    return order.version


def _check_form(form) -> None:
    if not form.is_valid():
        raise validation_problem(field_errors(form.errors))


def _check_customer_may_change(order: Order) -> None:
    """A change of customer is for open sales orders that are not intercompany ones; the
    reason otherwise, on the field, as the services give it."""
    if order.order_type != OrderType.SALES:
        raise validation_problem([{"field": "customer", "message": _(
            "Only a sales order has a customer.")}])
    try:
        refuse_customer_change_of(order)
    except ValidationError as error:
        raise validation_problem(field_errors(error)) from None


def _account_pk(model, company: Company, code: str) -> str:
    """What the form's choice field gets: the account's key, an unknown key (the form then
    says which accounts it takes), or nothing (the form asks for one)."""
    if not code:
        return ""
    found = selectors.account_by_code(model, company, code)
    return str(found.pk) if found is not None else "0"


def _created(request: HttpRequest, order: Order, others: list[Order]) -> HttpResponse:
    fresh = selectors.order_by_number(request.auth, order.order_type, order.company.code,
                                      order.number)
    data, codes, company_ids = _detail(request, fresh)
    created = [order, *others]
    # As the clerk screens say it (orders.views._created_message), in the active language.
    parts = [f"{representations.role(o.role)} {o.number}" for o in created]
    joined = parts[0] if len(parts) == 1 else _("%(first)s and %(last)s") % {
        "first": ", ".join(parts[:-1]), "last": parts[-1]}
    body = {
        "message": _("Created %(orders)s.") % {"orders": joined},
        "order": data,
        "created": [representations.order_ref(o, codes[o.company_id], company_ids)
                    for o in created],
    }
    return _json(OrderCreatedOut, body, status=201, headers={
        "Location": data["url"], "ETag": representations.etag_of(fresh),
    })


# -- companies ----------------------------------------------------------------------------------

companies = Router(tags=["Companies"])


@companies.get("/", response=list[CompanyOut], operation_id="list_companies",
               summary="The companies you work for")
def list_companies(request):
    return [{"code": c.code, "name": c.name}
            for c in order_selectors.companies_of(request.auth)]


@companies.get("/{company}", response=CompanyOut, operation_id="get_company",
               summary="One of your companies")
def get_company(request, company: str):
    found = _company(request, company)
    return {"code": found.code, "name": found.name}


class AccountQuery(Schema):
    q: str = Field("", description="Part of the account or the name.")
    cursor: str = Field("", description="next_cursor of the previous page.")
    limit: int = Field(100, ge=1, le=500)


def _accounts(request, company: str, model, query: AccountQuery) -> dict:
    found = _company(request, company)
    after = _cursor(query.cursor)
    rows, more = selectors.account_page(company=found, model=model, q=query.q, after=after,
                                        limit=query.limit)
    return {
        "results": [representations.account(a) for a in rows],
        "next_cursor": selectors.encode_cursor(rows[-1].account) if more else None,
    }


@companies.get("/{company}/customers", response=AccountPageOut, operation_id="list_customers",
               summary="The customers of a company (accounts to create sales orders for)")
def list_customers(request, company: str, query: Query[AccountQuery]):
    return _accounts(request, company, Customer, query)


@companies.get("/{company}/vendors", response=AccountPageOut, operation_id="list_vendors",
               summary="The vendors of a company (accounts to create purchase orders for)")
def list_vendors(request, company: str, query: Query[AccountQuery]):
    return _accounts(request, company, Vendor, query)


def _next_url(request: HttpRequest, next_cursor: str | None) -> str | None:
    """This request's URL with ``cursor`` set to ``next_cursor`` (None on the last page)."""
    if not next_cursor:
        return None
    params = request.GET.copy()
    params["cursor"] = next_cursor
    return f"{request.path}?{params.urlencode()}"


def _cursor(cursor: str) -> str | None:
    if not cursor:
        return None
    try:
        return selectors.decode_cursor(cursor)
    except selectors.BadCursor:
        raise validation_problem(
            [{"field": "cursor", "message": _("This cursor is not one this API gave out.")}]
        ) from None


# -- orders -------------------------------------------------------------------------------------


class OrderListQuery(Schema):
    q: str = Field("", description="Number, customer or vendor, customer reference or "
                                   "customer requisition (as the list screens search).")
    intercompany: str = Field("", description="`yes`, `no`, or empty for all orders.")
    status: str = Field("", description="`open`, `cancelled`, or empty for any status.")
    cursor: str = Field("", description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


ERRORS_EDIT = {412: StaleProblemOut, 428: ProblemOut, 409: ProblemOut}

# Documented here, read from request.headers by _expected_version and idempotency.run_once.
IF_MATCH = Header(None, alias="If-Match", description='The ETag of the order as you read it, '
                  'e.g. "3". Required: 428 without it.')
IDEMPOTENCY_KEY = Header(None, alias="Idempotency-Key", max_length=255, description=(
    "Any unique string (e.g. a UUID): the same key and body within 24 hours answers with the "
    "first result instead of creating again."))


@dataclass(frozen=True)
class _Creation:
    """What differs between creating a sales order and a purchase order."""

    partner: str  # the payload's and the form's field: "customer" / "vendor"
    partner_model: type
    form: type
    create: Callable[..., Order]
    other_leg: str  # the other order of a two-legged chain


CREATIONS = {
    OrderType.SALES: _Creation("customer", Customer, SalesOrderCreateForm, create_sales_order,
                               "intercompany_purchase_order"),
    OrderType.PURCHASE: _Creation("vendor", Vendor, PurchaseOrderCreateForm,
                                  create_purchase_order, "intercompany_sales_order"),
}


def _create_order(request: HttpRequest, company: str, order_type: str, payload) -> HttpResponse:
    """Create an order (to an intercompany partner: the two-legged chain), once per
    Idempotency-Key, with the clerk form's checks and messages."""
    found = _company(request, company)
    creation = CREATIONS[order_type]

    def run() -> HttpResponse:
        form = creation.form({
            "company": found.code,
            creation.partner: _account_pk(creation.partner_model, found,
                                          getattr(payload, creation.partner)),
            "customer_reference": payload.customer_reference,
            "customer_requisition": payload.customer_requisition,
        }, company=found)
        _check_form(form)
        order = creation.create(
            employee=request.auth, company=found,
            **{name: form.cleaned_data[name] for name in (
                creation.partner, "customer_reference", "customer_requisition")},
        )
        others = [getattr(order, creation.other_leg)] if order.is_intercompany else []
        return _created(request, order, others)

    return idempotency.run_once(request, run)


def _order_operations(order_type: str) -> Router:
    kind = "sales" if order_type == OrderType.SALES else "purchase"
    router = Router(tags=["Sales orders" if kind == "sales" else "Purchase orders"])
    base = "/{company}/" + representations.SEGMENTS[order_type]

    @router.get(base + "/", response=OrderPageOut, operation_id=f"list_{kind}_orders",
                summary=f"List the {kind} orders of a company, newest number first")
    def list_orders(request, company: str, query: Query[OrderListQuery]):
        found = _company(request, company)
        form = OrderFilterForm(
            {"q": query.q, "intercompany": query.intercompany, "status": query.status},
            search_help="",
        )
        _check_form(form)
        filters = order_selectors.OrderFilters(
            q=form.cleaned_data["q"], intercompany=form.cleaned_data["intercompany"],
            status=form.cleaned_data["status"],
        )
        rows, more = selectors.order_page(company=found, order_type=order_type, filters=filters,
                                          after=_cursor(query.cursor), limit=query.limit)
        next_cursor = selectors.encode_cursor(rows[-1].number) if more else None
        return {
            "results": [representations.order_summary(o, found.code) for o in rows],
            "next_cursor": next_cursor,
            "next": _next_url(request, next_cursor),
        }

    @router.get(base + "/{number}", response=OrderDetailOut, operation_id=f"get_{kind}_order",
                summary=f"One {kind} order, with its chain and each link's switch")
    def get_order(request, company: str, number: str):
        order = _order(request, order_type, company, number)
        data, _codes, _ids = _detail(request, order)
        return _json(OrderDetailOut, data, headers={"ETag": representations.etag_of(order)})

    @router.patch(base + "/{number}", response={200: OrderSavedOut, **ERRORS_EDIT},
                  operation_id=f"update_{kind}_order_customer_information",
                  summary="Edit the customer information (needs If-Match)",
                  description="Only the fields sent change. The change is copied along the "
                  "chain as the switches say; `result` says where, and why not elsewhere.")
    def update_order(request, company: str, number: str, payload: CustomerInformationIn,
                     if_match: str | None = IF_MATCH):
        order = _order(request, order_type, company, number)
        given = payload.model_dump(exclude_unset=True)
        if not given:
            raise validation_problem([{"field": None, "message": _(
                "Send customer, customer_reference or customer_requisition.")}])
        version = _expected_version(request, order)
        data = {name: getattr(order, name) for name in TYPED_CUSTOMER_INFORMATION_FIELDS}
        if "customer" in given and order.order_type == OrderType.SALES and (
            given["customer"] == order.customer.account
        ):
            del given["customer"]  # sent back as it is (a client that sends every field)
        if "customer" in given:
            _check_customer_may_change(order)
            given["customer"] = _account_pk(Customer, order.company, given["customer"] or "")
            if not given["customer"]:
                raise validation_problem([{"field": "customer", "message": _(
                    "Send the account of one of the customers of %(company)s.") % {
                    "company": order.company.code}}])
        # Without a customer in the data the form leaves the customer as it is.
        form = CustomerInformationForm({**data, **given, "version": version}, order=order)
        _check_form(form)
        try:
            result = update_customer_information(
                order=order, employee=request.auth, expected_version=version,
                **{name: form.cleaned_data[name] for name in given},
            )
        except StaleOrderError as error:
            raise _stale(request, order, str(error)) from None
        # The order as saved, without reading it again: the version matched under the lock,
        # so the only change since ``order`` was read is this one, set by this employee.
        saved = result.order
        changed_customer = "customer" in given and saved.customer_id != order.customer_id
        for name in (*CUSTOMER_INFORMATION_FIELDS, "version", "updated_at", "status"):
            setattr(order, name, getattr(saved, name))
        if changed_customer:
            order.customer = form.cleaned_data["customer"]
        for name in result.changed_fields:
            setattr(order, f"{name}_set_by", request.auth)
            setattr(order, f"{name}_set_for", order.company)
        detail, codes, company_ids = _detail(request, order)
        body = {"order": detail,
                "result": representations.save_result(result, codes, company_ids)}
        return _json(OrderSavedOut, body, headers={"ETag": representations.etag_of(order)})

    @router.post(base + "/{number}/cancel", response={200: OrderDetailOut, **ERRORS_EDIT},
                 operation_id=f"cancel_{kind}_order",
                 summary=f"Cancel the {kind} order (needs If-Match)",
                 description="A cancelled order keeps its values and no longer sends or "
                 "receives customer-information copies. Cancelling it again changes nothing.")
    def cancel(request, company: str, number: str, if_match: str | None = IF_MATCH):
        order = _order(request, order_type, company, number)
        version = _expected_version(request, order)
        try:
            cancel_order(order=order, employee=request.auth, expected_version=version)
        except StaleOrderError as error:
            raise _stale(request, order, str(error)) from None
        fresh = _order(request, order_type, company, number)
        data, _codes, _ids = _detail(request, fresh)
        return _json(OrderDetailOut, data, headers={"ETag": representations.etag_of(fresh)})

    @router.get(base + "/{number}/history", response=list[HistoryEntryOut],
                operation_id=f"get_{kind}_order_history",
                summary="Every change of the order, newest first")
    def history(request, company: str, number: str):
        order = _order(request, order_type, company, number)
        entries = order_history(order=order)
        sources = selectors.source_orders_visible(entries, selectors.company_ids_of(request.auth))
        return [representations.history_entry(entry, sources) for entry in entries]

    @router.get(base + "/{number}/timeline/{field}", response=list[TimelineEntryOut],
                operation_id=f"get_{kind}_order_timeline",
                summary="The values a field has held, oldest first, and whose each was")
    def timeline(request, company: str, number: str, field: str):
        order = _order(request, order_type, company, number)
        if field not in TYPED_CUSTOMER_INFORMATION_FIELDS:
            raise Http404(_("No such field: use customer_reference or customer_requisition."))
        return [representations.timeline_entry(e)
                for e in customer_information_timeline(order=order, field=field)]

    partner = "customer" if order_type == OrderType.SALES else "vendor"
    create_route = {
        "path": base + "/", "response": {201: OrderCreatedOut, 409: ProblemOut},
        "operation_id": f"create_{kind}_order",
        "summary": f"Create a {kind} order (to an intercompany {partner}: a two-legged chain)",
        "description": "Accepts Idempotency-Key.",
    }
    # Two functions only for their payload's type (what the schema documents); one body.
    if order_type == OrderType.SALES:

        @router.post(**create_route)
        def create(request, company: str, payload: SalesOrderIn,
                   idempotency_key: str | None = IDEMPOTENCY_KEY):
            return _create_order(request, company, OrderType.SALES, payload)

        @router.post(base + "/{number}/intercompany-purchase-orders",
                     response={201: OrderCreatedOut, 409: ProblemOut},
                     operation_id="create_intercompany_purchase_order",
                     summary="Source the sales order from an intercompany vendor (three legs, "
                     "or A → B → C from an intercompany sales order)",
                     description="Creates the intercompany purchase order and the selling "
                     "company's intercompany sales order. Accepts Idempotency-Key.")
        def source(request, company: str, number: str, payload: IntercompanyPurchaseOrderIn,
                   idempotency_key: str | None = IDEMPOTENCY_KEY):
            sales_order = _order(request, OrderType.SALES, company, number)

            def run() -> HttpResponse:
                form = IntercompanyPurchaseOrderForm(
                    {"vendor": _account_pk(Vendor, sales_order.company, payload.vendor)},
                    company=sales_order.company,
                )
                _check_form(form)
                purchase_order = create_intercompany_purchase_order(
                    employee=request.auth, sales_order=sales_order,
                    vendor=form.cleaned_data["vendor"],
                )
                return _created(request, purchase_order, [purchase_order.intercompany_sales_order])

            return idempotency.run_once(request, run)

    else:

        @router.post(**create_route)
        def create(request, company: str, payload: PurchaseOrderIn,
                   idempotency_key: str | None = IDEMPOTENCY_KEY):
            return _create_order(request, company, OrderType.PURCHASE, payload)

    return router


# -- overwrites ---------------------------------------------------------------------------------


class OverwriteQuery(Schema):
    since: str = Field("", description="First day, YYYY-MM-DD (inclusive).")
    until: str = Field("", description="Last day, YYYY-MM-DD (inclusive).")
    field: str = Field("", description="`customer_reference` or `customer_requisition`.")
    other_company: str = Field("", description="Code of the company on the other side.")
    cursor: str = Field("", description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


overwrites = Router(tags=["Overwrites"])


@overwrites.get("/{company}/overwrites", response=OverwritePageOut,
                operation_id="list_overwrites",
                summary="Cross-company overwrites on a company's orders, newest first")
def list_overwrites(request, company: str, query: Query[OverwriteQuery]):
    found = _company(request, company)
    form = OverwriteFilterForm(
        {"since": query.since, "until": query.until, "field": query.field,
         "other_company": query.other_company},
        company=found,
    )
    _check_form(form)
    data = form.cleaned_data
    filters = order_selectors.OverwriteFilters(
        since=data.get("since"), until=data.get("until"), field=data.get("field") or "",
        other_company=data.get("other_company"),
    )
    if query.cursor and order_selectors.Cursor.decode(query.cursor) is None:
        raise validation_problem(
            [{"field": "cursor", "message": _("This cursor is not one this API gave out.")}]
        )
    # The Overwrites page's own reading, by key (when, id): every page costs what the first does.
    page = order_selectors.overwrites_page(company=found, filters=filters, after=query.cursor,
                                           page_size=query.limit)
    return {"results": [representations.overwrite(r) for r in page.rows],
            "next_cursor": page.next_cursor or None,
            "next": _next_url(request, page.next_cursor)}


# -- trading relationships ----------------------------------------------------------------------

relationships = Router(tags=["Trading relationships"])


def _relationship(request, relationship_id: int):
    found = selectors.relationships_visible_to(request.auth).filter(pk=relationship_id).first()
    if found is None:
        raise Http404(_("No such trading relationship."))
    return found


@relationships.get("/", response=list[TradingRelationshipOut],
                   operation_id="list_trading_relationships",
                   summary="Trading relationships in which one of your companies buys or sells")
def list_relationships(request):
    rights = representations.RelationshipRights(request.auth)
    return [representations.trading_relationship(r, rights=rights)
            for r in selectors.relationships_visible_to(request.auth)]


@relationships.get("/{relationship_id}", response=TradingRelationshipOut,
                   operation_id="get_trading_relationship", summary="One trading relationship")
def get_relationship(request, relationship_id: int):
    found = _relationship(request, relationship_id)
    return representations.trading_relationship(
        found, rights=representations.RelationshipRights(request.auth)
    )


@relationships.patch("/{relationship_id}", response={200: TradingRelationshipOut},
                     operation_id="update_trading_relationship",
                     summary="Switch the relationship or its customer-information policies",
                     description="For those who may change relationships in the admin: "
                     "superusers and staff in the group Trading relationship administrators. "
                     "Switching copies nothing by itself; it governs the edits that follow.")
def update_relationship(request, relationship_id: int, payload: TradingRelationshipIn):
    found = _relationship(request, relationship_id)
    if not may_administer_relationships(request.auth):
        raise Problem(403, str(NOT_A_RELATIONSHIP_ADMINISTRATOR), kind="not-allowed")
    changes = payload.model_dump(exclude_unset=True)
    if not changes:
        raise validation_problem([{"field": None, "message": _(
            "Send at least one of active, purchase_policy_syncs_original_sales_order, "
            "purchase_policy_syncs_intercompany_sales_order, "
            "sales_policy_syncs_intercompany_purchase_order.")}])
    if None in changes.values():
        raise validation_problem([{"field": name, "message": _("Send true or false.")}
                                  for name, value in changes.items() if value is None])
    try:
        updated = update_trading_relationship(relationship=found, employee=request.auth,
                                              **changes)
    except ValidationError as error:
        raise validation_problem(field_errors(error)) from None
    except NotAllowedError as error:
        # The caller reads the relationship, so not a 404 (the API's answer for another
        # company's record): each company changes only its own policy, and the message says
        # whose the refused switch is.
        raise Problem(403, str(error), kind="not-allowed") from None
    updated = _relationship(request, updated.pk)
    return representations.trading_relationship(
        updated, rights=representations.RelationshipRights(request.auth)
    )


api.add_router("/companies", companies)
api.add_router("/companies", _order_operations(OrderType.SALES))
api.add_router("/companies", _order_operations(OrderType.PURCHASE))
api.add_router("/companies", overwrites)
api.add_router("/trading-relationships", relationships)
