"""Logging in and out, login required everywhere, and the company switcher in the header."""

import pytest
from django.urls import reverse

from orders.context import SESSION_KEY
from orders.services import create_sales_order
from tests.conftest import make_customer, make_employee

CLERK_URLS = [
    ("orders:sales-order-list", []),
    ("orders:sales-order-create", []),
    ("orders:sales-order-detail", [1]),
    ("orders:sales-order-edit", [1]),
    ("orders:sales-order-history", [1]),
    ("orders:sales-order-cancel", [1]),
    ("orders:sales-order-intercompany-purchase-order", [1]),
    ("orders:purchase-order-list", []),
    ("orders:purchase-order-create", []),
    ("orders:purchase-order-detail", [1]),
    ("orders:purchase-order-edit", [1]),
    ("orders:purchase-order-history", [1]),
    ("orders:purchase-order-cancel", [1]),
    ("orders:overwrites", []),
    ("orders:overwrites-csv", []),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), CLERK_URLS)
def test_every_clerk_page_sends_an_anonymous_visitor_to_the_login_page(client, name, args):
    url = reverse(name, args=args)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
def test_a_post_without_login_changes_nothing_and_asks_to_log_in(client, chain):
    url = reverse("orders:sales-order-edit", args=[chain.original.pk])

    response = client.post(url, {"customer_requisition": "HACK", "version": 1})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    chain.original.refresh_from_db()
    assert chain.original.customer_requisition == "PO-7781"


@pytest.mark.django_db
def test_home_is_the_needs_attention_page(alice_client):
    response = alice_client.get("/")

    assert response.status_code == 200
    assert "Needs attention" in response.content.decode()


@pytest.mark.django_db
def test_login_page_has_labelled_fields_and_loads_nothing_from_outside(client):
    response = client.get(reverse("login"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "/static/css/app.css" in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html


@pytest.mark.django_db
def test_logging_in_lands_on_needs_attention_for_the_clerks_company(client, alice):
    response = client.post(
        reverse("login"),
        {"username": "alice", "password": "correct-horse-battery"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("alerts:needs-attention")
    assert "Alice Martin" in response.content.decode()
    assert "USMF Contoso Entertainment USA" in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_password_is_refused_in_plain_words(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logging_out_ends_the_session(alice_client):
    response = alice_client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert alice_client.get(reverse("orders:sales-order-list")).status_code == 302


@pytest.mark.django_db
def test_every_page_shows_the_company_the_clerk_acts_for(alice_client):
    html = alice_client.get(reverse("orders:purchase-order-list")).content.decode()

    assert "Acting for" in html
    assert "USMF Contoso Entertainment USA" in html


@pytest.mark.django_db
def test_an_employee_of_no_company_is_told_so(login_client):
    nobody = make_employee("nobody")

    response = login_client(nobody).get(reverse("orders:sales-order-list"))

    assert response.status_code == 403
    assert "You do not work for any company yet" in response.content.decode()


# -- the switcher -------------------------------------------------------------------------------


@pytest.fixture
def maria(usmf, demf):
    """A clerk of both USMF and DEMF."""
    return make_employee("maria", usmf, demf, first="Maria", last="Garcia")


@pytest.mark.django_db
def test_a_clerk_of_several_companies_acts_for_the_first_until_they_switch(
    login_client, maria, usmf, demf
):
    client = login_client(maria)

    html = client.get(reverse("orders:sales-order-list")).content.decode()

    assert '<select id="company-switch-select" name="company">' in html
    assert '<option value="DEMF" selected>' in html
    assert '<option value="USMF">' in html


@pytest.mark.django_db
def test_switching_company_is_remembered_for_the_session(login_client, maria, usmf, demf):
    client = login_client(maria)
    create_sales_order(employee=maria, company=usmf, customer=make_customer(usmf, "US-9"))

    response = client.post(
        reverse("orders:company-switch"),
        {"company": "USMF", "next": reverse("orders:purchase-order-list")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:purchase-order-list")
    assert client.session[SESSION_KEY] == usmf.pk
    html = client.get(reverse("orders:sales-order-list")).content.decode()
    assert '<option value="USMF" selected>' in html
    assert "USMF-SO-000001" in html


@pytest.mark.django_db
def test_switching_on_an_order_page_lands_on_the_list_of_the_new_company(
    login_client, maria, usmf, demf
):
    client = login_client(maria)
    order = create_sales_order(employee=maria, company=usmf, customer=make_customer(usmf))

    response = client.post(
        reverse("orders:company-switch"),
        {"company": "DEMF", "next": reverse("orders:sales-order-history", args=[order.pk])},
    )

    assert response["Location"] == reverse("orders:sales-order-list")


@pytest.mark.django_db
def test_switching_to_a_company_the_clerk_does_not_work_for_is_refused(
    alice_client, usmf, gbsi
):
    response = alice_client.post(reverse("orders:company-switch"), {"company": "GBSI"})

    assert response.status_code == 302
    assert alice_client.session.get(SESSION_KEY) != gbsi.pk
    html = alice_client.get(reverse("orders:sales-order-list")).content.decode()
    assert "Choose one of the companies you work for." in html
    assert "USMF Contoso Entertainment USA" in html


@pytest.mark.django_db
def test_switching_never_redirects_to_another_site(login_client, maria):
    response = login_client(maria).post(
        reverse("orders:company-switch"), {"company": "USMF", "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("orders:sales-order-list")


@pytest.mark.django_db
def test_the_switcher_only_accepts_post(login_client, maria):
    assert login_client(maria).get(reverse("orders:company-switch")).status_code == 405


@pytest.mark.django_db
def test_a_company_removed_from_the_employee_is_no_longer_current(login_client, maria, demf):
    client = login_client(maria)
    client.post(reverse("orders:company-switch"), {"company": "DEMF"}, follow=True)
    maria.companies.remove(demf)

    html = client.get(reverse("orders:sales-order-list")).content.decode()

    assert "USMF Contoso Entertainment USA" in html
    assert "DEMF" not in html

