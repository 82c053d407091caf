"""Create and edit forms, the message after a save, the stale-form refusal, and cancelling."""

import pytest
from django.urls import reverse

from intercompany.services import update_trading_relationship
from orders.models import OrderStatus, PurchaseOrder, SalesOrder
from orders.services import update_customer_information
from tests.conftest import make_customer, make_relationship, make_vendor

SO_CREATE = reverse("orders:sales-order-create")
PO_CREATE = reverse("orders:purchase-order-create")


def edit_url(order) -> str:
    kind = "sales-order" if isinstance(order, SalesOrder) else "purchase-order"
    return reverse(f"orders:{kind}-edit", args=[order.pk])


def detail_url(order) -> str:
    kind = "sales-order" if isinstance(order, SalesOrder) else "purchase-order"
    return reverse(f"orders:{kind}-detail", args=[order.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# -- create -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_create_form_labels_fields_in_the_trades_words(alice_client, external_customer):
    response = alice_client.get(SO_CREATE)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_customer_reference">Customer reference</label>' in html
    assert '<label for="id_customer_requisition">Customer requisition</label>' in html
    assert '<label for="id_customer">Customer</label>' in html
    assert "US-001 Fabrikam Retail" in html


@pytest.mark.django_db
def test_the_create_form_offers_only_the_current_companys_customers(
    alice_client, external_customer, demf
):
    make_customer(demf, "DE-001", "Tailspin Toys")

    html = alice_client.get(SO_CREATE).content.decode()

    assert "Fabrikam Retail" in html
    assert "Tailspin Toys" not in html


@pytest.mark.django_db
def test_creating_a_sales_order_saves_it_and_opens_it_with_a_message(
    alice_client, alice, usmf, external_customer
):
    response = alice_client.post(
        SO_CREATE,
        {
            "company": "USMF",
            "customer": external_customer.pk,
            "customer_reference": "  Spring fair ",
            "customer_requisition": "PO-1",
        },
        follow=True,
    )

    order = SalesOrder.objects.get()
    assert (order.company, order.customer) == (usmf, external_customer)
    assert (order.customer_reference, order.customer_requisition) == ("Spring fair", "PO-1")
    assert order.customer_requisition_set_by == alice
    assert response.redirect_chain[-1][0] == detail_url(order)
    assert messages_of(response) == [
        f'Created sales order <a href="{detail_url(order)}">USMF-SO-000001</a>.'
    ]


@pytest.mark.django_db
def test_a_sales_order_to_an_intercompany_customer_links_to_both_new_orders(
    jonas_client, jonas, usmf, demf, relationship
):
    response = jonas_client.post(
        SO_CREATE,
        {"company": "DEMF", "customer": relationship.intercompany_customer.pk,
         "customer_requisition": "R-1"},
        follow=True,
    )

    order = SalesOrder.objects.get(company=demf)
    purchase = PurchaseOrder.objects.get(company=usmf)
    assert order.intercompany_purchase_order == purchase
    # Jonas does not work for USMF: the new purchase order is named, not linked.
    assert messages_of(response) == [
        f'Created intercompany sales order <a href="{detail_url(order)}">DEMF-SO-000001</a> and '
        "intercompany purchase order USMF-PO-000001."
    ]


@pytest.mark.django_db
def test_a_purchase_order_to_an_intercompany_vendor_creates_the_intercompany_sales_order(
    login_client, usmf, demf, relationship
):
    from tests.conftest import make_employee

    both = make_employee("maria", usmf, demf)
    client = login_client(both)
    client.post(reverse("orders:company-switch"), {"company": "USMF"}, follow=True)

    response = client.post(
        PO_CREATE,
        {"company": "USMF", "vendor": relationship.intercompany_vendor.pk,
         "customer_reference": "Ref"},
        follow=True,
    )

    purchase = PurchaseOrder.objects.get()
    mirror = SalesOrder.objects.get()
    assert mirror.intercompany_purchase_order == purchase
    assert mirror.customer_reference == "Ref"
    assert messages_of(response) == [
        f'Created intercompany purchase order <a href="{detail_url(purchase)}">USMF-PO-000001'
        f'</a> and intercompany sales order <a href="{detail_url(mirror)}">DEMF-SO-000001</a>.'
    ]


@pytest.mark.django_db
def test_a_plain_purchase_order_is_created(alice_client, usmf):
    vendor = make_vendor(usmf, "V-1", "Litware")

    response = alice_client.post(
        PO_CREATE, {"company": "USMF", "vendor": vendor.pk, "customer_requisition": "X"}
    )

    order = PurchaseOrder.objects.get()
    assert response["Location"] == detail_url(order)
    assert order.vendor == vendor and order.chain_id is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * 41, "Customer requisition is too long: at most 40 characters (it has 41)."),
        ("PO\t7781", "Control characters (such as tabs, line breaks or U+0009) are not allowed."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_in_plain_words(
    alice_client, external_customer, value, message
):
    response = alice_client.post(
        SO_CREATE,
        {"company": "USMF", "customer": external_customer.pk, "customer_requisition": value},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"customer_requisition": [message]}
    html = response.content.decode()
    assert '<ul class="field__errors" id="id_customer_requisition_error">\n      <li>' in html
    assert 'aria-invalid="true"' in html
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_a_missing_customer_is_refused(alice_client, external_customer):
    response = alice_client.post(SO_CREATE, {"company": "USMF", "customer": ""})

    assert response.context["form"].errors == {"customer": ["Choose the customer."]}
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_a_forged_post_naming_another_companys_customer_is_refused(
    alice_client, external_customer, demf
):
    foreign = make_customer(demf, "DE-001", "Tailspin Toys")

    response = alice_client.post(SO_CREATE, {"company": "USMF", "customer": foreign.pk})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "customer": ["Choose one of the customers of USMF."]
    }
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_a_forged_post_naming_another_companys_vendor_is_refused(alice_client, usmf, demf):
    foreign = make_vendor(demf, "DV-1")

    response = alice_client.post(PO_CREATE, {"company": "USMF", "vendor": foreign.pk})

    assert response.context["form"].errors == {"vendor": ["Choose one of the vendors of USMF."]}
    assert not PurchaseOrder.objects.exists()


@pytest.mark.django_db
def test_a_form_opened_for_another_company_is_not_saved_for_the_current_one(
    alice_client, external_customer
):
    response = alice_client.post(
        SO_CREATE, {"company": "DEMF", "customer": external_customer.pk}
    )

    assert "This form was opened for DEMF, but you now act for USMF." in (
        response.content.decode()
    )
    assert not SalesOrder.objects.exists()


@pytest.mark.django_db
def test_an_inactive_relationship_refuses_the_order_with_the_reason(
    jonas_client, relationship
):
    update_trading_relationship(relationship=relationship, employee=None, active=False)

    response = jonas_client.post(
        SO_CREATE, {"company": "DEMF", "customer": relationship.intercompany_customer.pk}
    )

    assert response.status_code == 200
    assert "is inactive: no intercompany order can be created on it" in (
        response.content.decode()
    )
    assert not SalesOrder.objects.exists()


# -- edit ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_edit_form_shows_the_current_values_and_the_version(alice_client, chain):
    response = alice_client.get(edit_url(chain.original))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="PO-7781"' in html
    assert f'<input type="hidden" name="version" value="{chain.original.version}"' in html
    assert '<label for="id_customer_requisition">Customer requisition</label>' in html
    assert "set by Alice Martin (USMF)" in html


@pytest.mark.django_db
def test_saving_says_where_the_change_was_copied(alice_client, chain):
    response = alice_client.post(
        edit_url(chain.original),
        {"customer_reference": "Fabrikam spring", "customer_requisition": "PO-7782",
         "version": chain.original.version},
        follow=True,
    )

    chain.refresh()
    assert response.redirect_chain[-1][0] == detail_url(chain.original)
    assert messages_of(response) == [
        "USMF-SO-000001 saved. Copied to USMF-PO-000001 and DEMF-SO-000001."
    ]
    assert [o.customer_requisition for o in (chain.original, chain.purchase, chain.mirror)] == [
        "PO-7782", "PO-7782", "PO-7782"
    ]


@pytest.mark.django_db
def test_saving_says_what_was_not_copied_and_which_switch_is_off(jonas_client, chain):
    response = jonas_client.post(
        edit_url(chain.mirror),
        {"customer_reference": "Fabrikam spring", "customer_requisition": "PO-7790",
         "version": chain.mirror.version},
        follow=True,
    )

    assert messages_of(response) == [
        "DEMF-SO-000001 saved. Not copied to USMF-PO-000001: the sales order policy of DEMF "
        "has “Customer information, intercompany purchase order ↔ intercompany sales order” "
        "switched off."
    ]
    chain.refresh()
    assert chain.purchase.customer_requisition == "PO-7781"


@pytest.mark.django_db
def test_saving_an_order_outside_any_chain_says_there_is_nothing_to_copy(
    alice_client, alice, usmf, external_customer
):
    from orders.services import create_sales_order

    order = create_sales_order(employee=alice, company=usmf, customer=external_customer)

    response = alice_client.post(
        edit_url(order), {"customer_reference": "A", "version": order.version}, follow=True
    )

    assert messages_of(response) == [
        "USMF-SO-000001 saved. Not part of an intercompany chain: nothing to copy."
    ]


@pytest.mark.django_db
def test_a_bad_value_is_refused_next_to_the_field_and_nothing_is_saved(alice_client, chain):
    response = alice_client.post(
        edit_url(chain.original),
        {"customer_reference": "r" * 61, "customer_requisition": "PO-1",
         "version": chain.original.version},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "customer_reference": [
            "Customer reference is too long: at most 60 characters (it has 61)."
        ]
    }
    chain.refresh()
    assert chain.original.customer_requisition == "PO-7781"


@pytest.mark.django_db
def test_a_tampered_version_is_refused_in_plain_words(alice_client, chain):
    response = alice_client.post(
        edit_url(chain.original), {"customer_requisition": "PO-1", "version": "abc"}
    )

    assert response.status_code == 200
    assert "This form is incomplete or damaged. Open the order again and redo the change." in (
        response.content.decode()
    )
    chain.refresh()
    assert chain.original.customer_requisition == "PO-7781"


@pytest.mark.django_db
def test_a_form_opened_before_another_companys_change_is_refused_with_the_current_values(
    alice_client, jonas, chain_all_on
):
    chain = chain_all_on
    opened_at = chain.original.version
    # DEMF changes the intercompany sales order; the copy reaches the original sales order.
    update_customer_information(order=chain.mirror, employee=jonas, customer_requisition="PO-7790")

    response = alice_client.post(
        edit_url(chain.original),
        {"customer_reference": "Fabrikam spring", "customer_requisition": "PO-7799",
         "version": opened_at},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Not saved: USMF-SO-000001 was changed after you opened this form." in html
    # The current value and who set it:
    assert '<span class="value" data-testid="customer-requisition">PO-7790</span>' in html
    assert "set by Jonas Weber (DEMF)" in html
    assert "copied from intercompany sales order DEMF-SO-000001" in html
    # The clerk's own input is kept, and the form now carries the current version.
    assert 'value="PO-7799"' in html
    chain.refresh()
    assert f'name="version" value="{chain.original.version}"' in html
    assert chain.original.customer_requisition == "PO-7790"

    again = alice_client.post(
        edit_url(chain.original),
        {"customer_reference": "Fabrikam spring", "customer_requisition": "PO-7799",
         "version": chain.original.version},
    )

    assert again.status_code == 302
    chain.refresh()
    assert chain.original.customer_requisition == "PO-7799"


@pytest.mark.django_db
def test_a_form_opened_before_a_colleagues_change_is_refused(login_client, alice, chain, usmf):
    from tests.conftest import make_employee

    colleague = make_employee("bob", usmf, first="Bob", last="Stone")
    opened_at = chain.original.version
    update_customer_information(
        order=chain.original, employee=colleague, customer_reference="Bob's reference"
    )

    response = login_client(alice).post(
        edit_url(chain.original),
        {"customer_reference": "Mine", "customer_requisition": "PO-7781", "version": opened_at},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Bob&#x27;s reference" in html and "set by Bob Stone (USMF)" in html
    chain.refresh()
    assert chain.original.customer_reference == "Bob's reference"


# -- cancel -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_asks_first_then_cancels(alice_client, chain):
    url = reverse("orders:sales-order-cancel", args=[chain.original.pk])

    confirm = alice_client.get(url)
    assert confirm.status_code == 200
    assert "Cancel USMF-SO-000001?" in confirm.content.decode()
    chain.refresh()
    assert chain.original.status == OrderStatus.OPEN

    response = alice_client.post(url, follow=True)

    chain.refresh()
    assert chain.original.status == OrderStatus.CANCELLED
    assert chain.purchase.status == OrderStatus.OPEN
    assert messages_of(response)[0].startswith("USMF-SO-000001 is cancelled.")
    assert "USMF-SO-000001 is cancelled" in response.content.decode()


@pytest.mark.django_db
def test_a_cancelled_order_can_no_longer_be_sourced(alice_client, alice, chain):
    from orders.services import cancel_order

    cancel_order(order=chain.original, employee=alice)

    html = alice_client.get(detail_url(chain.original)).content.decode()

    assert "Create intercompany purchase order" not in html
    assert "Cancel order" not in html


@pytest.mark.django_db
def test_the_create_page_of_purchase_orders_names_vendors(alice_client, usmf, demf):
    make_relationship(usmf, demf)

    html = alice_client.get(PO_CREATE).content.decode()

    assert '<label for="id_vendor">Vendor</label>' in html
    assert "IC-DEMF Contoso Germany (intercompany: DEMF)" in html
