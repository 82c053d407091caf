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
- jonas, a clerk of DEMF, the related company: USMF's orders of the chain answer 404.

And nobody's POST changes anything that is not theirs.
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

from intercompany.admin_scoping import RELATIONSHIP_ADMINISTRATORS_GROUP
from intercompany.models import Company, Customer, Employee, TradingRelationship, Vendor
from orders.models import PurchaseOrder, SalesOrder
from orders.services import create_sales_order
from tests.conftest import make_customer, make_employee, make_vendor, order_state
from tests.fixtures_web import make_chain

MISSING = 10**9

# Text that only USMF's and DEMF's records contain: none of it may reach GBSI's employees.
FOREIGN_MARKERS = ("USMF-SO-", "USMF-PO-", "DEMF-SO-", "Foreign reference", "FOREIGN-REQ",
                   "Fabrikam", "Alice Martin", "Jonas Weber", "Martin", "Weber")
# The login pages are the only ones open to anonymous visitors, with the language switcher
# they show (POST only: it changes nothing but the visitor's language cookie).
PUBLIC_PAGES = {"login", "admin:login", "switch-language"}
# Models whose records belong to companies (scoped in the admin for non-superusers).
COMPANY_MODELS = {Company, Employee, Customer, Vendor, TradingRelationship, SalesOrder,
                  PurchaseOrder}


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


ROUTES = list(walk(get_resolver().url_patterns))
OBJECT_ROUTES = [r for r in ROUTES if r.object_params]
OTHER_ROUTES = [r for r in ROUTES if not r.object_params]


# -- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    chain: object
    objects: dict  # model -> an instance of USMF or DEMF
    gbsi_order: SalesOrder
    clients: dict[str, Client]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Four employees per test, hundreds of tests: the production hasher would take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(usmf, demf, gbsi, alice, jonas, olga, relationship) -> World:
    alice.first_name, alice.last_name = "Alice", "Martin"
    alice.save()
    customer = make_customer(usmf, "US-001", "Fabrikam Retail")
    chain = make_chain(employee=alice, customer=customer, relationship=relationship,
                       customer_reference="Foreign reference", customer_requisition="FOREIGN-REQ-1")
    gbsi_customer = make_customer(gbsi, "GB-001", "Northwind")
    gbsi_order = create_sales_order(employee=olga, company=gbsi, customer=gbsi_customer,
                                    customer_reference="Our own", customer_requisition="GB-REQ")
    gina = make_employee("gina", gbsi, first="Gina", last="Admin", is_staff=True)
    gina.user_permissions.add(*Permission.objects.filter(
        content_type__app_label__in=["intercompany", "orders"]
    ))
    group = Group.objects.create(name=RELATIONSHIP_ADMINISTRATORS_GROUP)
    attempt = AccessAttempt.objects.create(
        username="alice", ip_address="10.0.0.1", user_agent="x", get_data="", post_data="",
        http_accept="", path_info="/accounts/login/", failures_since_start=1,
    )
    seen = {"username": "alice", "ip_address": "10.0.0.1", "user_agent": "x", "http_accept": "",
            "path_info": "/accounts/login/"}
    objects = {
        Company: usmf,
        Employee: alice,
        Customer: customer,
        Vendor: make_vendor(usmf, "US-V-001", "Fabrikam Supplies"),
        TradingRelationship: chain.relationship,
        SalesOrder: chain.original,
        PurchaseOrder: chain.purchase,
        Group: group,
        AccessAttempt: attempt,
        AccessLog: AccessLog.objects.create(**seen),
        AccessFailureLog: AccessFailureLog.objects.create(**seen),
    }
    clients = {"anonymous": Client()}
    for name, employee in (("olga", olga), ("gina", gina), ("jonas", jonas)):
        clients[name] = Client()
        clients[name].force_login(employee)
    return World(chain, objects, gbsi_order, clients)


def object_for(route: Route, world: World):
    """The other company's record a route with parameters is about."""
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
        else:
            raise LookupError(f"{route.id}: unknown parameter {param!r}")
    if route.full_name:
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


def has_foreign_markers(response) -> list[str]:
    content = b"".join(response) if response.streaming else response.content
    text = content.decode(errors="replace")
    # Whole words: "Martin" is a person, "America/Martinique" a time zone every page may list.
    return [marker for marker in FOREIGN_MARKERS if re.search(rf"{re.escape(marker)}(?!\w)", text)]


def page_text(response) -> str:
    """The page without its CSRF tokens, which differ on every render."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


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
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
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
        else:
            assert is_login_redirect(response), (method, url, response.status_code)
        assert not has_foreign_markers(response)

    assert order_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=lambda r: r.id)
@pytest.mark.parametrize("visitor", ["olga", "gina"])
def test_another_companys_record_answers_exactly_like_a_missing_one(route, visitor, world):
    client = world.clients[visitor]
    obj = object_for(route, world)
    foreign, missing = url_for(route, obj), url_for(route, obj, missing=True)
    before = order_state()
    counts = {model: model.objects.count() for model in world.objects}

    for method in ("GET", "POST"):
        data = forged_post(obj)
        got = final(client, answer(client, method, foreign, data))
        assert not has_foreign_markers(got), (method, foreign, has_foreign_markers(got))
        if route.namespace == "orders" or type(obj) in COMPANY_MODELS:
            expected = final(client, answer(client, method, missing, data))
            assert got.status_code == expected.status_code, (method, foreign)
            if method == "GET" and got.status_code != 302:
                assert page_text(got) == page_text(expected), (method, foreign)
        if route.namespace == "orders":
            # The clerk screens: 404; 405 for a page that only shows (POST) or only acts (GET).
            assert got.status_code in (404, 405), (method, foreign, got.status_code)
            if method == "GET":
                assert got.status_code == 404
        elif route.is_admin and visitor == "olga":
            assert is_login_redirect(got), (method, foreign)  # the admin is for staff only
        elif route.is_admin and type(obj) in COMPANY_MODELS:
            # 404; or 403 where the staff member may not take that action on any record (delete
            # a company, change a relationship outside the named group): the same for a missing
            # record, as asserted above.
            assert got.status_code in (403, 404), (method, foreign, got.status_code)
            if method == "GET" and not route.route.endswith("/delete/"):
                assert got.status_code == 404, (method, foreign, got.status_code)
        else:  # records of no company (groups, login attempts): refused without the right
            assert got.status_code in (403, 404), (method, foreign, got.status_code)

    assert order_state() == before
    assert {model: model.objects.count() for model in world.objects} == counts
    world.chain.refresh()
    assert world.chain.original.customer_requisition == "FOREIGN-REQ-1"
    assert world.chain.relationship.active


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
@pytest.mark.parametrize("visitor", ["olga", "gina"])
def test_pages_without_a_record_show_nothing_of_another_company(route, visitor, world):
    client = world.clients[visitor]
    url = url_for(route, None)
    if route.full_name in ("logout", "admin:logout"):
        pytest.skip("logging out shows nothing")

    response = client.get(url, follow=True)

    assert response.status_code in (200, 403, 404, 405), (url, response.status_code)
    assert not has_foreign_markers(response), (url, has_foreign_markers(response))


@pytest.mark.django_db
@pytest.mark.parametrize("route", OTHER_ROUTES, ids=lambda r: r.id)
@pytest.mark.parametrize("visitor", ["olga", "gina"])
def test_a_forged_post_naming_another_companys_records_changes_nothing(route, visitor, world):
    """Every form gets the other company's customer, vendor, company, sales order and
    relationship in every field that takes one."""
    if route.full_name in ("logout", "admin:logout"):
        pytest.skip("logging out changes no record")
    client = world.clients[visitor]
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
        "customer_reference": "HACKED", "customer_requisition": "HACKED",
    }
    before = order_state()
    counts = {model: model.objects.count() for model in world.objects}
    memberships = {e.pk: set(e.companies.values_list("pk", flat=True))
                   for e in Employee.objects.all()}

    response = client.post(url_for(route, None), data)

    assert response.status_code < 500
    assert order_state() == before
    assert {model: model.objects.count() for model in world.objects} == counts
    assert {e.pk: set(e.companies.values_list("pk", flat=True))
            for e in Employee.objects.all()} == memberships
    session_company = client.session.get("orders.current_company_id")
    assert session_company in (None, world.gbsi_order.company_id)


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

    # In the group "Trading relationship administrators": may change it.
    sam.groups.add(Group.objects.get(name=RELATIONSHIP_ADMINISTRATORS_GROUP))
    assert sam_client.post(url, switches).status_code == 302
    relationship.refresh_from_db()
    assert not relationship.active

    # A superuser may too.
    admin_client = Client()
    admin_client.force_login(admin)
    assert admin_client.post(url, {**switches, "active": "on"}).status_code == 302
    relationship.refresh_from_db()
    assert relationship.active


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
