"""Configuring trading relationships: impossible setups are refused with a clear message and
nothing is created."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from intercompany.models import Customer, TradingRelationship, Vendor
from intercompany.services import create_trading_relationship, update_trading_relationship
from tests.conftest import make_customer, make_relationship, make_vendor, run_in_threads


def configuration():
    """What an administrator would see in the admin lists."""
    return {
        "relationships": sorted(
            TradingRelationship.objects.values_list("buying_company__code", "selling_company__code")
        ),
        "vendors": sorted(Vendor.objects.values_list("company__code", "account",
                                                     "represents_company__code")),
        "customers": sorted(Customer.objects.values_list("company__code", "account",
                                                         "represents_company__code")),
        "relationship history": TradingRelationship.history.count(),
    }


def test_creating_a_relationship_creates_the_intercompany_accounts_of_both_companies(usmf, demf):
    relationship = create_trading_relationship(buying_company=usmf, selling_company=demf)

    assert (relationship.intercompany_vendor.company, relationship.intercompany_vendor.account,
            relationship.intercompany_vendor.represents_company) == (usmf, "IC-DEMF", demf)
    assert (relationship.intercompany_customer.company,
            relationship.intercompany_customer.account,
            relationship.intercompany_customer.represents_company) == (demf, "IC-USMF", usmf)
    assert str(relationship) == "USMF buys from DEMF"
    # The defaults: the buying company syncs, the selling company does not.
    assert (relationship.purchase_policy_syncs_original_sales_order,
            relationship.purchase_policy_syncs_intercompany_sales_order,
            relationship.sales_policy_syncs_intercompany_purchase_order) == (True, True, False)


def test_a_new_account_number_never_clashes_with_an_existing_account(usmf, demf):
    make_vendor(usmf, "IC-DEMF", "An ordinary vendor that happens to have this number")

    relationship = create_trading_relationship(buying_company=usmf, selling_company=demf)

    assert relationship.intercompany_vendor.account == "IC-DEMF-2"
    assert Vendor.objects.get(account="IC-DEMF").represents_company is None


def test_given_ordinary_accounts_become_the_intercompany_accounts(usmf, demf):
    vendor = make_vendor(usmf, "V-DE", "Contoso Germany")
    customer = make_customer(demf, "C-US", "Contoso USA")

    relationship = create_trading_relationship(
        buying_company=usmf, selling_company=demf,
        intercompany_vendor=vendor, intercompany_customer=customer,
    )

    assert relationship.intercompany_vendor == vendor
    assert Vendor.objects.get(pk=vendor.pk).represents_company == demf
    assert Customer.objects.get(pk=customer.pk).represents_company == usmf


def test_the_opposite_direction_is_a_separate_trade_route(usmf, demf, relationship):
    reverse = create_trading_relationship(buying_company=demf, selling_company=usmf)

    assert str(reverse) == "DEMF buys from USMF"
    assert reverse.intercompany_vendor.company == demf
    assert reverse.intercompany_vendor != relationship.intercompany_vendor


def test_a_company_cannot_trade_with_itself(usmf):
    before = configuration()

    with pytest.raises(ValidationError) as error:
        create_trading_relationship(buying_company=usmf, selling_company=usmf)

    assert error.value.message_dict == {"selling_company": ["A company cannot trade with itself."]}
    assert configuration() == before


def test_a_second_relationship_for_the_same_pair_is_refused(usmf, demf, relationship):
    before = configuration()

    with pytest.raises(ValidationError) as error:
        create_trading_relationship(
            buying_company=usmf, selling_company=demf,
            sales_policy_syncs_intercompany_purchase_order=True,
        )

    assert error.value.messages == ["USMF already has a trading relationship with DEMF."]
    assert configuration() == before
    assert TradingRelationship.objects.get().sales_policy_syncs_intercompany_purchase_order is False


@pytest.mark.parametrize("loaded", ["fresh", "before-the-change"])
def test_a_vendor_already_representing_another_company_is_refused(usmf, demf, gbsi, loaded):
    # "before-the-change": the admin's form was opened before someone made the account an
    # intercompany vendor for GBSI; the stale instance must not re-point it to DEMF.
    vendor = make_vendor(usmf, "V-GB", "Contoso UK")
    Vendor.objects.filter(pk=vendor.pk).update(represents_company=gbsi)
    if loaded == "fresh":
        vendor = Vendor.objects.get(pk=vendor.pk)
    before = configuration()

    with pytest.raises(ValidationError) as error:
        create_trading_relationship(
            buying_company=usmf, selling_company=demf, intercompany_vendor=vendor
        )

    assert error.value.message_dict == {"intercompany_vendor": [
        "Vendor V-GB already represents GBSI; an intercompany account represents one company only."
    ]}
    assert configuration() == before
    assert Vendor.objects.get(pk=vendor.pk).represents_company == gbsi


def test_a_customer_already_representing_another_company_is_refused_and_nothing_is_kept(
    usmf, demf, gbsi
):
    # The vendor is accepted (and marked) first; the customer's refusal must undo that too.
    vendor = make_vendor(usmf, "V-DE", "Contoso Germany")
    customer = make_customer(demf, "C-GB", "Contoso UK")
    Customer.objects.filter(pk=customer.pk).update(represents_company=gbsi)
    customer = Customer.objects.get(pk=customer.pk)
    before = configuration()

    with pytest.raises(ValidationError) as error:
        create_trading_relationship(
            buying_company=usmf, selling_company=demf,
            intercompany_vendor=vendor, intercompany_customer=customer,
        )

    assert error.value.message_dict == {"intercompany_customer": [
        "Customer C-GB already represents GBSI; an intercompany account represents one company "
        "only."
    ]}
    assert configuration() == before
    assert Vendor.objects.get(pk=vendor.pk).represents_company is None


def test_an_account_of_another_company_is_refused(usmf, demf):
    vendor_of_demf = make_vendor(demf, "V-X", "Somebody")
    before = configuration()

    with pytest.raises(ValidationError) as error:
        create_trading_relationship(
            buying_company=usmf, selling_company=demf, intercompany_vendor=vendor_of_demf
        )

    assert error.value.message_dict == {
        "intercompany_vendor": ["The intercompany vendor must be an account of USMF."]
    }
    assert configuration() == before


def test_a_second_account_representing_the_same_company_is_refused(usmf, demf):
    Vendor.objects.create(company=usmf, account="IC-DE", name="Contoso Germany",
                          represents_company=demf)
    other = make_vendor(usmf, "V-DE", "Contoso Germany again")
    before = configuration()

    with pytest.raises(ValidationError) as error:
        create_trading_relationship(
            buying_company=usmf, selling_company=demf, intercompany_vendor=other
        )

    assert error.value.message_dict == {
        "intercompany_vendor": ["USMF already has a vendor account representing DEMF."]
    }
    assert configuration() == before


def test_an_existing_intercompany_account_is_reused(usmf, demf):
    existing = Vendor.objects.create(
        company=usmf, account="IC-DE", name="Contoso Germany", represents_company=demf
    )

    relationship = create_trading_relationship(buying_company=usmf, selling_company=demf)

    assert relationship.intercompany_vendor == existing
    assert Vendor.objects.filter(company=usmf).count() == 1


def test_an_unknown_switch_is_refused_and_nothing_changes(admin, relationship):
    before = configuration()

    with pytest.raises(TypeError, match="Unknown switches: syncs_everything"):
        update_trading_relationship(
            relationship=relationship, employee=admin, syncs_everything=True, active=False
        )

    assert configuration() == before
    assert TradingRelationship.objects.get().active is True


# -- the model rules the admin relies on ---------------------------------------------------------


def test_the_admin_form_rules_refuse_a_company_trading_with_itself(usmf):
    vendor = make_vendor(usmf)
    customer = make_customer(usmf)
    relationship = TradingRelationship(
        buying_company=usmf, selling_company=usmf,
        intercompany_vendor=vendor, intercompany_customer=customer,
    )

    with pytest.raises(ValidationError) as error:
        relationship.full_clean()

    assert "A company cannot trade with itself." in error.value.messages


def test_the_admin_form_rules_refuse_a_second_relationship_for_the_pair(usmf, demf, relationship):
    duplicate = TradingRelationship(
        buying_company=usmf, selling_company=demf,
        intercompany_vendor=make_vendor(usmf), intercompany_customer=make_customer(demf),
    )

    with pytest.raises(ValidationError) as error:
        duplicate.full_clean()

    assert "A trading relationship between these two companies already exists." in (
        error.value.messages
    )


def test_the_admin_form_rules_refuse_an_account_representing_its_own_company(usmf):
    vendor = Vendor(company=usmf, account="V-US", name="Ourselves", represents_company=usmf)

    with pytest.raises(ValidationError) as error:
        vendor.full_clean()

    assert error.value.message_dict["represents_company"] == [
        "An account cannot represent its own company."
    ]


def test_the_admin_form_rules_refuse_a_second_intercompany_vendor_for_the_same_company(
    usmf, demf, relationship
):
    second = Vendor(company=usmf, account="V-DE2", name="Germany", represents_company=demf)

    with pytest.raises(ValidationError) as error:
        second.full_clean()

    assert "This company already has a vendor account representing that company." in (
        error.value.messages
    )


def test_the_database_refuses_a_company_trading_with_itself_even_without_the_forms(usmf):
    vendor = make_vendor(usmf)
    customer = make_customer(usmf)

    with pytest.raises(IntegrityError), transaction.atomic():
        TradingRelationship.objects.create(
            buying_company=usmf, selling_company=usmf,
            intercompany_vendor=vendor, intercompany_customer=customer,
        )

    assert TradingRelationship.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_administrators_creating_the_same_relationship_at_once_get_one_and_a_message(
    usmf, demf
):
    outcomes = []

    def work(index, barrier):
        barrier.wait()
        try:
            make_relationship(usmf, demf)
            outcomes.append("created")
        except ValidationError as error:
            outcomes.append(error.messages[0])

    errors = run_in_threads(2, work)

    assert errors == []
    assert len(outcomes) == 2 and outcomes.count("created") == 1
    (refused,) = [outcome for outcome in outcomes if outcome != "created"]
    assert refused.startswith("USMF already has a trading relationship with DEMF")
    assert TradingRelationship.objects.count() == 1
    assert Vendor.objects.count() == Customer.objects.count() == 1
