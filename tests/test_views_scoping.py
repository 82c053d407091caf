"""Clerks see and change only the orders of the companies they work for: another company's order
by URL answers 404 exactly as a missing one, and a forged POST changes nothing."""

import re

import pytest
from django.urls import reverse

from orders.models import OrderStatus, PurchaseOrder, SalesOrder

ORDER_PAGES = ["detail", "edit", "history", "cancel"]


def order_url(order, action: str) -> str:
    kind = "sales-order" if isinstance(order, SalesOrder) else "purchase-order"
    return reverse(f"orders:{kind}-{action}", args=[order.pk])


@pytest.mark.django_db
@pytest.mark.parametrize("action", ORDER_PAGES)
@pytest.mark.parametrize("which", ["original", "purchase", "mirror"])
def test_an_outsider_gets_404_for_every_page_of_another_companys_order(
    olga_client, chain, action, which
):
    order = getattr(chain, which)

    response = olga_client.get(order_url(order, action))

    assert response.status_code == 404


@pytest.mark.django_db
def test_another_companys_order_looks_exactly_like_a_missing_one(olga_client, chain):
    foreign = olga_client.get(order_url(chain.original, "detail"))
    missing = olga_client.get(reverse("orders:sales-order-detail", args=[10**9]))

    assert foreign.status_code == missing.status_code == 404
    # Same page, but for the CSRF token of the logout form (masked anew on every response).
    def page(response):
        return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)

    assert page(foreign) == page(missing)
    assert b"USMF" not in foreign.content


@pytest.mark.django_db
def test_jonas_of_demf_cannot_open_usmfs_original_sales_order(jonas_client, chain):
    assert jonas_client.get(order_url(chain.original, "detail")).status_code == 404
    assert jonas_client.get(order_url(chain.mirror, "detail")).status_code == 200


@pytest.mark.django_db
def test_a_forged_edit_of_another_companys_order_changes_nothing(olga_client, chain):
    response = olga_client.post(
        order_url(chain.original, "edit"),
        {"customer_reference": "x", "customer_requisition": "HACK",
         "version": chain.original.version},
    )

    assert response.status_code == 404
    chain.refresh()
    assert chain.original.customer_requisition == "PO-7781"
    assert chain.original.history.count() == 1


@pytest.mark.django_db
def test_a_forged_cancel_of_another_companys_order_changes_nothing(jonas_client, chain):
    response = jonas_client.post(order_url(chain.purchase, "cancel"))

    assert response.status_code == 404
    chain.refresh()
    assert chain.purchase.status == OrderStatus.OPEN


@pytest.mark.django_db
def test_a_forged_intercompany_purchase_order_on_another_companys_order_is_refused(
    jonas_client, chain
):
    response = jonas_client.post(
        reverse("orders:sales-order-intercompany-purchase-order", args=[chain.original.pk]),
        {"vendor": chain.relationship.intercompany_vendor.pk},
    )

    assert response.status_code == 404
    assert PurchaseOrder.objects.count() == 1


@pytest.mark.django_db
def test_the_lists_show_only_the_current_companys_orders(olga_client, jonas_client, chain):
    assert b"USMF-SO" not in olga_client.get(reverse("orders:sales-order-list")).content
    assert b"USMF-PO" not in olga_client.get(reverse("orders:purchase-order-list")).content
    response = jonas_client.get(reverse("orders:sales-order-list"))
    assert [o.number for o in response.context["page"].orders] == ["DEMF-SO-000001"]
    # USMF's original sales order is named (the original customer column), never linked.
    jonas_list = response.content.decode()
    assert f'href="{reverse("orders:sales-order-detail", args=[chain.original.pk])}"' \
        not in jonas_list
    assert f"of {chain.original.number}" in jonas_list


@pytest.mark.django_db
def test_the_overwrites_page_shows_only_the_current_companys_orders(
    olga_client, jonas, chain_all_on
):
    from orders.services import update_customer_information

    update_customer_information(
        order=chain_all_on.mirror, employee=jonas, customer_requisition="PO-7790"
    )

    response = olga_client.get(reverse("orders:overwrites"))
    csv_response = olga_client.get(reverse("orders:overwrites-csv"))

    assert response.context["rows"] == []
    assert b"PO-7790" not in b"".join(csv_response.streaming_content)
