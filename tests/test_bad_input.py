"""Bad customer information is refused with a message naming the field, and nothing is saved:
no order, no copy, no history row."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from orders.services import (
    create_purchase_order,
    create_sales_order,
    update_customer_information,
)
from tests.conftest import EVERY_SWITCH_ON, make_relationship, make_three_legged_chain, order_state

LABELS = {
    "customer_reference": "Customer reference",
    "customer_requisition": "Customer requisition",
}
LIMITS = {"customer_reference": 60, "customer_requisition": 40}

BAD_TEXT = {
    "NUL": "PO\x007781",
    "tab": "PO\t7781",
    "line feed": "PO\n7781",
    "carriage return": "PO\r7781",
    "escape": "PO\x1b[31m7781",
    "line separator": "PO\u20287781",
    "paragraph separator": "PO\u20297781",
    "lone surrogate": "PO\ud8007781",
    "delete": "PO\x7f7781",
}
NOT_TEXT = {
    "int": 7781,
    "float": 77.81,
    "bool": True,
    "bytes": b"PO-7781",
    "list": ["PO-7781"],
    "dict": {"number": "PO-7781"},
}


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_reference="Fabrikam", customer_requisition="PO-7781",
    )


def refused(field, value, call):
    """Call ``call`` with ``{field: value}``; return the messages of the ValidationError for
    ``field`` after checking that it is the only field named."""
    with pytest.raises(ValidationError) as error:
        call(**{field: value})
    assert set(error.value.message_dict) == {field}
    return error.value.message_dict[field]


@pytest.mark.parametrize("field", list(LABELS))
@pytest.mark.parametrize("edited", ["original", "purchase", "mirror"])
@pytest.mark.parametrize("kind", list(BAD_TEXT), ids=list(BAD_TEXT))
def test_control_characters_are_refused_naming_the_field_and_nothing_is_saved(
    chain, alice, jonas, field, edited, kind
):
    before = order_state()
    clerk = jonas if edited == "mirror" else alice

    def edit(**values):
        update_customer_information(order=chain.order(edited), employee=clerk, **values)

    (message,) = refused(field, BAD_TEXT[kind], edit)

    assert message.startswith(f"{LABELS[field]}: Control characters")
    assert order_state() == before


@pytest.mark.parametrize("field", list(LABELS))
@pytest.mark.parametrize("kind", list(NOT_TEXT), ids=list(NOT_TEXT))
def test_a_value_that_is_not_text_is_refused_naming_the_field(chain, alice, field, kind):
    before = order_state()

    def edit(**values):
        update_customer_information(order=chain.original, employee=alice, **values)

    assert refused(field, NOT_TEXT[kind], edit) == [f"{LABELS[field]} must be text."]
    assert order_state() == before


@pytest.mark.parametrize("field", list(LABELS))
def test_a_value_one_character_too_long_is_refused_naming_the_field_and_the_limit(
    chain, jonas, field
):
    before = order_state()
    limit = LIMITS[field]

    def edit(**values):
        update_customer_information(order=chain.mirror, employee=jonas, **values)

    assert refused(field, "x" * (limit + 1), edit) == [
        f"{LABELS[field]} is {limit + 1} characters long; at most {limit} are allowed."
    ]
    assert order_state() == before


@pytest.mark.parametrize("field", list(LABELS))
def test_a_value_of_exactly_the_limit_is_saved_and_copied(chain, jonas, field):
    value = "é" * (LIMITS[field] - 1) + "😀"

    update_customer_information(order=chain.mirror, employee=jonas, **{field: value})

    assert chain.values(field) == dict.fromkeys(chain.ROLES, value)


def test_surrounding_spaces_are_trimmed_before_saving_and_copying(chain, alice):
    update_customer_information(order=chain.original, employee=alice,
                                customer_requisition="   PO-7790  ")

    assert chain.values() == dict.fromkeys(chain.ROLES, "PO-7790")


def test_spaces_do_not_count_toward_the_limit(chain, alice):
    value = " " + "x" * 40 + " "

    update_customer_information(order=chain.original, employee=alice, customer_requisition=value)

    assert chain.values() == dict.fromkeys(chain.ROLES, "x" * 40)


def test_none_clears_the_value_everywhere(chain, alice):
    update_customer_information(order=chain.original, employee=alice, customer_requisition=None)

    assert chain.values() == dict.fromkeys(chain.ROLES, "")
    assert chain.values("customer_reference") == dict.fromkeys(chain.ROLES, "Fabrikam")


def test_one_bad_field_keeps_the_good_one_from_being_saved_too(chain, alice):
    before = order_state()

    with pytest.raises(ValidationError) as error:
        update_customer_information(
            order=chain.original, employee=alice,
            customer_reference="Fabrikam autumn", customer_requisition="PO\n7790",
        )

    assert set(error.value.message_dict) == {"customer_requisition"}
    assert order_state() == before


def test_both_fields_bad_are_both_reported(chain, alice):
    with pytest.raises(ValidationError) as error:
        update_customer_information(
            order=chain.original, employee=alice,
            customer_reference="x" * 61, customer_requisition=42,
        )

    assert error.value.message_dict == {
        "customer_reference": ["Customer reference is 61 characters long; at most 60 are allowed."],
        "customer_requisition": ["Customer requisition must be text."],
    }


@pytest.mark.parametrize("field", list(LABELS))
def test_a_new_sales_order_with_bad_customer_information_is_not_created(
    alice, usmf, external_customer, field
):
    before = order_state()

    def create(**values):
        create_sales_order(employee=alice, company=usmf, customer=external_customer, **values)

    refused(field, "PO\x1b7781", create)
    refused(field, "x" * 200, create)
    refused(field, 7781, create)
    assert order_state() == before


@pytest.mark.parametrize("field", list(LABELS))
def test_a_new_intercompany_order_with_bad_customer_information_creates_no_chain(
    alice, jonas, usmf, demf, relationship, field
):
    before = order_state()

    def create_purchase(**values):
        create_purchase_order(
            employee=alice, company=usmf, vendor=relationship.intercompany_vendor, **values
        )

    def create_sales(**values):
        create_sales_order(
            employee=jonas, company=demf, customer=relationship.intercompany_customer, **values
        )

    refused(field, "PO\u20287781", create_purchase)
    refused(field, "PO\x007781", create_sales)
    assert order_state() == before
