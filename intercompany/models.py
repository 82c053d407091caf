"""The configuration domain: companies, employees, customers, vendors, trading relationships.

Administrators maintain these in the admin. ``orders`` builds on them; nothing here imports
``orders``.
"""

import functools
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from intercompany.history import ChangeRecord
from intercompany.switches import POLICY_FIELDS, SWITCH_BY_FIELD
from intercompany.validators import TextRulesMixin, reject_control_characters


class Company(TextRulesMixin, models.Model):
    """A legal entity of the group, e.g. ``USMF`` Contoso Entertainment USA."""

    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9]{2,8}$", _("Use 2 to 8 capital letters or digits, e.g. USMF.")
            )
        ],
        help_text=_("Short code of the legal entity, used in order numbers (e.g. USMF)."),
    )
    name = models.CharField(_("name"), max_length=120, validators=[reject_control_characters])

    class Meta:
        ordering = ["code"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def language_choices():
    return settings.LANGUAGES


def validate_time_zone(value: str) -> None:
    if value and value not in available_time_zones():
        raise ValidationError(
            _("“%(value)s” is not a time zone. Choose one such as Europe/Paris."),
            code="invalid_time_zone",
            params={"value": value},
        )


@functools.cache
def available_time_zones() -> frozenset[str]:
    """The IANA zones of this machine (read once: the lookup walks the zone files)."""
    return frozenset(zoneinfo.available_timezones())


class Employee(TextRulesMixin, AbstractUser):
    """A user who works for one or more companies and acts for one of them at a time.

    ``language`` and ``time_zone`` are the employee's own (Preferences); empty means the
    browser's language and the group's default zone (settings.TIME_ZONE).
    """

    companies = models.ManyToManyField(
        Company,
        related_name="employees",
        blank=True,
        verbose_name=_("companies"),
        help_text=_("The companies this employee works for: the orders they may see and edit."),
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        choices=language_choices,
        help_text=_("Empty: the language the browser asks for."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text=_("Dates and times are shown in this zone. Empty: the group's default zone."),
    )

    class Meta:
        ordering = ["username"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")

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

    company = models.ForeignKey(Company, on_delete=models.PROTECT, verbose_name=_("company"))
    account = models.CharField(
        _("account"), max_length=20, validators=[reject_control_characters]
    )
    name = models.CharField(_("name"), max_length=120, validators=[reject_control_characters])
    represents_company = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("represents company"),
        help_text=_("For an intercompany account: the company of the group it represents."),
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
                {"represents_company": _("An account cannot represent its own company.")}
            )


class Customer(TradingAccount):
    """A customer account of a company. An intercompany customer represents a buying company."""

    class Meta(TradingAccount.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account"], name="customer_account_unique_per_company"
            ),
            models.UniqueConstraint(
                fields=["company", "represents_company"],
                condition=Q(represents_company__isnull=False),
                name="one_intercompany_customer_per_company_pair",
                violation_error_message=_(
                    "This company already has a customer account representing that company."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(represents_company=models.F("company")),
                name="customer_does_not_represent_own_company",
            ),
        ]


class Vendor(TradingAccount):
    """A vendor account of a company. An intercompany vendor represents a selling company."""

    class Meta(TradingAccount.Meta):
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "account"], name="vendor_account_unique_per_company"
            ),
            models.UniqueConstraint(
                fields=["company", "represents_company"],
                condition=Q(represents_company__isnull=False),
                name="one_intercompany_vendor_per_company_pair",
                violation_error_message=_(
                    "This company already has a vendor account representing that company."
                ),
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
        Company, on_delete=models.PROTECT, related_name="purchasing_relationships",
        verbose_name=_("buying company"),
    )
    selling_company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="selling_relationships",
        verbose_name=_("selling company"),
    )
    intercompany_vendor = models.OneToOneField(
        Vendor,
        on_delete=models.PROTECT,
        related_name="trading_relationship",
        verbose_name=_("intercompany vendor"),
        help_text=_(
            "The vendor account in the buying company that represents the selling company."
        ),
    )
    intercompany_customer = models.OneToOneField(
        Customer,
        on_delete=models.PROTECT,
        related_name="trading_relationship",
        verbose_name=_("intercompany customer"),
        help_text=_(
            "The customer account in the selling company that represents the buying company."
        ),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_(
            "Only an active relationship creates intercompany orders and keeps their customer "
            "information in step. Deactivating it closes the trade route."
        ),
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
        verbose_name = _("trading relationship")
        verbose_name_plural = _("trading relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["buying_company", "selling_company"],
                name="one_trading_relationship_per_pair",
                violation_error_message=_(
                    "A trading relationship between these two companies already exists."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(buying_company=models.F("selling_company")),
                name="company_does_not_trade_with_itself",
                violation_error_message=_("A company cannot trade with itself."),
            ),
        ]

    def __str__(self) -> str:
        values = {"buyer": self.buying_company.code, "seller": self.selling_company.code}
        if self.active:
            return _("%(buyer)s buys from %(seller)s") % values
        return _("%(buyer)s buys from %(seller)s (inactive)") % values

    def clean(self) -> None:
        errors = {}
        if self.buying_company_id and self.buying_company_id == self.selling_company_id:
            errors["selling_company"] = _("A company cannot trade with itself.")
        vendor = self.intercompany_vendor if self.intercompany_vendor_id else None
        customer = self.intercompany_customer if self.intercompany_customer_id else None
        if vendor is not None:
            if vendor.company_id != self.buying_company_id:
                errors["intercompany_vendor"] = _(
                    "The intercompany vendor must be an account of the buying company."
                )
            elif vendor.represents_company_id not in (None, self.selling_company_id):
                errors["intercompany_vendor"] = _(
                    "Vendor %(account)s already represents %(company)s; an intercompany account "
                    "represents one company only."
                ) % {"account": vendor.account, "company": vendor.represents_company.code}
        if customer is not None:
            if customer.company_id != self.selling_company_id:
                errors["intercompany_customer"] = _(
                    "The intercompany customer must be an account of the selling company."
                )
            elif customer.represents_company_id not in (None, self.buying_company_id):
                errors["intercompany_customer"] = _(
                    "Customer %(account)s already represents %(company)s; an intercompany "
                    "account represents one company only."
                ) % {"account": customer.account, "company": customer.represents_company.code}
        if errors:
            raise ValidationError(errors)

    def policy_owner(self, field_name: str) -> Company:
        """The company whose policy a switch belongs to."""
        return SWITCH_BY_FIELD[field_name].owner(self)
