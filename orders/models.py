"""Sales and purchase orders, and the chain that ties intercompany orders together.

The links of a chain:

- ``PurchaseOrder.origin_sales_order``: the (original or intercompany) sales order an
  intercompany purchase order was created from;
- ``SalesOrder.intercompany_purchase_order``: the intercompany purchase order an intercompany
  sales order mirrors (one to one);
- ``PurchaseOrder.trading_relationship``: whose switches govern both links of that purchase order.

Every order of a chain points to the same ``OrderChain`` row: the lock every writer takes first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.models import HistoricalRecords

from intercompany.history import ChangeKind, ChangeRecord, SourceOrder
from intercompany.models import Company, Customer, TradingRelationship, Vendor

# The original customer (account and name as in the original company) is customer information
# like the two fields clerks type: it travels along the chain on the same switched-on edges. It
# is set only on a sales order that is not an intercompany one (its own customer), and moves
# outward from there.
ORIGINAL_CUSTOMER_FIELDS = ("original_customer_account", "original_customer_name")
# The fields clerks type on any order: the only ones one company can overwrite for another (the
# original customer is always set for the original sales order's company, copies included).
TYPED_CUSTOMER_INFORMATION_FIELDS = ("customer_reference", "customer_requisition")
CUSTOMER_INFORMATION_FIELDS = (*TYPED_CUSTOMER_INFORMATION_FIELDS, *ORIGINAL_CUSTOMER_FIELDS)
CUSTOMER_REFERENCE_MAX_LENGTH = 60
CUSTOMER_REQUISITION_MAX_LENGTH = 40
ORIGINAL_CUSTOMER_ACCOUNT_MAX_LENGTH = 20
ORIGINAL_CUSTOMER_NAME_MAX_LENGTH = 120


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CANCELLED = "cancelled", _("Cancelled")


class OrderType(models.TextChoices):
    SALES = "sales", _("sales order")
    PURCHASE = "purchase", _("purchase order")



class OrderChain(models.Model):
    """The orders of one trade across companies. Its row is the chain's lock."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("order chain")
        verbose_name_plural = _("order chains")

    def __str__(self) -> str:
        return _("Chain %(number)s") % {"number": self.pk}


class NumberSequence(models.Model):
    """The last number handed out per company and document type (locked while numbering)."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, verbose_name=_("company"))
    document = models.CharField(
        _("document"),
        max_length=2,
        choices=[("SO", _("Sales order")), ("PO", _("Purchase order"))],
    )
    last_value = models.PositiveBigIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "document"], name="one_sequence_per_document"
            )
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.document} {self.last_value}"


class OrderChangeRecord(ChangeRecord):
    """Extra history columns of orders: for a synced copy, the order the value came from."""

    history_source_type = models.CharField(
        _("source order type"), max_length=10, choices=OrderType.choices, blank=True, default=""
    )
    history_source_id = models.BigIntegerField(_("source order id"), null=True, blank=True)
    history_source_number = models.CharField(
        _("copied from"), max_length=30, blank=True, default=""
    )
    history_source_role = models.CharField(
        _("source order role"), max_length=40, blank=True, default=""
    )
    history_source_company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
        verbose_name=_("source company"),
    )

    class Meta:
        abstract = True


class Order(models.Model):
    """What sales and purchase orders share: number, customer information, who set it, status.

    ``customer_*_set_by`` / ``customer_*_set_for`` name the employee and company whose value the
    field holds now: a copy keeps the original editor. ``version`` grows with every write, so a
    form opened before someone else's change is refused instead of erasing it.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, verbose_name=_("company"))
    number = models.CharField(_("number"), max_length=30, editable=False)
    customer_reference = models.CharField(
        _("Customer reference"), max_length=CUSTOMER_REFERENCE_MAX_LENGTH, blank=True, default=""
    )
    customer_requisition = models.CharField(
        _("Customer requisition"),
        max_length=CUSTOMER_REQUISITION_MAX_LENGTH,
        blank=True,
        default="",
        help_text=_("The customer's purchase order number."),
    )
    customer_reference_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False, verbose_name=_("customer reference set by"),
    )
    customer_reference_set_for = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name=_("customer reference set for"),
    )
    customer_requisition_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False, verbose_name=_("customer requisition set by"),
    )
    customer_requisition_set_for = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False, verbose_name=_("customer requisition set for"),
    )
    original_customer_account = models.CharField(
        _("Original customer account"), max_length=ORIGINAL_CUSTOMER_ACCOUNT_MAX_LENGTH,
        blank=True, default="", editable=False,
        help_text=_("The customer account of the original sales order, as in its company."),
    )
    original_customer_name = models.CharField(
        _("Original customer name"), max_length=ORIGINAL_CUSTOMER_NAME_MAX_LENGTH,
        blank=True, default="", editable=False,
    )
    original_customer_account_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    original_customer_account_set_for = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    original_customer_name_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    original_customer_name_set_for = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )
    # Which sales order the chain started from (Dynamics 365: InterCompanyOriginalSalesId). Part
    # of the chain's shape, set when the order is created and never changed: shown on every leg
    # whatever the switches. Empty on the original sales order itself and on chains that began
    # with a purchase order or with a sale to an intercompany customer.
    original_sales_order = models.ForeignKey(
        "SalesOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        editable=False, verbose_name=_("original sales order"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    chain = models.ForeignKey(
        OrderChain, null=True, blank=True, on_delete=models.PROTECT, editable=False,
        verbose_name=_("chain"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False, verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    order_type: str  # set by subclasses

    class Meta:
        abstract = True
        ordering = ["company__code", "-number"]
        # The clerk lists (orders/selectors.py) sort by these columns and page by key, so each
        # sort reads one range of one index: (company, value, id). The number needs none beyond
        # the unique (company, number). Cancelled orders are few: their own small index serves
        # the status filter, where the number index would be walked past every open order.
        # The trigram indexes of the search are PostgreSQL-only (migration 0007).
        indexes = [
            models.Index(
                fields=["company", "customer_reference", "id"], name="%(class)s_ref_sort"
            ),
            models.Index(
                fields=["company", "customer_requisition", "id"], name="%(class)s_req_sort"
            ),
            models.Index(fields=["company", "updated_at", "id"], name="%(class)s_changed_sort"),
            models.Index(
                fields=["company", "number"],
                condition=models.Q(status="cancelled"),
                name="%(class)s_cancelled",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        # The edit and every copy the sync makes from it (post_save) land together or not at
        # all, even when a caller saves outside a transaction. No savepoint: a failure rolls
        # back the caller's transaction as well, so nothing is left half-synced.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        # **kwargs: Django 6.1 passes fetch_mode; 5.2 passes nothing.
        instance = super().from_db(db, field_names, values, **kwargs)
        # Remember the values as loaded: the sync copies only what an edit changed.
        instance.remember_loaded_values()
        return instance

    def remember_loaded_values(self) -> None:
        self._loaded_customer_information = {
            name: self.__dict__.get(name) for name in CUSTOMER_INFORMATION_FIELDS
        }
        # Whose values they were: what an edit replaces, for the overwrite records.
        self._loaded_setters = {
            name: (
                self.__dict__.get(f"{name}_set_by_id"),
                self.__dict__.get(f"{name}_set_for_id"),
            )
            for name in CUSTOMER_INFORMATION_FIELDS
        }

    def customer_information_state(self) -> dict[str, tuple]:
        """{field: (value, set_by_id, set_for_id)} as this instance holds them now."""
        return {
            name: (
                getattr(self, name),
                getattr(self, f"{name}_set_by_id"),
                getattr(self, f"{name}_set_for_id"),
            )
            for name in CUSTOMER_INFORMATION_FIELDS
        }

    def loaded_customer_information_state(self) -> dict[str, tuple]:
        """The same, as loaded from the database (or last written)."""
        loaded = getattr(self, "_loaded_customer_information", None)
        if loaded is None:
            return {}
        return {
            name: (loaded[name], *self._loaded_setters[name]) for name in loaded
        }

    @property
    def original_customer(self) -> str:
        """The original customer as shown: "US-0001 Fabrikam, Inc.", or "" when unknown."""
        return " ".join(
            part for part in (self.original_customer_account, self.original_customer_name) if part
        )

    @property
    def is_cancelled(self) -> bool:
        return self.status == OrderStatus.CANCELLED

    @property
    def node(self) -> tuple[str, int]:
        """A key that names this order among the orders of every company and table."""
        return (self.order_type, self.pk)

    @property
    def source_reference(self):
        return SourceOrder(self.order_type, self.pk, self.number, self.company_id, self.role)


class SalesOrder(Order):
    order_type = OrderType.SALES

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="sales_orders",
        verbose_name=_("customer"),
    )
    intercompany_purchase_order = models.OneToOneField(
        "PurchaseOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="intercompany_sales_order",
        editable=False,
        verbose_name=_("intercompany purchase order"),
        help_text=_(
            "For an intercompany sales order: the intercompany purchase order it mirrors."
        ),
    )

    history = HistoricalRecords(bases=[OrderChangeRecord])

    class Meta(Order.Meta):
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="sales_order_number_unique")
        ]

    @property
    def is_intercompany(self) -> bool:
        return self.intercompany_purchase_order_id is not None

    @property
    def is_original(self) -> bool:
        """A sales order to an end customer: where the original customer is set."""
        return not self.is_intercompany

    @property
    def customer_may_change(self) -> bool:
        """An open sales order that is not an intercompany one (whose customer is the
        intercompany customer by definition) may change customer."""
        return not self.is_cancelled and self.is_original

    def take_customer_as_original_customer(self) -> None:
        """Make the customer the original customer (account and name as in this company)."""
        self.original_customer_account = self.customer.account
        self.original_customer_name = self.customer.name

    @property
    def role(self) -> str:
        """In English: it is stored in the history (the order a copy came from). Translated
        where shown: ``gettext(order.role)``, ``{% translate order.role %}``."""
        if self.is_intercompany:
            return gettext_noop("intercompany sales order")
        # A sales order that joined a chain without mirroring a purchase order sources from one.
        if self.chain_id:
            return gettext_noop("original sales order")
        return gettext_noop("sales order")


class PurchaseOrder(Order):
    order_type = OrderType.PURCHASE

    vendor = models.ForeignKey(
        Vendor, on_delete=models.PROTECT, related_name="purchase_orders",
        verbose_name=_("vendor"),
    )
    origin_sales_order = models.ForeignKey(
        SalesOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="intercompany_purchase_orders",
        editable=False,
        verbose_name=_("origin sales order"),
        help_text=_("The sales order this intercompany purchase order was created from."),
    )
    trading_relationship = models.ForeignKey(
        TradingRelationship,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        editable=False,
        verbose_name=_("trading relationship"),
    )

    history = HistoricalRecords(bases=[OrderChangeRecord])

    class Meta(Order.Meta):
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], name="purchase_order_number_unique"
            )
        ]

    @property
    def is_intercompany(self) -> bool:
        return self.trading_relationship_id is not None

    @property
    def role(self) -> str:
        if self.is_intercompany:
            return gettext_noop("intercompany purchase order")
        return gettext_noop("purchase order")


ORDER_MODELS = {OrderType.SALES: SalesOrder, OrderType.PURCHASE: PurchaseOrder}


class OverwriteRecord(models.Model):
    """One cross-company overwrite, stored when it happens, in the transaction of the edit or
    synced copy that made it.

    The definition (``orders/history.py``): on one order and one customer-information field, a
    non-empty value set for one company is replaced by a different value set for another company
    (both setter companies known). The row keeps both sides, how the new value came (edited on
    this order, or copied from another order of the chain) and the history row it belongs to.

    Orders are named by plain values (type, id, number), as in the history: a record outlives
    links. Employee columns carry no database constraint and keep the id of a deleted employee,
    as the history does ("former employee").
    """

    order_type = models.CharField(_("order type"), max_length=10, choices=OrderType.choices)
    order_id = models.BigIntegerField(_("order id"))
    order_number = models.CharField(_("order"), max_length=30)
    order_company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    field = models.CharField(_("field"), max_length=40)
    old_value = models.TextField(_("old value"))
    old_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("old value set by"),
    )
    old_set_for = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("old value set for")
    )
    new_value = models.TextField(_("new value"))
    new_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("new value set by"),
    )
    new_set_for = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="+", verbose_name=_("new value set for")
    )
    at = models.DateTimeField(_("when"))
    kind = models.CharField(_("kind"), max_length=10, choices=ChangeKind.choices)
    source_type = models.CharField(
        _("source order type"), max_length=10, choices=OrderType.choices, blank=True, default=""
    )
    source_id = models.BigIntegerField(_("source order id"), null=True, blank=True)
    source_number = models.CharField(_("copied from"), max_length=30, blank=True, default="")
    source_role = models.CharField(_("source order role"), max_length=40, blank=True, default="")
    history_id = models.BigIntegerField(
        _("history row"), help_text=_("The history row of the order that made this overwrite.")
    )

    class Meta:
        verbose_name = _("overwrite record")
        verbose_name_plural = _("overwrite records")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_type", "history_id", "field"], name="one_overwrite_per_change"
            )
        ]
        indexes = [
            # The Overwrites page of a company, newest first, optionally within dates.
            models.Index(fields=["order_company", "-at", "-id"], name="overwrite_company_at"),
            # ... filtered on the other company (whose value was replaced, or who replaced it).
            models.Index(
                fields=["order_company", "old_set_for", "-at", "-id"],
                name="overwrite_company_old_for",
            ),
            models.Index(
                fields=["order_company", "new_set_for", "-at", "-id"],
                name="overwrite_company_new_for",
            ),
            # ... filtered on one field.
            models.Index(
                fields=["order_company", "field", "-at", "-id"], name="overwrite_company_field"
            ),
            # An employee's values that others overwrote (alerts), newest first.
            models.Index(fields=["old_set_by", "-at", "-id"], name="overwrite_old_set_by"),
            # The overwrite marks of one order's History tab.
            models.Index(fields=["order_type", "order_id"], name="overwrite_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_number} {self.field}: {self.old_value} → {self.new_value}"

    @staticmethod
    def is_overwrite(old_value, old_set_for_id, new_value, new_set_for_id) -> bool:
        """The definition of a cross-company overwrite, for one field of one order: a non-empty
        value set for one company replaced by a different value set for another (both known).
        The sync records with it; the history reads with it."""
        return not (
            old_value == new_value
            or old_value is None
            or old_value == ""
            or old_set_for_id is None
            or new_set_for_id is None
            or old_set_for_id == new_set_for_id
        )
