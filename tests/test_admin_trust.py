"""What the security review of the admin found (issue 7), each hole with the test that would
have caught it: taking over an employee of two companies, hard deletion of orders, a company
changing the other company's policy, malformed ids, headers and the company filter."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from intercompany.admin_scoping import RELATIONSHIP_ADMINISTRATORS_GROUP
from intercompany.models import Employee
from tests.conftest import make_employee, order_state


def staff_of(username, *companies, group=False):
    """A staff member with every permission on the product's models, not a superuser."""
    employee = make_employee(username, *companies, is_staff=True)
    employee.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["intercompany", "orders"])
    )
    if group:
        employee.groups.add(Group.objects.get_or_create(name=RELATIONSHIP_ADMINISTRATORS_GROUP)[0])
    return employee


def client_of(employee) -> Client:
    client = Client()
    client.force_login(employee)
    return client


# -- 1. an employee who also works for another company ------------------------------------------


@pytest.fixture
def sam(usmf, demf):
    """A clerk of USMF and DEMF."""
    return make_employee("sam", usmf, demf, first="Sam", last="Okafor")


def test_staff_of_one_company_cannot_set_the_password_of_an_employee_of_two(sam, demf):
    dora = staff_of("dora", demf)
    client = client_of(dora)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[sam.pk]),
        {"password1": "Taken-over-9876", "password2": "Taken-over-9876",
         "usable_password": "true"},
    )

    assert response.status_code == 404
    sam.refresh_from_db()
    assert not sam.check_password("Taken-over-9876")
    assert not Client().login(username="sam", password="Taken-over-9876")


def test_staff_of_one_company_cannot_change_an_employee_of_two_nor_drop_their_company(
    sam, usmf, demf
):
    dora = staff_of("dora", demf)
    client = client_of(dora)
    url = reverse("admin:intercompany_employee_change", args=[sam.pk])

    page = client.get(url)
    saved = client.post(url, {
        "username": "sam", "email": "taken@example.com", "companies": [demf.pk],
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })
    listing = client.get(reverse("admin:intercompany_employee_changelist")).content.decode()

    assert page.status_code == saved.status_code == 404
    sam.refresh_from_db()
    assert sam.email == ""
    assert set(sam.companies.values_list("code", flat=True)) == {"USMF", "DEMF"}
    assert ">sam<" not in listing


def test_staff_of_both_companies_administer_the_employee_of_two(sam, usmf, demf):
    both = staff_of("bea", usmf, demf)
    client = client_of(both)
    url = reverse("admin:intercompany_employee_change", args=[sam.pk])

    response = client.post(url, {
        "username": "sam", "email": "sam@example.com", "companies": [usmf.pk, demf.pk],
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })

    assert response.status_code == 302
    sam.refresh_from_db()
    assert sam.email == "sam@example.com"
    assert set(sam.companies.values_list("code", flat=True)) == {"USMF", "DEMF"}


def test_staff_still_administer_their_own_clerks_and_keep_them_in_a_company(usmf, demf, alice):
    gus = staff_of("gus", usmf)
    client = client_of(gus)
    url = reverse("admin:intercompany_employee_change", args=[alice.pk])

    emptied = client.post(url, {
        "username": "alice", "email": "alice@example.com", "companies": [],
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })
    saved = client.post(url, {
        "username": "alice", "email": "alice@example.com", "companies": [usmf.pk],
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })

    assert emptied.status_code == 200 and "This field is required" in emptied.content.decode()
    assert saved.status_code == 302
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert list(alice.companies.values_list("code", flat=True)) == ["USMF"]


def test_the_memberships_a_staff_member_cannot_see_are_kept_when_they_save(
    rf, usmf, demf, alice
):
    """Defence in depth: should an employee gain a company the staff member does not work for
    between the page and the save, the save keeps it."""
    from django.contrib.admin.sites import site

    from intercompany.admin import EmployeeAdmin

    gus = staff_of("gus", usmf)
    model_admin = EmployeeAdmin(Employee, site)
    request = rf.post("/")
    request.user = gus
    form_class = model_admin.get_form(request, alice, change=True)
    form = form_class(instance=alice, data={
        "username": "alice", "companies": [usmf.pk], "is_active": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })
    assert form.is_valid(), form.errors
    alice.companies.add(demf)  # meanwhile, a superuser adds DEMF

    model_admin.save_model(request, form.save(commit=False), form, change=True)
    model_admin.save_related(request, form, [], change=True)

    assert set(alice.companies.values_list("code", flat=True)) == {"USMF", "DEMF"}


# -- 2. orders are cancelled, never deleted -----------------------------------------------------


@pytest.fixture
def chain(alice, usmf, demf, relationship, external_customer):
    from tests.fixtures_web import make_chain

    return make_chain(employee=alice, customer=external_customer, relationship=relationship,
                      customer_requisition="PO-7781")


@pytest.mark.parametrize("model_name", ["salesorder", "purchaseorder"])
def test_the_admin_offers_no_deletion_of_orders_even_to_a_superuser(model_name, admin, chain):
    from orders.models import OrderChain

    client = client_of(admin)
    order = chain.original if model_name == "salesorder" else chain.purchase
    before = order_state()

    page = client.get(reverse(f"admin:orders_{model_name}_change", args=[order.pk]))
    single = client.post(reverse(f"admin:orders_{model_name}_delete", args=[order.pk]),
                         {"post": "yes"})
    bulk = client.post(reverse(f"admin:orders_{model_name}_changelist"), {
        "action": "delete_selected", "_selected_action": [order.pk], "post": "yes",
    })
    listing = client.get(reverse(f"admin:orders_{model_name}_changelist")).content.decode()

    assert single.status_code == 403
    assert bulk.status_code in (200, 302)
    assert order_state() == before
    assert OrderChain.objects.get(pk=chain.original.chain_id)
    assert "deletelink" not in page.content.decode()
    assert 'value="delete_selected"' not in listing
    assert 'value="cancel_selected"' in listing


@pytest.mark.parametrize("model_name", ["salesorder", "purchaseorder"])
def test_the_database_refuses_a_raw_delete_of_an_order(model_name, chain):
    from django.db import IntegrityError, connection, transaction

    from orders.models import PurchaseOrder, SalesOrder

    model = SalesOrder if model_name == "salesorder" else PurchaseOrder
    before = order_state()

    with pytest.raises(IntegrityError, match="Orders are never deleted"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {model._meta.db_table}")
    with pytest.raises(IntegrityError, match="Orders are never deleted"):
        with transaction.atomic():
            # The ORM's delete of a leg nothing else points to (the collector's own PROTECT
            # checks pass for the intercompany sales order).
            model.objects.filter(pk=chain.mirror.pk if model is SalesOrder
                                 else chain.purchase.pk)._raw_delete(connection.alias)

    assert order_state() == before


def test_the_cancel_action_cancels_through_the_services_only_the_staff_members_orders(
    chain, usmf, demf, admin
):
    from orders.models import OrderStatus, SalesOrder

    dora = staff_of("dora", demf)
    url = reverse("admin:orders_salesorder_changelist")
    client_of(dora).post(url, {
        "action": "cancel_selected", "_selected_action": [chain.original.pk, chain.mirror.pk],
    })

    assert SalesOrder.objects.get(pk=chain.original.pk).status == OrderStatus.OPEN
    mirror = SalesOrder.objects.get(pk=chain.mirror.pk)
    assert mirror.status == OrderStatus.CANCELLED
    assert mirror.history.first().history_user == dora
    assert mirror.history.first().history_company == demf


# -- 3. a company changes only its own policy ---------------------------------------------------


SWITCHES_ALL_ON = {
    "active": "on", "purchase_policy_syncs_original_sales_order": "on",
    "purchase_policy_syncs_intercompany_sales_order": "on",
    "sales_policy_syncs_intercompany_purchase_order": "on",
}


def test_a_relationship_administrator_of_the_selling_company_changes_only_its_sales_order_policy(
    relationship, demf
):
    rita = staff_of("rita", demf, group=True)
    client = client_of(rita)
    url = reverse("admin:intercompany_tradingrelationship_change", args=[relationship.pk])

    page = client.get(url).content.decode()
    response = client.post(url, {key: "" for key in SWITCHES_ALL_ON} | {
        "sales_policy_syncs_intercompany_purchase_order": "on"})
    followed = client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.active
    assert relationship.purchase_policy_syncs_original_sales_order
    assert relationship.purchase_policy_syncs_intercompany_sales_order
    assert relationship.sales_policy_syncs_intercompany_purchase_order
    assert relationship.history.first().history_company == demf
    # The form says which switches are read only, and why.
    assert 'name="sales_policy_syncs_intercompany_purchase_order"' in page
    assert 'name="purchase_policy_syncs_original_sales_order"' not in page
    assert 'name="active"' not in page
    assert ("Read only for you: the purchase order policy belongs to USMF, the buying company: "
            "only its employees change") in page
    assert "the active switch concerns both companies: only an employee of both USMF and DEMF"\
        in page
    assert ("Sales order policy of DEMF: “Customer information, intercompany purchase order ↔ "
            "intercompany sales order” switched on.") in followed


def test_the_service_refuses_a_switch_of_the_other_companys_policy(relationship, jonas, alice):
    from intercompany.exceptions import NotAllowedError
    from intercompany.services import update_trading_relationship

    with pytest.raises(NotAllowedError, match="purchase order policy belongs to USMF"):
        update_trading_relationship(relationship=relationship, employee=jonas,
                                    sales_policy_syncs_intercompany_purchase_order=True,
                                    purchase_policy_syncs_original_sales_order=False)
    with pytest.raises(NotAllowedError, match="active switch concerns both companies"):
        update_trading_relationship(relationship=relationship, employee=alice, active=False)

    relationship.refresh_from_db()
    assert relationship.active and relationship.purchase_policy_syncs_original_sales_order
    assert not relationship.sales_policy_syncs_intercompany_purchase_order
    assert relationship.history.count() == 1


def test_an_administrator_of_both_companies_changes_the_active_switch(relationship, usmf, demf):
    both = staff_of("bea", usmf, demf, group=True)

    response = client_of(both).post(
        reverse("admin:intercompany_tradingrelationship_change", args=[relationship.pk]),
        {**SWITCHES_ALL_ON, "active": ""},
    )

    assert response.status_code == 302
    relationship.refresh_from_db()
    assert not relationship.active and relationship.sales_policy_syncs_intercompany_purchase_order


def test_a_relationship_is_created_only_by_an_employee_of_both_companies(usmf, demf, gbsi):
    from intercompany.exceptions import NotAllowedError
    from intercompany.models import TradingRelationship
    from intercompany.services import create_trading_relationship

    rita = staff_of("rita", demf, gbsi, group=True)
    with pytest.raises(NotAllowedError):
        create_trading_relationship(buying_company=usmf, selling_company=demf, employee=rita)
    response = client_of(rita).post(reverse("admin:intercompany_tradingrelationship_add"), {
        "buying_company": usmf.pk, "selling_company": demf.pk, **SWITCHES_ALL_ON,
    })
    one_company = staff_of("dora", demf, group=True)

    assert response.status_code == 200
    assert not TradingRelationship.objects.exists()
    assert client_of(one_company).get(
        reverse("admin:intercompany_tradingrelationship_add")).status_code == 403


# -- 4. invisible formatting characters ---------------------------------------------------------


def test_a_right_to_left_override_in_the_customer_requisition_is_refused_on_every_screen(
    chain, alice_client, admin
):
    from django.core.exceptions import ValidationError

    from orders.services import update_customer_information

    spoof = "PO-\u202e1877"  # displays as "PO-7781"
    message = ("Customer requisition contains an invisible character, U+202E RIGHT-TO-LEFT "
               "OVERRIDE, at position 4.")
    before = order_state()

    clerk = alice_client.post(reverse("orders:sales-order-edit", args=[chain.original.pk]), {
        "customer_reference": "", "customer_requisition": spoof, "version": chain.original.version,
    })
    in_admin = client_of(admin).post(
        reverse("admin:orders_salesorder_change", args=[chain.original.pk]),
        {"customer_reference": "", "customer_requisition": spoof, "status": "open",
         "opened_version": chain.original.version},
    )
    with pytest.raises(ValidationError) as refused:
        update_customer_information(order=chain.original, employee=admin,
                                    customer_requisition=spoof)

    assert clerk.status_code == 200 and message in clerk.content.decode()
    assert in_admin.status_code == 200 and message in in_admin.content.decode()
    assert refused.value.message_dict == {"customer_requisition": [message]}
    assert order_state() == before


@pytest.mark.parametrize("value", [
    "Crème brûlée, Ærøskøbing", "東京の注文", "طلب شراء", "می\u200cخواهم",
    "👨\u200d👩\u200d👧 party", "👍🏽", "🇩🇪", "e\u0301t\u00e9",
    "❤\ufe0f thanks", "1\ufe0f\u20e3 first", "葛\U000e0100飾",
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f England",
])
def test_accents_other_scripts_and_emoji_stay_accepted(chain, alice_client, value):
    response = alice_client.post(reverse("orders:sales-order-edit", args=[chain.original.pk]), {
        "customer_reference": value, "customer_requisition": "PO-1",
        "version": chain.original.version,
    })

    assert response.status_code == 302
    chain.refresh()
    assert chain.original.customer_reference == chain.purchase.customer_reference == value


@pytest.mark.parametrize("char", [
    "\u200b", "\u2066", "\ufeff", "\u200e", "\u00ad", "\u2060",
    # Invisible without being format characters: a variation selector that selects nothing,
    # the combining grapheme joiner, a Hangul filler, the blank braille pattern, a tag that is
    # no part of a flag (tags can carry hidden text).
    "\ufe0f", "\u034f", "\u3164", "\u2800", "\U000e0041",
])
def test_format_characters_are_refused_in_every_text_field_of_the_admin(usmf, admin, char):
    from intercompany.models import Company, Customer

    client = client_of(admin)
    company = client.post(reverse("admin:intercompany_company_add"),
                          {"code": "ZZ01", "name": f"Contoso{char} Ltd"})
    customer = client.post(reverse("admin:intercompany_customer_add"),
                           {"company": usmf.pk, "account": f"C{char}1", "name": "Northwind"})
    employee = client.post(
        reverse("admin:intercompany_employee_change", args=[admin.pk]),
        {"username": "admin", "first_name": f"A{char}da", "last_name": "Admin",
         "email": "", "is_active": "on", "is_staff": "on", "is_superuser": "on",
         "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"},
    )

    name = f"U+{ord(char):04X}"
    assert company.status_code == customer.status_code == employee.status_code == 200
    assert f"Name contains an invisible character, {name}" in company.content.decode()
    assert f"Account contains an invisible character, {name}" in customer.content.decode()
    assert f"First name contains an invisible character, {name}" in employee.content.decode()
    assert not Company.objects.filter(code="ZZ01").exists()
    assert not Customer.objects.exists()
    admin.refresh_from_db()
    assert admin.first_name == "Ada"


# -- 6. headers: Content-Security-Policy and Cache-Control ---------------------------------------


def _admin_pages(chain, admin):
    rel = chain.relationship
    return [
        reverse("admin:index"),
        reverse("admin:intercompany_tradingrelationship_change", args=[rel.pk]),
        reverse("admin:intercompany_tradingrelationship_history", args=[rel.pk]),
        reverse("admin:intercompany_employee_change", args=[admin.pk]),
        reverse("admin:intercompany_employee_add"),
        reverse("admin:orders_salesorder_changelist"),
        reverse("admin:orders_salesorder_change", args=[chain.original.pk]),
        reverse("admin:orders_purchaseorder_add"),
        reverse("admin:orders_salesorder_history", args=[chain.original.pk]),
        reverse("admin:orders_salesorder_simple_history",
                args=[chain.original.pk, chain.original.history.last().pk]),
        reverse("admin:auth_user_password_change", args=[admin.pk]),
    ]


def test_every_page_of_a_logged_in_employee_is_private_and_not_stored(chain, alice, admin):
    clerk, administrator = client_of(alice), client_of(admin)
    pages = [
        (clerk, reverse("orders:sales-order-list")),
        (clerk, reverse("orders:sales-order-detail", args=[chain.original.pk])),
        (clerk, reverse("orders:sales-order-history", args=[chain.original.pk])),
        (clerk, reverse("orders:overwrites-csv")),
        (clerk, reverse("preferences")),
        (clerk, reverse("orders:sales-order-detail", args=[10**9])),  # 404 page
        *((administrator, url) for url in _admin_pages(chain, admin)),
    ]

    for client, url in pages:
        response = client.get(url)
        directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
        assert {"private", "no-store"} <= directives, (url, response.get("Cache-Control"))
        assert "public" not in directives


def test_every_page_sends_a_content_security_policy_without_inline_code(chain, alice, admin):
    import re

    clerk, administrator = client_of(alice), client_of(admin)
    pages = [
        (Client(), reverse("login")),
        (Client(), reverse("admin:login")),
        (clerk, reverse("orders:sales-order-detail", args=[chain.original.pk])),
        (clerk, reverse("orders:sales-order-edit", args=[chain.original.pk])),
        *((administrator, url) for url in _admin_pages(chain, admin)),
    ]

    for client, url in pages:
        response = client.get(url)
        policy = {
            directive.split()[0]: directive.split()[1:]
            for directive in response["Content-Security-Policy"].split(";")
        }
        assert policy["default-src"] == ["'self'"], url
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        page = response.content.decode()
        # Nothing the policy would refuse: every script from a file of the site, no inline
        # script, no event handler attribute, no style attribute or element.
        for script in re.findall(r"<script\b[^>]*>", page):
            assert re.search(r'\bsrc="/(static/|admin/jsi18n/)', script), (url, script)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page), url
        assert not re.search(r"\son[a-z]+=", page), url
        assert not re.search(r"\sstyle=", page) and "<style" not in page, url


# -- 5. malformed ids, 7. the company filter -----------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", "1.5", "-1", "99999999999999999999999", "1%2500"])
def test_a_malformed_id_in_an_admin_url_is_a_missing_record(chain, admin, bad):
    client = client_of(admin)
    pk = chain.original.pk

    for url in (f"/admin/orders/salesorder/{bad}/history/",
                f"/admin/orders/salesorder/{pk}/history/{bad}/",
                f"/admin/orders/salesorder/{bad}/change/",
                f"/admin/intercompany/employee/{bad}/password/",
                f"/admin/intercompany/tradingrelationship/{bad}/history/"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"customer_requisition": "X"}).status_code == 404, url


def test_the_changelist_company_filter_lists_only_the_staff_members_companies(
    chain, usmf, demf, gbsi
):
    nina = staff_of("nina", demf, gbsi)
    client = client_of(nina)

    for url in (reverse("admin:orders_salesorder_changelist"),
                reverse("admin:intercompany_employee_changelist"),
                reverse("admin:intercompany_customer_changelist"),
                reverse("admin:intercompany_tradingrelationship_changelist")):
        page = client.get(url).content.decode()
        filters = page[page.index('id="changelist-filter"'):]
        filters = filters[:filters.index("</nav>")]
        assert "DEMF Contoso Germany" in filters and "GBSI Contoso UK" in filters, url
        # No filter by a company of the staff member's (company, companies, buying company,
        # selling company) offers USMF; an account representing USMF may be filtered by it.
        assert not re.search(rf"(?<!represents_)company__id__exact={usmf.pk}\b", filters), url
        assert f"companies__id__exact={usmf.pk}" not in filters, url


# -- issue 11's administrator details -------------------------------------------------------------


def test_a_superuser_who_follows_view_site_acts_for_any_company_of_the_group(
    chain, admin, usmf, demf, gbsi
):
    client = client_of(admin)

    admin_index = client.get(reverse("admin:index")).content.decode()
    landing = client.get("/", follow=True)
    switched = client.post(reverse("orders:company-switch"),
                           {"company": "USMF", "next": reverse("orders:sales-order-list")},
                           follow=True)
    mirror = client.get(reverse("orders:sales-order-detail", args=[chain.mirror.pk]))

    assert 'href="/"' in admin_index  # "View site"
    assert landing.status_code == 200
    page = landing.content.decode()
    assert "You do not work for any company yet" not in page
    for company in ("USMF Contoso Entertainment USA", "DEMF Contoso Germany", "GBSI Contoso UK"):
        assert company in page  # every company of the group in the "Acting for" list
    assert chain.mirror.number in page  # the first company by code: DEMF
    assert switched.status_code == 200 and chain.original.number in switched.content.decode()
    assert mirror.status_code == 200


def _opened_version(page: str) -> int:
    return int(re.search(r'name="opened_version" value="(\d+)"', page).group(1))


def test_revert_to_an_old_version_is_an_edit_synced_along_the_chain_and_attributed(
    chain, alice, admin, usmf
):
    from orders.services import update_customer_information

    update_customer_information(order=chain.original, employee=alice,
                                customer_requisition="PO-9000")
    first = chain.original.history.earliest("history_date")
    url = reverse("admin:orders_salesorder_simple_history", args=[chain.original.pk, first.pk])
    client = client_of(admin)

    page = client.get(url).content.decode()
    response = client.post(url, {
        "customer_reference": first.customer_reference,
        "customer_requisition": first.customer_requisition, "status": "open",
        "opened_version": _opened_version(page),
    })

    assert response.status_code == 302, response.content.decode()[:2000]
    chain.refresh()
    assert (chain.original.customer_requisition == chain.purchase.customer_requisition
            == "PO-7781")
    latest = chain.original.history.latest("history_date")
    assert latest.history_user == admin and latest.history_company == usmf
    assert chain.purchase.history.latest("history_date").history_source_number == (
        chain.original.number)


def test_a_revert_page_opened_before_another_edit_is_refused_as_stale(chain, alice, admin):
    from orders.services import update_customer_information

    first = chain.original.history.earliest("history_date")
    url = reverse("admin:orders_salesorder_simple_history", args=[chain.original.pk, first.pk])
    client = client_of(admin)
    page = client.get(url).content.decode()
    update_customer_information(order=chain.original, employee=alice,
                                customer_requisition="PO-9000")
    before = order_state()

    response = client.post(url, {
        "customer_reference": "Reverted", "customer_requisition": "PO-7781", "status": "open",
        "opened_version": _opened_version(page),
    })

    assert response.status_code == 200
    assert "was changed by someone else after you opened it" in response.content.decode()
    assert order_state() == before


def test_a_revert_of_a_relationship_changes_only_the_reverting_companys_policy(
    relationship, admin, demf
):
    from intercompany.services import update_trading_relationship

    update_trading_relationship(relationship=relationship, employee=admin,
                                purchase_policy_syncs_original_sales_order=False,
                                sales_policy_syncs_intercompany_purchase_order=True)
    first = relationship.history.earliest("history_date")
    rita = staff_of("rita", demf, group=True)
    url = reverse("admin:intercompany_tradingrelationship_simple_history",
                  args=[relationship.pk, first.pk])

    response = client_of(rita).post(url, {
        "active": "on", "purchase_policy_syncs_original_sales_order": "on",
        "purchase_policy_syncs_intercompany_sales_order": "on",
        "sales_policy_syncs_intercompany_purchase_order": "",
    })

    assert response.status_code == 302
    relationship.refresh_from_db()
    assert not relationship.purchase_policy_syncs_original_sales_order  # USMF's: untouched
    assert not relationship.sales_policy_syncs_intercompany_purchase_order  # DEMF's: reverted
    assert relationship.history.latest("history_date").history_user == rita


def test_the_order_admin_shows_the_role_and_links_the_chain_where_the_viewer_may_go(
    chain, demf, admin
):
    dora = staff_of("dora", demf)
    listing = client_of(admin).get(reverse("admin:orders_salesorder_changelist")).content.decode()
    mirror_page = client_of(dora).get(
        reverse("admin:orders_salesorder_change", args=[chain.mirror.pk])).content.decode()
    admin_page = client_of(admin).get(
        reverse("admin:orders_salesorder_change", args=[chain.mirror.pk])).content.decode()

    assert "original sales order" in listing and "intercompany sales order" in listing
    assert "icon-no.svg" not in listing  # no "intercompany: False" for an original sales order
    # DEMF's staff: their own order marked, USMF's orders named but not linked.
    assert f"<strong>{chain.mirror.number} (intercompany sales order, DEMF)</strong>" in mirror_page
    assert f"<li>{chain.original.number} (original sales order, USMF)</li>" in mirror_page
    assert (f"<li>{chain.purchase.number} (intercompany purchase order, USMF)</li>"
            in mirror_page)
    # A superuser: links to every other order of the chain.
    original_url = reverse("admin:orders_salesorder_change", args=[chain.original.pk])
    purchase_url = reverse("admin:orders_purchaseorder_change", args=[chain.purchase.pk])
    assert f'<a href="{original_url}">{chain.original.number} (original sales order' in admin_page
    assert f'<a href="{purchase_url}">{chain.purchase.number}' in admin_page


def test_the_history_pages_name_the_columns_as_users_know_them(chain, relationship, admin):
    client = client_of(admin)

    relationship_history = client.get(reverse(
        "admin:intercompany_tradingrelationship_history", args=[relationship.pk])).content.decode()
    order_history = client.get(reverse(
        "admin:orders_salesorder_history", args=[chain.original.pk])).content.decode()

    head = relationship_history[relationship_history.index("<thead>"):]
    head = head[:head.index("</thead>")]
    assert "purchase_policy_syncs" not in head
    assert ("Customer information, intercompany purchase order ↔ intercompany sales order "
            "(sales order policy)") in head
    assert ("Customer information, intercompany purchase order ↔ intercompany sales order "
            "(purchase order policy)") in head
    assert "Customer requisition" in order_history and "customer_requisition" not in order_history


def test_one_wording_for_the_switches_everywhere(chain, alice_client, admin):
    from django.conf import settings

    from intercompany.models import TradingRelationship
    from intercompany.switches import SWITCHES

    readme = (settings.BASE_DIR / "README.md").read_text()
    form = client_of(admin).get(reverse(
        "admin:intercompany_tradingrelationship_change", args=[chain.relationship.pk])
    ).content.decode()
    listing = client_of(admin).get(
        reverse("admin:intercompany_tradingrelationship_changelist")).content.decode()
    panel = alice_client.get(
        reverse("orders:purchase-order-detail", args=[chain.purchase.pk])).content.decode()

    for switch in SWITCHES:
        label = str(switch.label)
        assert TradingRelationship._meta.get_field(switch.field).verbose_name == label
        assert f"*R*: \"{label}\"" in readme
        assert label in form
        assert str(switch.qualified_label) in listing
        assert (f"{switch.policy} of {switch.owner(chain.relationship).code} "
                f"(the {switch.owner_role}): “{label}”") in panel
    # The sales order policy's switch is off by default: the refusal names it the same way.
    assert ("Not copied: the sales order policy of DEMF has “Customer information, intercompany "
            "purchase order ↔ intercompany sales order” switched off.") in panel
    for page in (readme, form, listing, panel):
        assert "Customer information: " not in page  # the admin's former wording
        assert "order → intercompany sales order\"" not in page


@pytest.mark.parametrize("target", ["relationship", "order"])
def test_a_revert_needs_the_right_to_change_the_record(relationship, chain, demf, target):
    """The history's revert page is shown read only to staff without the change right (or, for
    relationships, outside the named group); posting it anyway changes nothing."""
    from intercompany.services import update_trading_relationship

    viewer = staff_of("vera", demf)
    viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    if target == "relationship":
        update_trading_relationship(relationship=relationship, employee=None,
                                    sales_policy_syncs_intercompany_purchase_order=True)
        record = relationship
        data = {"sales_policy_syncs_intercompany_purchase_order": ""}  # the first version
        url_name = "admin:intercompany_tradingrelationship_simple_history"
    else:
        record = chain.mirror
        data = {"customer_reference": "Reverted", "customer_requisition": "REVERTED",
                "status": "open", "opened_version": chain.mirror.version}
        url_name = "admin:orders_salesorder_simple_history"
    url = reverse(url_name, args=[record.pk, record.history.earliest("history_date").pk])
    client = client_of(viewer)
    before = order_state()
    switches = list(type(relationship).objects.values_list())

    page = client.get(url)
    posted = client.post(url, data)

    assert page.status_code == 200
    assert posted.status_code == 403
    assert order_state() == before
    assert list(type(relationship).objects.values_list()) == switches


# -- the accounts a trading relationship uses ----------------------------------------------------


def test_staff_of_one_side_cannot_change_whom_a_relationships_account_represents(
    usmf, demf, gbsi
):
    from intercompany.models import Customer
    from intercompany.services import create_trading_relationship

    relationship = create_trading_relationship(buying_company=usmf, selling_company=demf)
    account = relationship.intercompany_customer  # a DEMF customer that stands for USMF
    demf_staff = staff_of("dora", demf)
    url = reverse("admin:intercompany_customer_change", args=[account.pk])

    page = client_of(demf_staff).get(url)
    assert page.status_code == 200
    assert 'name="represents_company"' not in page.content.decode()  # shown, not editable
    client_of(demf_staff).post(url, {
        "company": demf.pk, "account": account.account, "name": "Renamed",
        "represents_company": gbsi.pk,
    })
    account = Customer.objects.get(pk=account.pk)
    assert account.name == "Renamed"  # its own company keeps the rest of it
    assert account.represents_company == usmf

    both = staff_of("bea", usmf, demf)
    assert 'name="represents_company"' in client_of(both).get(url).content.decode()
