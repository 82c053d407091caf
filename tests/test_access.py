"""Per-company access, checked on every URL of the product.

The URL list is generated from the URL configuration (``get_resolver()``), clerk screens and admin
alike, so a new page is checked the day it is added: a page whose parameters this file cannot
fill fails ``test_every_url_parameter_can_be_filled`` until the table below learns it.

The world: USMF buys from DEMF (a three-legged chain with distinctive values), and GBSI, an
unrelated company, with one order of its own. The visitors:

- anonymous: every page but the login pages sends them to log in;
- olga, a clerk of GBSI: another company's record answers exactly like a missing one (404 on the
  clerk screens; the admin sends non-staff to its login);
- gina, GBSI's administrator (staff, every permission on the product's models, not superuser):
  another company's record in the admin answers 404, history views included;
- jonas, a clerk of DEMF, the related company: USMF's orders of the chain answer 404;
- nina, staff of DEMF and GBSI (an employee of two companies), every permission;
- dora, staff of DEMF only, every permission: samir, a clerk of USMF *and* DEMF, is not hers to
  administer (his password, email, companies);
- rita, staff of DEMF in "Trading relationship administrators": of the relationship USMF buys
  from DEMF she changes DEMF's sales order policy only, never USMF's policy nor the active switch.

Every admin action (change, password, delete, the bulk actions, history, revert) is tried by each
of them on the other companies' records, and nothing changes. Every URL pattern is also fuzzed
with malformed and huge ids: a missing record, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from alerts.models import Alert
from intercompany.admin_scoping import RELATIONSHIP_ADMINISTRATORS_GROUP
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from orders.models import OverwriteRecord, PurchaseOrder, SalesOrder
from orders.services import create_sales_order
from tests.api_support import ApiClient, token_client
from tests.conftest import make_customer, make_employee, make_vendor, order_state
from tests.fixtures_web import make_chain
from tests.test_background_tasks import append_line
from webhooks.models import Delivery, Event, WebhookEndpoint

MISSING = 10**9

# Text that only USMF's and DEMF's records contain: none of it may reach GBSI's employees.
FOREIGN_MARKERS = ("USMF-SO-", "USMF-PO-", "DEMF-SO-", "Foreign reference", "FOREIGN-REQ",
                   "Fabrikam", "Alice Martin", "Jonas Weber", "Martin", "Weber", "Okafor",
                   "Tailspin", "usmf-erp.example.com")
# What only USMF's records contain. The chain's customer information reaches DEMF's order by the
# sync, and every leg names its original sales order and original customer (USMF-SO-..., Fabrikam
# Retail) by design: DEMF must never see USMF's other records (its purchase order, its vendor, a
# customer of no chain, its employees).
USMF_MARKERS = ("USMF-PO-", "Okafor", "US-V-001", "Tailspin", "usmf-erp.example.com")
# The visitors who are staff or clerks of GBSI only, and those who work for DEMF, the other side
# of USMF's chain.
GBSI_VISITORS = ["olga", "gina"]
DEMF_VISITORS = ["nina", "dora", "rita"]
VISITORS = GBSI_VISITORS + DEMF_VISITORS
MALFORMED_IDS = ("abc", "1.5", "-1", "99999999999999999999999")
# The login pages are the only ones open to anonymous visitors, with the language switcher
# they show (POST only: it changes nothing but the visitor's language cookie).
PUBLIC_PAGES = {"login", "admin:login", "switch-language"}
# The HTTP API's pages that are not operations (answered for a signed-in session or a token).
API_PAGES = {"openapi-json", "openapi-view", "api-root"}
# Models whose records belong to companies (scoped in the admin for non-superusers).
COMPANY_MODELS = {Company, Employee, Customer, Vendor, TradingRelationship, SalesOrder,
                  PurchaseOrder, Alert, WebhookEndpoint, Delivery}
# The clerk screens' namespaces: another company's record answers 404 (405 for the wrong method).
CLERK_NAMESPACES = {"orders", "alerts"}


# -- the URL configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    namespace: str | None
    name: str | None
    route: str  # the full route, e.g. "sales-orders/<int:pk>/edit/"
    callback: object
    default_kwargs: tuple
    params: tuple[str, ...]  # named parameters, then "#0", "#1"... for unnamed regex groups

    @property
    def full_name(self) -> str | None:
        if self.name is None:
            return None
        return f"{self.namespace}:{self.name}" if self.namespace else self.name

    @property
    def id(self) -> str:
        return self.route or "<root>"

    @property
    def is_admin(self) -> bool:
        return self.namespace == "admin"

    @property
    def is_public(self) -> bool:
        return self.full_name in PUBLIC_PAGES

    @property
    def is_api(self) -> bool:
        return self.namespace == "api"

    @property
    def is_api_operation(self) -> bool:
        """An operation of the HTTP API (not its schema, documentation page or root)."""
        return self.is_api and self.name not in API_PAGES

    @property
    def admin_model(self):
        match = re.match(r"admin/(\w+)/(\w+)/", self.route)
        if match and self.route.split("/")[1:3] != ["r", ""]:
            try:
                return apps.get_model(match.group(1), match.group(2))
            except LookupError:
                return None
        return None

    @property
    def object_params(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if p not in {"app_label", "url"})


def _params(pattern) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    regex = pattern.regex
    named = list(regex.groupindex)
    return named + [f"#{i}" for i in range(regex.groups - len(named))]


def walk(patterns, prefix="", namespace=None, params=()):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(x for x in (namespace, pattern.namespace) if x) or None
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner,
                            (*params, *_params(pattern.pattern)))
        elif isinstance(pattern, URLPattern):
            yield Route(
                namespace=namespace, name=pattern.name, route=prefix + str(pattern.pattern),
                callback=pattern.callback,
                default_kwargs=tuple(sorted(pattern.default_args.items())),
                params=(*params, *_params(pattern.pattern)),
            )


def _unique(routes):
    # django-ninja gives each operation of a path its own pattern (GET and PATCH of one order):
    # one URL, one view answering every method; checked once.
    seen, unique = set(), []
    for route in routes:
        if route.route not in seen:
            seen.add(route.route)
            unique.append(route)
    return unique


ROUTES = _unique(walk(get_resolver().url_patterns))
SCREEN_ROUTES = [r for r in ROUTES if not r.is_api_operation]
OBJECT_ROUTES = [r for r in SCREEN_ROUTES if r.object_params]
OTHER_ROUTES = [r for r in SCREEN_ROUTES if not r.object_params]
API_ROUTES = [r for r in ROUTES if r.is_api_operation]


# -- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    chain: object
    objects: dict  # model -> an instance of USMF or DEMF
    gbsi_order: SalesOrder
    clients: dict[str, Client]

    def markers(self, visitor: str) -> tuple[str, ...]:
        return USMF_MARKERS if visitor in DEMF_VISITORS else FOREIGN_MARKERS


def world_state() -> dict:
    """Beyond the orders: the relationships' switches, every employee's companies, password,
    email and activity, and the number of records of each company model."""
    return {
        "orders": order_state(),
        "relationships": sorted(TradingRelationship.objects.values_list()),
        "relationship history": TradingRelationship.history.count(),
        "employees": sorted(
            (e.pk, e.password, e.email, e.is_active, e.is_staff,
             tuple(sorted(e.companies.values_list("pk", flat=True))),
             tuple(sorted(e.groups.values_list("pk", flat=True))))
            for e in Employee.objects.prefetch_related("companies", "groups")
        ),
        "counts": {model.__name__: model.objects.count() for model in COMPANY_MODELS},
        "accounts": sorted(Customer.objects.values_list()) + sorted(Vendor.objects.values_list()),
        "companies": sorted(Company.objects.values_list()),
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Four employees per test, hundreds of tests: the production hasher would take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(usmf, demf, gbsi, alice, jonas, olga, relationship) -> World:
    alice.first_name, alice.last_name = "Alice", "Martin"
    alice.save()
    customer = make_customer(usmf, "US-001", "Fabrikam Retail")
    make_customer(usmf, "US-002", "Tailspin Toys")
    chain = make_chain(employee=alice, customer=customer, relationship=relationship,
                       customer_reference="Foreign reference", customer_requisition="FOREIGN-REQ-1")
    gbsi_customer = make_customer(gbsi, "GB-001", "Northwind")
    gbsi_order = create_sales_order(employee=olga, company=gbsi, customer=gbsi_customer,
                                    customer_reference="Our own", customer_requisition="GB-REQ")
    gina = make_employee("gina", gbsi, first="Gina", last="Admin", is_staff=True)
    gina.user_permissions.add(*Permission.objects.filter(
        content_type__app_label__in=["intercompany", "orders", "webhooks"]
    ))
    group = Group.objects.create(name=RELATIONSHIP_ADMINISTRATORS_GROUP)
    samir = make_employee("samir", usmf, demf, first="Samir", last="Okafor")
    every_permission = Permission.objects.filter(
        content_type__app_label__in=["intercompany", "orders", "webhooks"]
    )
    staff = {}
    for name, companies in (("nina", (demf, gbsi)), ("dora", (demf,)), ("rita", (demf,))):
        staff[name] = make_employee(name, *companies, is_staff=True)
        staff[name].user_permissions.add(*every_permission)
    staff["rita"].groups.add(group)
    attempt = AccessAttempt.objects.create(
        username="alice", ip_address="10.0.0.1", user_agent="x", get_data="", post_data="",
        http_accept="", path_info="/accounts/login/", failures_since_start=1,
    )
    seen = {"username": "alice", "ip_address": "10.0.0.1", "user_agent": "x", "http_accept": "",
            "path_info": "/accounts/login/"}
    endpoint = WebhookEndpoint.objects.create(
        company=usmf, url="https://usmf-erp.example.com/hooks", event_types=["order.created"]
    )
    event = Event.objects.create(company=usmf, type="order.created",
                                 payload={"data": {"order": {"number": chain.original.number}}})
    objects = {
        WebhookEndpoint: endpoint,
        Delivery: Delivery.objects.create(event=event, endpoint=endpoint),
        Company: usmf,
        Employee: samir,
        Customer: customer,
        Vendor: make_vendor(usmf, "US-V-001", "Fabrikam Supplies"),
        TradingRelationship: chain.relationship,
        SalesOrder: chain.original,
        PurchaseOrder: chain.purchase,
        Group: group,
        AccessAttempt: attempt,
        AccessLog: AccessLog.objects.create(**seen),
        AccessFailureLog: AccessFailureLog.objects.create(**seen),
        DBTaskResult: DBTaskResult.objects.get(pk=append_line.enqueue(str(MISSING), "x").id),
        Alert: make_alert(chain, alice, jonas),
    }
    clients = {"anonymous": Client()}
    for name, employee in (("olga", olga), ("gina", gina), ("jonas", jonas), *staff.items()):
        clients[name] = Client()
        clients[name].force_login(employee)
    return World(chain, objects, gbsi_order, clients)


def make_alert(chain, alice: Employee, jonas: Employee) -> Alert:
    """Alice's alert: Jonas (DEMF) overwrote her customer requisition on USMF's order."""
    order = chain.original
    record = OverwriteRecord.objects.create(
        order_type="sales", order_id=order.pk, order_number=order.number,
        order_company_id=order.company_id, field="customer_requisition",
        old_value="FOREIGN-REQ-0", old_set_by=alice, old_set_for_id=order.company_id,
        new_value="FOREIGN-REQ-1", new_set_by=jonas, new_set_for=jonas.companies.get(),
        at=timezone.now(), kind="edited", history_id=order.history.first().history_id,
    )
    return Alert.objects.create(
        recipient=alice, overwrite=record, order_company_id=order.company_id, reason="own",
        created_at=record.at, email="digest",
    )


def object_for(route: Route, world: World):
    """The other company's record a route with parameters is about."""
    if route.namespace == "alerts":
        return world.objects[Alert]
    if route.is_api:
        if "number" in route.params:
            return world.chain.original if "/sales-orders/" in route.route else (
                world.chain.purchase)
        if "relationship_id" in route.params:
            return world.chain.relationship
        return world.objects[Company]
    if route.namespace == "orders":
        kind = dict(route.default_kwargs).get("order_type") or route.name.split("-order")[0]
        return world.chain.original if kind == "sales" else world.chain.purchase
    if route.name == "view_on_site":
        return world.chain.original
    if route.name == "auth_user_password_change":
        return world.objects[Employee]
    model = route.admin_model
    if model is None or model not in world.objects:
        raise LookupError(f"no record for {route.id}")
    return world.objects[model]


def url_for(route: Route, obj, *, missing: bool = False) -> str:
    """The URL of ``route`` about ``obj`` (or about a record that does not exist)."""
    pk = MISSING if missing else getattr(obj, "pk", None)
    values = {}
    for param in route.params:
        if param in ("pk", "object_id", "id", "#0"):
            values[param] = pk
        elif param in ("version_id", "#1"):
            history = getattr(obj, "history", None)
            values[param] = MISSING if missing or history is None else history.first().pk
        elif param == "content_type_id":
            values[param] = ContentType.objects.get_for_model(obj).pk
        elif param == "app_label":
            values[param] = "orders"
        elif param == "url":
            values[param] = "no-such-page/"
        elif param == "company":  # the API: the company named in the request
            company = obj if isinstance(obj, Company) else getattr(obj, "company", None)
            values[param] = company.code if company is not None else "GBSI"
            if missing and isinstance(obj, Company):
                values[param] = "NOPE"
        elif param == "number":
            values[param] = "NO-SUCH-000001" if missing else obj.number
        elif param == "field":
            values[param] = "customer_requisition"
        elif param == "relationship_id":
            values[param] = MISSING if missing else obj.pk
        else:
            raise LookupError(f"{route.id}: unknown parameter {param!r}")
    if route.full_name and not route.is_api:
        positional = [values[p] for p in route.params if p.startswith("#")]
        if positional:
            return reverse(route.full_name, args=positional)
        return reverse(route.full_name, kwargs=values)
    path = route.route
    for name, value in values.items():
        path = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", str(value), path)
    return "/" + path.replace("^", "").replace("$", "")


def forged_post(obj) -> dict:
    """A POST that would change ``obj`` if it were accepted."""
    data = {
        "customer_reference": "HACKED", "customer_requisition": "HACKED",
        "version": getattr(obj, "version", 1), "opened_version": getattr(obj, "version", 1),
        "status": "cancelled", "post": "yes", "active": "", "name": "HACKED",
        "username": "hacked", "password1": "x-Very-long-pass-77",
        "password2": "x-Very-long-pass-77",
        "vendor": "", "usable_password": "true",
    }
    return data


def has_foreign_markers(response, markers=FOREIGN_MARKERS) -> list[str]:
    content = b"".join(response) if response.streaming else response.content
    text = content.decode(errors="replace")
    # Whole words: "Martin" is a person, "America/Martinique" a time zone every page may list.
    return [marker for marker in markers if re.search(rf"{re.escape(marker)}(?!\w)", text)]


def page_text(response) -> str:
    """The page without its CSRF tokens, which differ on every render, and without the header's
    company switch's return address (the URL asked for, for an employee of several companies)."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return re.sub(r'name="next" value="[^"]*"', "", text)


def answer(client: Client, method: str, url: str, data=None):
    if method == "GET":
        return client.get(url, follow=False)
    return client.post(url, data or {}, follow=False)


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and (
        response["Location"].startswith(reverse("login"))
        or response["Location"].startswith(reverse("admin:login"))
    )


def final(client: Client, response, limit: int = 3):
    """Follow redirects that stay inside the admin (e.g. ``<id>/`` → ``<id>/change/``)."""
    for _ in range(limit):
        if response.status_code != 302 or is_login_redirect(response):
            return response
        location = response["Location"]
        if not location.startswith("/admin/"):
            return response
        response = client.get(location)
    return response


# -- the tests ----------------------------------------------------------------------------------


def test_the_url_configuration_was_found():
    names = {route.full_name for route in ROUTES}
    assert {"orders:sales-order-edit", "orders:overwrites-csv", "admin:orders_salesorder_change",
            "login"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.id)
def test_every_url_parameter_can_be_filled(route, world):
    obj = object_for(route, world)
    assert url_for(route, obj).startswith("/")


@pytest.mark.django_db
@pytest.mark.parametrize("route", SCREEN_ROUTES, ids=lambda r: r.id)
def test_an_anonymous_visitor_is_sent_to_log_in_on_every_page_but_the_login_pages(route, world):
    client = world.clients["anonymous"]
    url = url_for(route, object_for(route, world)) if route.object_params else url_for(route, None)
    before = order_state()

    for method in ("GET", "POST"):
        response = answer(client, method, url, forged_post(world.chain.original))
        if route.is_public:
            # 403: POST without CSRF; the language switcher: 405 for a GET (POST only), and a
            # POST redirects back (nothing changed but the language cookie).
            assert response.status_code in (200, 302, 403, 405), (method, url)
        elif route.name == "openapi-json":  # the API's schema: for a token or a session
            assert response.status_code in (401, 405), (method, url, response.status_code)
        else:
            assert is_login_redirect(response), (method, url, response.status_code)
        assert not has_foreign_markers(response)

    assert order_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.id)
def test_another_companys_record_answers_exactly_like_a_missing_one(route, world):
    """Each visitor in turn (one world per route: nothing may change between them)."""
    obj = object_for(route, world)
    foreign, missing = url_for(route, obj), url_for(route, obj, missing=True)
    before = order_state()
    counts = {model: model.objects.count() for model in world.objects}
    everything = world_state()
    for visitor in VISITORS:
        if visitor in DEMF_VISITORS and isinstance(obj, TradingRelationship):
            continue  # DEMF's own relationship: see test_each_side_changes_only_its_own_policy
        check_foreign_record(route, visitor, world, obj, foreign, missing)

    assert order_state() == before
    assert {model: model.objects.count() for model in world.objects} == counts
    assert world_state() == everything
    world.chain.refresh()
    assert world.chain.original.customer_requisition == "FOREIGN-REQ-1"
    assert world.chain.relationship.active


def check_foreign_record(route, visitor, world, obj, foreign, missing):
    client = world.clients[visitor]
    for method in ("GET", "POST"):
        data = forged_post(obj)
        got = final(client, answer(client, method, foreign, data))
        leaked = has_foreign_markers(got, world.markers(visitor))
        assert not leaked, (visitor, method, foreign, leaked)
        if route.namespace in CLERK_NAMESPACES or type(obj) in COMPANY_MODELS:
            expected = final(client, answer(client, method, missing, data))
            assert got.status_code == expected.status_code, (visitor, method, foreign)
            if method == "GET" and got.status_code != 302:
                assert page_text(got) == page_text(expected), (visitor, method, foreign)
        if route.namespace in CLERK_NAMESPACES:
            # The clerk screens: 404; 405 for a page that only shows (POST) or only acts (GET).
            assert got.status_code in (404, 405), (method, foreign, got.status_code)
            if method == "GET" and route.namespace == "orders":  # alerts' actions are POST only
                assert got.status_code == 404
        elif route.is_admin and visitor == "olga":
            assert is_login_redirect(got), (method, foreign)  # the admin is for staff only
        elif route.is_admin and type(obj) in COMPANY_MODELS:
            # 404; or 403 where the staff member may not take that action on any record (delete
            # a company, change a relationship outside the named group): the same for a missing
            # record, as asserted above.
            assert got.status_code in (403, 404), (visitor, method, foreign, got.status_code)
            if method == "GET" and not route.route.endswith("/delete/"):
                assert got.status_code == 404, (visitor, method, foreign, got.status_code)
        else:  # records of no company (groups, login attempts): refused without the right
            assert got.status_code in (403, 404), (method, foreign, got.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route",
    [r for r in OBJECT_ROUTES if r.namespace == "orders"],
    ids=lambda r: r.id,
)
def test_a_clerk_of_the_related_company_gets_404_for_the_other_end_of_the_chain(route, world):
    """Jonas (DEMF) sees DEMF's intercompany sales order, never USMF's orders of the chain."""
    client = world.clients["jonas"]
    for order in (world.chain.original, world.chain.purchase):
        kind = dict(route.default_kwargs).get("order_type") or "sales"
        if (kind == "sales") != isinstance(order, SalesOrder):
            continue
        response = client.get(url_for(route, order))
        assert response.status_code == 404
    if route.name.startswith("sales-order") and "cancel" not in route.name:
        assert client.get(url_for(route, world.chain.mirror)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("route", OTHER_ROUTES, ids=lambda r: r.id)
def test_pages_without_a_record_show_nothing_of_another_company(route, world):
    if route.full_name in ("logout", "admin:logout"):
        pytest.skip("logging out shows nothing")
    url = url_for(route, None)
    for visitor in VISITORS:
        response = world.clients[visitor].get(url, follow=True)

        assert response.status_code in (200, 403, 404, 405), (visitor, url, response.status_code)
        leaked = has_foreign_markers(response, world.markers(visitor))
        assert not leaked, (visitor, url, leaked)


@pytest.mark.django_db
@pytest.mark.parametrize("route", OTHER_ROUTES, ids=lambda r: r.id)
def test_a_forged_post_naming_another_companys_records_changes_nothing(route, world):
    """Every form gets the other company's customer, vendor, company, sales order and
    relationship in every field that takes one."""
    if route.full_name in ("logout", "admin:logout"):
        pytest.skip("logging out changes no record")
    chain, usmf = world.chain, world.objects[Company]
    data = {
        **forged_post(chain.original),
        "company": [usmf.code, usmf.pk], "companies": [usmf.pk],
        "customer": world.objects[Customer].pk,
        "vendor": chain.relationship.intercompany_vendor.pk,
        "source_sales_order": chain.original.pk,
        "buying_company": usmf.pk, "selling_company": chain.relationship.selling_company_id,
        "intercompany_vendor": chain.relationship.intercompany_vendor.pk,
        "intercompany_customer": chain.relationship.intercompany_customer.pk,
        "account": "HACKED-1", "code": "HACK",
        "represents_company": usmf.pk,
        "url": "https://hacked.example.com/", "event_types": ["order.created"],
        "customer_reference": "HACKED", "customer_requisition": "HACKED",
    }
    before = order_state()
    counts = {model: model.objects.count() for model in world.objects}
    memberships = {e.pk: set(e.companies.values_list("pk", flat=True))
                   for e in Employee.objects.all()}
    everything = world_state()

    for visitor in VISITORS:
        client = world.clients[visitor]
        response = client.post(url_for(route, None), data)

        assert response.status_code < 500, visitor
        assert world_state() == everything, visitor
        assert order_state() == before
        assert {model: model.objects.count() for model in world.objects} == counts
        assert {e.pk: set(e.companies.values_list("pk", flat=True))
                for e in Employee.objects.all()} == memberships
        session_company = client.session.get("orders.current_company_id")
        own = set(Employee.objects.get(username=visitor).companies.values_list("pk", flat=True))
        assert session_company is None or session_company in own


RELATIONSHIP_ROUTES = [r for r in OBJECT_ROUTES if r.admin_model is TradingRelationship]
CHANGELISTS = [
    r for r in ROUTES
    if r.is_admin and r.name and r.name.endswith("_changelist") and r.admin_model is not None
]


@pytest.mark.django_db
@pytest.mark.parametrize("route", RELATIONSHIP_ROUTES, ids=lambda r: r.id)
def test_each_side_changes_only_its_own_policy(route, world):
    """USMF buys from DEMF: DEMF's staff see the relationship; whatever they post to it
    (change, revert to an old version, delete), USMF's purchase order policy and the active
    switch stay as they are, and nothing else of USMF's changes."""
    relationship = world.chain.relationship
    url = url_for(route, relationship)
    everything = world_state()
    data = {**forged_post(relationship), **{name: "" for name in (
        "active", "purchase_policy_syncs_original_sales_order",
        "purchase_policy_syncs_intercompany_sales_order")}}
    data["sales_policy_syncs_intercompany_purchase_order"] = ""  # as it is: off

    for visitor in DEMF_VISITORS:
        client = world.clients[visitor]
        got = final(client, answer(client, "GET", url))
        posted = answer(client, "POST", url, data)

        # They see it (their own company's relationship); deleting is a superuser's.
        expected = 403 if route.route.endswith("/delete/") else 200
        assert got.status_code == expected, (visitor, url, got.status_code)
        assert posted.status_code in (200, 302, 403), (visitor, url, posted.status_code)
        assert world_state() == everything, visitor


@pytest.mark.django_db
@pytest.mark.parametrize("route", CHANGELISTS, ids=lambda r: r.id)
def test_no_bulk_action_reaches_another_companys_records(route, world, admin, rf):
    """Every action the changelist offers a superuser (delete, cancel...), posted by each visitor
    with the other companies' records selected, confirmed: nothing changes."""
    from django.contrib import admin as django_admin

    model = route.admin_model
    model_admin = django_admin.site._registry[model]
    request = rf.get("/")
    request.user = admin
    actions = list(model_admin.get_actions(request)) or ["delete_selected"]
    foreign = [world.objects[model].pk] if model in world.objects else []
    if model is SalesOrder:
        foreign.append(world.chain.original.pk)
    everything = world_state()

    for visitor in VISITORS:
        client = world.clients[visitor]
        for action in actions:
            response = client.post(url_for(route, None), {
                "action": action, "_selected_action": foreign or [MISSING], "post": "yes",
                "index": 0,
            })
            assert response.status_code in (200, 302, 403), (visitor, action,
                                                              response.status_code)
            leaked = has_foreign_markers(final(client, response), world.markers(visitor))
            assert not leaked, (visitor, action, leaked)
        assert world_state() == everything, visitor


@pytest.mark.django_db
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.id)
def test_a_malformed_or_huge_id_answers_like_a_missing_record(route, world, admin):
    """Every URL pattern with parameters, with ids that name no record: ``abc``, ``1.5``, ``-1``,
    a number beyond 64 bits... For a superuser and a staff member: the answer for a missing
    record (404; 405 where the page takes only the other method; the admin's own pages for
    third-party models redirect to the admin index), never a 500, and nothing changes."""
    superuser = Client()
    superuser.force_login(admin)
    obj = object_for(route, world)
    good = url_for(route, obj)
    everything = world_state()

    for visitor, client in (("admin", superuser), ("gina", world.clients["gina"])):
        for bad in MALFORMED_IDS:
            for param in route.object_params:
                url = url_for_values(route, obj, {param: bad})
                if url == good:
                    continue
                for method in ("GET", "POST"):
                    response = answer(client, method, url, forged_post(obj))
                    assert response.status_code < 500, (visitor, method, url)
                    if route.namespace == "orders" or route.admin_model in COMPANY_MODELS:
                        response = final(client, response)
                        allowed = (404, 405) if route.namespace == "orders" else (404,)
                        if route.route.endswith("/delete/") and visitor == "gina":
                            allowed = (403, 404)  # no delete right at all, as for any record
                        assert response.status_code in allowed, (
                            visitor, method, url, response.status_code)
                    else:
                        assert response.status_code in (302, 403, 404), (
                            visitor, method, url, response.status_code)
                        if response.status_code == 302:
                            assert response["Location"].startswith("/admin/"), url

    assert world_state() == everything


def url_for_values(route: Route, obj, replace: dict) -> str:
    """The path of ``route`` about ``obj``, with some parameters replaced by raw text (which
    ``reverse()`` would refuse)."""
    values = {}
    for param in route.params:
        if param in ("pk", "object_id", "id", "#0"):
            values[param] = str(obj.pk)
        elif param in ("version_id", "#1"):
            values[param] = str(obj.history.first().pk)
        elif param == "content_type_id":
            values[param] = str(ContentType.objects.get_for_model(obj).pk)
        else:
            values[param] = {"app_label": "orders", "url": "no-such-page/"}[param]
    values.update({name: str(value) for name, value in replace.items()})
    path = route.route
    for param in route.params:
        if param.startswith("#"):
            path = re.sub(r"\([^)]*\)", lambda _m, v=values[param]: v, path, count=1)
        else:
            path = re.sub(rf"<(?:\w+:)?{param}>", lambda _m, v=values[param]: v, path, count=1)
    return "/" + path.replace("^", "").replace("$", "")


# -- the HTTP API: every operation, with tokens of other companies -----------------------------

API_METHODS = ("GET", "POST", "PATCH")


@pytest.fixture
def api_clients(world) -> dict[str, ApiClient]:
    """Token clients: olga (GBSI), gina (GBSI's staff), jonas (DEMF, the related company)."""
    return {
        name: token_client(Employee.objects.get(username=name))
        for name in ("olga", "gina", "jonas")
    }


FORGED_FIELDS = {
    "customer": "US-001", "vendor": "IC-DEMF", "customer_reference": "HACKED",
    "customer_requisition": "HACKED", "active": False,
    "purchase_policy_syncs_original_sales_order": False,
    "purchase_policy_syncs_intercompany_sales_order": False,
    "sales_policy_syncs_intercompany_purchase_order": True,
}


def forged_body(url: str, method: str) -> dict:
    """A body the operation accepts (its schema's fields, no other: unknown fields are refused
    before anything is looked up), with values that would change the other company's records."""
    from django.urls import resolve

    from api.endpoints import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    match = resolve(url.split("?")[0])
    path = "/" + match.route.replace("<", "{").replace(">", "}")
    operation = schema["paths"].get(path, {}).get(method.lower())
    if not operation or "requestBody" not in operation:
        return {}
    name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][name.rsplit("/", 1)[-1]]["properties"]
    return {key: value for key, value in FORGED_FIELDS.items() if key in fields}


def api_answer(client: ApiClient, method: str, url: str, obj):
    body = forged_body(url, method)
    headers = {"If-Match": f'"{getattr(obj, "version", 1)}"', "Idempotency-Key": "forged"}
    if method == "GET":
        return client.get(url, **headers)
    return client.call(method, url, body, **headers)


def test_every_api_operation_is_in_the_generated_access_test():
    assert len(API_ROUTES) >= 15
    assert {"api/v1/companies/<company>/sales-orders/<number>",
            "api/v1/trading-relationships/<relationship_id>"} <= {r.route for r in API_ROUTES}


@pytest.mark.django_db
@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: r.id)
def test_an_api_call_without_a_token_answers_401_and_changes_nothing(route, world):
    obj = object_for(route, world) if route.object_params else None
    url = url_for(route, obj)
    before = order_state()

    for method in API_METHODS:
        response = api_answer(ApiClient(None), method, url, obj)
        assert response.status_code in (401, 405), (method, url, response.status_code)
        if response.status_code == 401:
            assert response["Content-Type"] == "application/problem+json"
        assert not has_foreign_markers(response)
        forged = api_answer(ApiClient("ict_forged-token-of-nobody"), method, url, obj)
        assert forged.status_code == response.status_code, (method, url)

    assert order_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in API_ROUTES if r.object_params], ids=lambda r: r.id)
@pytest.mark.parametrize("visitor", ["olga", "gina"])
def test_another_companys_record_answers_404_in_the_api_exactly_like_a_missing_one(
    route, visitor, world, api_clients
):
    """With the other company in the URL, with their own company in it, or a missing record:
    one and the same 404, for every method."""
    client = api_clients[visitor]
    obj = object_for(route, world)
    urls = {"foreign": url_for(route, obj), "missing": url_for(route, obj, missing=True)}
    if "company" in route.params and "number" in route.params:
        urls["own company"] = urls["foreign"].replace("/USMF/", "/GBSI/", 1)
    before = order_state()
    relationship = TradingRelationship.objects.values().get(pk=world.chain.relationship.pk)

    found = set()
    for method in API_METHODS:
        answers = {name: api_answer(client, method, url, obj) for name, url in urls.items()}
        for name, response in answers.items():
            assert not has_foreign_markers(response), (method, name, has_foreign_markers(
                response))
        statuses = {name: r.status_code for name, r in answers.items()}
        assert len(set(statuses.values())) == 1, (method, statuses)
        assert set(statuses.values()) <= {404, 405}, (method, statuses)
        found |= set(statuses.values())
        contents = {r.content for r in answers.values() if r.status_code == 404}
        assert len(contents) <= 1, (method, contents)
    assert 404 in found  # the methods the operation takes (405: one it does not take)

    assert order_state() == before
    assert TradingRelationship.objects.values().get(pk=world.chain.relationship.pk) == relationship


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route", [r for r in API_ROUTES if "number" in r.params], ids=lambda r: r.id
)
def test_in_the_api_a_clerk_of_the_related_company_gets_404_for_the_other_end(
    route, world, api_clients
):
    """Jonas (DEMF) reads DEMF's intercompany sales order, never USMF's orders of the chain."""
    client = api_clients["jonas"]
    before = order_state()
    for order in (world.chain.original, world.chain.purchase):
        if ("/sales-orders/" in route.route) != isinstance(order, SalesOrder):
            continue
        for method in API_METHODS:
            response = api_answer(client, method, url_for(route, order), order)
            assert response.status_code in (404, 405), (method, response.status_code)
            assert not has_foreign_markers(response)
    assert order_state() == before
    if "/sales-orders/" in route.route and not route.route.endswith(
        ("/cancel", "/intercompany-purchase-orders")
    ):
        assert client.get(url_for(route, world.chain.mirror)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in API_ROUTES if not r.object_params],
                         ids=lambda r: r.id)
@pytest.mark.parametrize("visitor", ["olga", "gina"])
def test_api_operations_without_a_record_show_and_change_nothing_of_another_company(
    route, visitor, world, api_clients
):
    client = api_clients[visitor]
    before = order_state()
    for method in API_METHODS:
        response = api_answer(client, method, url_for(route, None), None)
        assert response.status_code in (200, 404, 405, 422), (method, response.status_code)
        assert not has_foreign_markers(response), (method, has_foreign_markers(response))
    assert order_state() == before


# -- the admin, by hand: what the generated tests do not show ------------------------------------


@pytest.mark.django_db
def test_the_admin_lists_only_the_staff_members_companys_records(world):
    client = world.clients["gina"]

    orders = client.get(reverse("admin:orders_salesorder_changelist")).content.decode()
    employees = client.get(reverse("admin:intercompany_employee_changelist")).content.decode()
    relationships = client.get(
        reverse("admin:intercompany_tradingrelationship_changelist")
    ).content.decode()

    assert world.gbsi_order.number in orders
    assert "USMF-SO-" not in orders and "DEMF-SO-" not in orders
    assert "gina" in employees and "alice" not in employees and "jonas" not in employees
    assert "USMF buys from DEMF" not in relationships


@pytest.mark.django_db
def test_a_staff_member_cannot_give_themselves_another_company(world):
    gina = Employee.objects.get(username="gina")
    client = world.clients["gina"]
    url = reverse("admin:intercompany_employee_change", args=[gina.pk])
    page = client.get(url).content.decode()

    assert f'value="{world.objects[Company].pk}"' not in page  # USMF is not offered
    client.post(url, {"username": "gina", "companies": [world.objects[Company].pk],
                      "is_active": "on", "date_joined_0": "2026-01-01",
                      "date_joined_1": "00:00:00"})

    assert set(gina.companies.values_list("code", flat=True)) == {"GBSI"}


@pytest.mark.django_db
def test_only_superusers_and_the_named_group_change_trading_relationships(world, admin, usmf):
    relationship = world.chain.relationship
    url = reverse("admin:intercompany_tradingrelationship_change", args=[relationship.pk])
    sam = make_employee("sam", usmf, is_staff=True)
    sam.user_permissions.add(*Permission.objects.filter(content_type__app_label="intercompany"))
    sam_client = Client()
    sam_client.force_login(sam)
    switches = {"active": "", "purchase_policy_syncs_original_sales_order": "on",
                "purchase_policy_syncs_intercompany_sales_order": "on"}

    # A staff member of the buying company, with every permission but not in the group: read only.
    assert sam_client.get(url).status_code == 200
    sam_client.post(url, switches)
    relationship.refresh_from_db()
    assert relationship.active

    # In the group "Trading relationship administrators": may change the purchase order policy
    # of USMF, the company sam works for; the active switch concerns DEMF too and stays as it was.
    sam.groups.add(Group.objects.get(name=RELATIONSHIP_ADMINISTRATORS_GROUP))
    assert sam_client.post(url, {**switches, "purchase_policy_syncs_original_sales_order": ""}
                           ).status_code == 302
    relationship.refresh_from_db()
    assert relationship.active
    assert not relationship.purchase_policy_syncs_original_sales_order

    # A superuser may too.
    admin_client = Client()
    admin_client.force_login(admin)
    assert admin_client.post(url, {**switches, "active": ""}).status_code == 302
    relationship.refresh_from_db()
    assert not relationship.active and relationship.purchase_policy_syncs_original_sales_order


@pytest.mark.django_db
def test_a_group_member_of_an_unrelated_company_cannot_change_the_relationship(world):
    gina = Employee.objects.get(username="gina")
    gina.groups.add(Group.objects.get(name=RELATIONSHIP_ADMINISTRATORS_GROUP))
    relationship = world.chain.relationship
    url = reverse("admin:intercompany_tradingrelationship_change", args=[relationship.pk])

    response = world.clients["gina"].post(url, {"active": ""})

    assert response.status_code == 404
    relationship.refresh_from_db()
    assert relationship.active


@pytest.mark.django_db
def test_the_admin_add_form_offers_only_the_staff_members_companys_records(world):
    client = world.clients["gina"]

    page = client.get(reverse("admin:orders_purchaseorder_add")).content.decode()

    usmf = world.objects[Company]
    assert "GBSI" in page
    assert f'<option value="{usmf.pk}">' not in page
    assert world.chain.relationship.intercompany_vendor.account not in page
    assert world.chain.original.number not in page


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["superuser", "staff"])
def test_a_staff_member_cannot_take_over_an_account_with_rights_of_its_own(usmf, target):
    """Before the fix, a company's staff member with the right to change employees could reset
    the password of a superuser who also works for the company, or deactivate them."""
    if target == "superuser":
        victim = Employee.objects.create_superuser("boss", password="x-Very-long-77")
    else:
        victim = make_employee("peer", is_staff=True)
    victim.companies.add(usmf)
    sam = make_employee("sam", usmf, is_staff=True)
    sam.user_permissions.add(*Permission.objects.filter(content_type__app_label="intercompany"))
    client = Client()
    client.force_login(sam)
    clerk = make_employee("carl", usmf)

    password = client.post(
        reverse("admin:auth_user_password_change", args=[victim.pk]),
        {"password1": "Taken-over-9876", "password2": "Taken-over-9876",
         "usable_password": "true"},
    )
    change = client.post(
        reverse("admin:intercompany_employee_change", args=[victim.pk]),
        {"username": victim.username, "companies": [usmf.pk], "date_joined_0": "2026-01-01",
         "date_joined_1": "00:00:00"},
    )

    assert password.status_code == change.status_code == 404
    victim.refresh_from_db()
    assert victim.is_active and not victim.check_password("Taken-over-9876")
    # The clerks of the company remain theirs to administer.
    assert client.get(
        reverse("admin:intercompany_employee_change", args=[clerk.pk])
    ).status_code == 200
