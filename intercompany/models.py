"""The configuration domain: companies, employees, customers, vendors, trading relationships.

Administrators maintain these in the admin. ``orders`` builds on them; nothing here imports
``orders``.
"""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from intercompany.history import ChangeRecord
from intercompany.switches import POLICY_FIELDS, SWITCH_BY_FIELD
from intercompany.validators import TextRulesMixin, reject_control_characters


class Company(TextRulesMixin, models.Model):
    """A legal entity of the group, e.g. ``USMF`` Contoso Entertainment USA."""

    code = models.CharField(
        max_length=8,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9]{2,8}$", "Use 2 to 8 capital letters or digits, e.g. USMF."
            )
        ],
        help_text="Short code of the legal entity, used in order numbers (e.g. USMF).",
    )
    name = models.CharField(max_length=120, validators=[reject_control_characters])

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "companies"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Employee(TextRulesMixin, AbstractUser):
    """A user who works for one or more companies and acts for one of them at a time."""

    companies = models.ManyToManyField(
        Company,
        related_name="employees",
        blank=True,
        help_text="The companies this employee works for: the orders they may see and edit.",
    )

    class Meta:
        ordering = ["username"]
        verbose_name = "employee"

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def works_for(self, company: Company) -> bool:
        return self.companies.filter(pk=company.pk).exists()


class TradingAccount(TextRulesMixin, models.Model):
    """Common shape of customer and vendor accounts: an account number within one company,
    optionally representing another company of the group (an intercompany account)."""

    company = models.ForeignKey(Company, on_delete=models.PROTECT)
    account = models.CharField(max_length=20, validators=[reject_control_characters])
    name = models.CharField(max_length=120, validators=[reject_control_characters])
    represents_company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For an intercompany account: the company of the group it represents.",
    )

    class Meta:
        abstract = True
        ordering = ["company__code", "account"]

    def __str__(self) -> str:
        return f"{self.account} {self.name}"

    @property
    def is_intercompany(self) -> bool:
        return self.represents_company_id is not None

    def clean(self) -> None:
        if self.represents_company_id and self.represents_company_id == self.company_id:
            raise ValidationError(
                {"represents_company": "An account cannot represent its own company."}
            )


class Customer(TradingAccount):
    """A customer account of a company. An intercompany customer represents a buying company."""

    class Meta(TradingAccount.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account"], name="customer_account_unique_per_company"
            ),
            models.UniqueConstraint(
                fields=["company", "represents_company"],
                condition=Q(represents_company__isnull=False),
                name="one_intercompany_customer_per_company_pair",
                violation_error_message="This company already has a customer account "
                "representing that company.",
            ),
            models.CheckConstraint(
                condition=~Q(represents_company=models.F("company")),
                name="customer_does_not_represent_own_company",
            ),
        ]


class Vendor(TradingAccount):
    """A vendor account of a company. An intercompany vendor represents a selling company."""

    class Meta(TradingAccount.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account"], name="vendor_account_unique_per_company"
            ),
            models.UniqueConstraint(
                fields=["company", "represents_company"],
                condition=Q(represents_company__isnull=False),
                name="one_intercompany_vendor_per_company_pair",
                violation_error_message="This company already has a vendor account "
                "representing that company.",
            ),
            models.CheckConstraint(
                condition=~Q(represents_company=models.F("company")),
                name="vendor_does_not_represent_own_company",
            ),
        ]


class TradingRelationship(models.Model):
    """The buying company purchases from the selling company.

    Ties the intercompany vendor (in the buyer, representing the seller) to the intercompany
    customer (in the seller, representing the buyer) and carries the customer-information
    switches of both companies' policies. Only an active relationship creates new chains and
    propagates customer information.
    """

    buying_company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="purchasing_relationships"
    )
    selling_company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="selling_relationships"
    )
    intercompany_vendor = models.OneToOneField(
        Vendor,
        on_delete=models.PROTECT,
        related_name="trading_relationship",
        help_text="The vendor account in the buying company that represents the selling company.",
    )
    intercompany_customer = models.OneToOneField(
        Customer,
        on_delete=models.PROTECT,
        related_name="trading_relationship",
        help_text="The customer account in the selling company that represents the buying "
        "company.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Only an active relationship creates intercompany orders and keeps their "
        "customer information in step. Deactivating it closes the trade route.",
    )
    # Purchase order policy of the buying company (names and help: intercompany/switches.py).
    purchase_policy_syncs_original_sales_order = models.BooleanField(
        SWITCH_BY_FIELD["purchase_policy_syncs_original_sales_order"].label,
        default=True,
        help_text=SWITCH_BY_FIELD["purchase_policy_syncs_original_sales_order"].help_text,
    )
    purchase_policy_syncs_intercompany_sales_order = models.BooleanField(
        SWITCH_BY_FIELD["purchase_policy_syncs_intercompany_sales_order"].label,
        default=True,
        help_text=SWITCH_BY_FIELD["purchase_policy_syncs_intercompany_sales_order"].help_text,
    )
    # Sales order policy of the selling company.
    sales_policy_syncs_intercompany_purchase_order = models.BooleanField(
        SWITCH_BY_FIELD["sales_policy_syncs_intercompany_purchase_order"].label,
        default=False,
        help_text=SWITCH_BY_FIELD["sales_policy_syncs_intercompany_purchase_order"].help_text,
    )

    history = HistoricalRecords(bases=[ChangeRecord])

    POLICY_FIELDS = POLICY_FIELDS

    class Meta:
        ordering = ["buying_company__code", "selling_company__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["buying_company", "selling_company"],
                name="one_trading_relationship_per_pair",
                violation_error_message="A trading relationship between these two companies "
                "already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(buying_company=models.F("selling_company")),
                name="company_does_not_trade_with_itself",
                violation_error_message="A company cannot trade with itself.",
            ),
        ]

    def __str__(self) -> str:
        state = "" if self.active else " (inactive)"
        return f"{self.buying_company.code} buys from {self.selling_company.code}{state}"

    def clean(self) -> None:
        errors = {}
        if self.buying_company_id and self.buying_company_id == self.selling_company_id:
            errors["selling_company"] = "A company cannot trade with itself."
        vendor = self.intercompany_vendor if self.intercompany_vendor_id else None
        customer = self.intercompany_customer if self.intercompany_customer_id else None
        if vendor is not None:
            if vendor.company_id != self.buying_company_id:
                errors["intercompany_vendor"] = (
                    "The intercompany vendor must be an account of the buying company."
                )
            elif vendor.represents_company_id not in (None, self.selling_company_id):
                errors["intercompany_vendor"] = (
                    f"Vendor {vendor.account} already represents {vendor.represents_company.code};"
                    " an intercompany account represents one company only."
                )
        if customer is not None:
            if customer.company_id != self.selling_company_id:
                errors["intercompany_customer"] = (
                    "The intercompany customer must be an account of the selling company."
                )
            elif customer.represents_company_id not in (None, self.buying_company_id):
                errors["intercompany_customer"] = (
                    f"Customer {customer.account} already represents "
                    f"{customer.represents_company.code}; an intercompany account represents "
                    "one company only."
                )
        if errors:
            raise ValidationError(errors)

    def policy_owner(self, field_name: str) -> Company:
        """The company whose policy a switch belongs to."""
        return SWITCH_BY_FIELD[field_name].owner(self)
