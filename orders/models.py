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

from intercompany.history import ChangeRecord, SourceOrder
from intercompany.models import Company, Customer, TradingRelationship, Vendor

CUSTOMER_INFORMATION_FIELDS = ("customer_reference", "customer_requisition")
CUSTOMER_REFERENCE_MAX_LENGTH = 60
CUSTOMER_REQUISITION_MAX_LENGTH = 40


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
