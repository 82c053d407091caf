"""The customer-information sync rule, in one place.

The rule (DOMAIN.md), as directed edges between the linked orders of a chain. For every
intercompany purchase order P with trading relationship R (buying company = P's company):

====================================  =================================================  ===========
edge                                  switch                                             owned by
====================================  =================================================  ===========
origin sales order → P, P → origin    R.purchase_policy_syncs_original_sales_order       buyer
P → intercompany sales order          R.purchase_policy_syncs_intercompany_sales_order   buyer
intercompany sales order → P          R.sales_policy_syncs_intercompany_purchase_order   seller
====================================  =================================================  ===========

An edge is off when R is inactive (a closed trade route) or when either order is cancelled.

An edit of customer information on an order (or its creation) reaches every order reachable from
it along switched-on edges, each order once, in the same transaction as the edit. Only the fields
the edit changed are copied, and a copy keeps the original editor as the one who set the value.
Copies are written with ``QuerySet.update()``, which sends no signal, so a copy never starts a
new wave and no switch setting can make the sync loop.

Locking: every writer locks the chain row first, then the chain's sales orders by id, then its
purchase orders by id. One order for everybody means two companies editing one chain queue up
behind each other instead of deadlocking, and each edit sees the values committed before it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.models import HistoricalRecords

from intercompany.history import ChangeContext, ChangeKind, attach_change_context
from intercompany.models import TradingRelationship
from orders.exceptions import StaleOrderError
from orders.models import (
    CUSTOMER_INFORMATION_FIELDS,
    Order,
    OrderChain,
    OrderType,
    PurchaseOrder,
    SalesOrder,
)

SWITCH_LABELS = {
    "purchase_policy_syncs_original_sales_order": (
        gettext_lazy("purchase order policy"),
        gettext_lazy("Customer information, original sales order ↔ intercompany purchase order"),
    ),
    "purchase_policy_syncs_intercompany_sales_order": (
        gettext_lazy("purchase order policy"),
        gettext_lazy(
            "Customer information, intercompany purchase order ↔ intercompany sales order"
        ),
    ),
    "sales_policy_syncs_intercompany_purchase_order": (
        gettext_lazy("sales order policy"),
        gettext_lazy(
            "Customer information, intercompany purchase order ↔ intercompany sales order"
        ),
    ),
}


@dataclass(frozen=True)
class Link:
    """One directed edge of the rule: copies go from ``source`` to ``target`` when it is on."""

    source: Order
    target: Order
    relationship: TradingRelationship
    switch: str

    @property
    def policy(self) -> str:
        return SWITCH_LABELS[self.switch][0]

    @property
    def switch_label(self) -> str:
        return SWITCH_LABELS[self.switch][1]

    @property
    def policy_company(self):
        return self.relationship.policy_owner(self.switch)

    @property
    def off_reason(self) -> str | None:
        """Why nothing is copied along this edge, or None when it is on."""
        if not self.relationship.active:
            return _("the trading relationship %(relationship)s is inactive") % {
                "relationship": self.relationship
            }
        if self.source.is_cancelled or self.target.is_cancelled:
            cancelled = self.source if self.source.is_cancelled else self.target
            return _("%(number)s is cancelled") % {"number": cancelled.number}
        if not getattr(self.relationship, self.switch):
            return _("the %(policy)s of %(company)s has “%(switch)s” switched off") % {
                "policy": self.policy,
                "company": self.policy_company.code,
                "switch": self.switch_label,
            }
        return None

    @property
    def is_on(self) -> bool:
        return self.off_reason is None


@dataclass
class ChainSnapshot:
    """The orders of one chain as locked (or read) in this transaction."""

    chain_id: int | None
    sales_orders: dict[int, SalesOrder]
    purchase_orders: dict[int, PurchaseOrder]

    def orders(self) -> list[Order]:
        return [*self.sales_orders.values(), *self.purchase_orders.values()]

    def get(self, order_type: str, pk: int) -> Order | None:
        table = self.sales_orders if order_type == OrderType.SALES else self.purchase_orders
        return table.get(pk)

    def links(self) -> list[Link]:
        intercompany_sales_order_of = {
            so.intercompany_purchase_order_id: so
            for so in self.sales_orders.values()
            if so.intercompany_purchase_order_id
        }
        links: list[Link] = []
        for po in self.purchase_orders.values():
            relationship = po.trading_relationship
            if relationship is None:
                continue
            origin = self.sales_orders.get(po.origin_sales_order_id)
            if origin is not None:
                switch = "purchase_policy_syncs_original_sales_order"
                links.append(Link(origin, po, relationship, switch))
                links.append(Link(po, origin, relationship, switch))
            mirror = intercompany_sales_order_of.get(po.pk)
            if mirror is not None:
                links.append(
                    Link(po, mirror, relationship, "purchase_policy_syncs_intercompany_sales_order")
                )
                links.append(
                    Link(mirror, po, relationship, "sales_policy_syncs_intercompany_purchase_order")
                )
        return links

    def reach(self, start: Order) -> tuple[list[Order], list[Link]]:
        """Orders reachable from ``start`` along switched-on edges (each once, ``start``
        excluded, in breadth-first order), and the switched-off edges that leave that set."""
        outgoing: dict[tuple[str, int], list[Link]] = {}
        for link in self.links():
            outgoing.setdefault(link.source.node, []).append(link)
        seen = {start.node}
        reached: list[Order] = []
        blocked: list[Link] = []
        queue = deque([start.node])
        while queue:
            for link in outgoing.get(queue.popleft(), []):
                if link.target.node in seen:
                    continue
                if link.is_on:
                    seen.add(link.target.node)
                    reached.append(link.target)
                    queue.append(link.target.node)
                else:
                    blocked.append(link)
        blocked = [link for link in blocked if link.target.node not in seen]
        return reached, blocked


@dataclass
class SyncResult:
    """What one save did to the chain: which fields changed, where they were copied, and which
    orders of the chain the change did not reach, with the reason."""

    order: Order
    changed_fields: tuple[str, ...] = ()
    copied_to: list[Order] = field(default_factory=list)
    not_copied: list[Link] = field(default_factory=list)

    @property
    def message(self) -> str:
        number = self.order.number
        if not self.changed_fields:
            return _("%(number)s: no change to the customer information.") % {"number": number}
        parts = []
        if self.copied_to:
            copied = _and_join([o.number for o in self.copied_to])
            parts.append(_("Copied to %(orders)s.") % {"orders": copied})
        for link in self.not_copied:
            parts.append(
                _("Not copied to %(number)s: %(reason)s.")
                % {"number": link.target.number, "reason": link.off_reason}
            )
        if not parts:
            parts.append(
                _("The other orders of its chain already hold this value.")
                if self.order.chain_id
                else _("Not part of an intercompany chain: nothing to copy.")
            )
        return _("%(number)s saved.") % {"number": number} + " " + " ".join(parts)


def _and_join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


# -- Locking ----------------------------------------------------------------------------------


def lock_chain(chain_id: int) -> ChainSnapshot:
    """Lock the chain and all its orders, in the one order every writer uses, and return them.

    Must run inside a transaction. On SQLite, which has no row locks, the whole database is
    locked by the first write instead (settings use BEGIN IMMEDIATE).
    """
    # Why this order: the chain row is the gate. Whoever holds it is the only writer of the
    # chain's customer information, so the row locks below never wait on each other.
    list(OrderChain.objects.select_for_update().filter(pk=chain_id).values_list("pk"))
    sales = SalesOrder.objects.select_for_update().filter(chain_id=chain_id).order_by("pk")
    purchases = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .filter(chain_id=chain_id)
        .select_related("trading_relationship__buying_company",
                        "trading_relationship__selling_company")
        .order_by("pk")
    )
    return ChainSnapshot(
        chain_id=chain_id,
        sales_orders={so.pk: so for so in sales},
        purchase_orders={po.pk: po for po in purchases},
    )


class _JoinedChain(Exception):
    """Raised to roll back to the savepoint: the order joined a chain while we waited."""

    def __init__(self, chain_id: int):
        self.chain_id = chain_id


def lock_order(order: Order) -> tuple[Order, ChainSnapshot | None]:
    """Lock ``order`` (and its chain, if it has one); return the fresh copy and the snapshot."""
    model = type(order)
    # Once set, an order's chain never changes: only an order without one needs a look.
    chain_id = order.chain_id or (
        model.objects.filter(pk=order.pk).values_list("chain_id", flat=True).first()
    )
    if chain_id is None:
        # Why a savepoint: the order may join a chain while we wait for its row. Its chain must
        # then be locked before its row, as every writer does; rolling back to the savepoint
        # releases the row lock taken out of order (else: deadlock with an editor of the chain).
        try:
            with transaction.atomic():
                current = model.objects.select_for_update().get(pk=order.pk)
                if current.chain_id is not None:
                    raise _JoinedChain(current.chain_id)
            return current, None
        except _JoinedChain as joined:
            chain_id = joined.chain_id
    snapshot = lock_chain(chain_id)
    return snapshot.get(order.order_type, order.pk), snapshot


def read_chain(order: Order) -> ChainSnapshot:
    """The chain of ``order`` without locking, for showing it (the Intercompany panel)."""
    if order.chain_id is None:
        sales = {order.pk: order} if order.order_type == OrderType.SALES else {}
        purchases = {order.pk: order} if order.order_type == OrderType.PURCHASE else {}
        return ChainSnapshot(None, sales, purchases)
    sales = SalesOrder.objects.filter(chain_id=order.chain_id).select_related("company")
    purchases = PurchaseOrder.objects.filter(chain_id=order.chain_id).select_related(
        "company", "trading_relationship__buying_company", "trading_relationship__selling_company"
    )
    return ChainSnapshot(
        order.chain_id,
        {so.pk: so for so in sales.order_by("pk")},
        {po.pk: po for po in purchases.order_by("pk")},
    )


# -- The save hooks (called by the receivers in orders/signals.py) ---------------------------


def default_change_context(order: Order, *, created: bool) -> ChangeContext:
    """Context for a save that came without one (the admin, the shell): the request's user if
    django-simple-history's middleware saw one, acting for the order's company."""
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    employee = user if getattr(user, "is_authenticated", False) else None
    kind = ChangeKind.CREATED if created else ChangeKind.EDITED
    return ChangeContext(employee=employee, company=order.company, kind=kind)


def prepare_order_save(*, order: Order) -> None:
    """Before an order is written: lock its chain, refuse a stale write, stamp who set what.

    Sets ``order._customer_information_changed`` for ``propagate_customer_information``.
    """
    created = order._state.adding
    context = getattr(order, "_change_context", None)
    if context is None:
        context = default_change_context(order, created=created)
        attach_change_context(order, context)
    if created:
        changed = tuple(name for name in CUSTOMER_INFORMATION_FIELDS if getattr(order, name))
    else:
        snapshot = getattr(order, "_chain_snapshot", None)
        if snapshot is None or snapshot.get(order.order_type, order.pk) is None:
            current, snapshot = lock_order(order)
            order._chain_snapshot = snapshot
        else:
            current = snapshot.get(order.order_type, order.pk)
        if current is not order and current.version != order.version:
            raise StaleOrderError(current=current)
        loaded = getattr(order, "_loaded_customer_information", None) or {}
        changed = tuple(
            name for name in CUSTOMER_INFORMATION_FIELDS
            if loaded.get(name) != getattr(order, name)
        )
        order.version += 1
    for name in changed:
        if context.kind != ChangeKind.CREATED or not getattr(order, f"{name}_set_for_id"):
            setattr(order, f"{name}_set_by", context.employee)
            setattr(order, f"{name}_set_for", context.company)
    order._customer_information_changed = changed


def propagate_customer_information(*, order: Order) -> SyncResult:
    """After an order is written: copy what the save changed to every order the rule reaches.

    Runs in the transaction of the save. The result is also left on ``order.sync_result``.
    """
    changed = getattr(order, "_customer_information_changed", ())
    result = SyncResult(order=order, changed_fields=changed)
    order.sync_result = result
    order.remember_loaded_values()
    order._customer_information_changed = ()
    # What a service attached (chain snapshot, change context) serves this save only: a later
    # save of the same instance locks the chain again, re-checks the version and is attributed
    # afresh instead of silently reusing them.
    snapshot = order.__dict__.pop("_chain_snapshot", None)
    context: ChangeContext = order.__dict__.pop("_change_context", None)
    order.__dict__.pop("_history_user", None)
    if not changed or order.chain_id is None:
        return result
    if snapshot is None or snapshot.get(order.order_type, order.pk) is None:
        snapshot = lock_chain(order.chain_id)
        table = (
            snapshot.sales_orders if order.order_type == OrderType.SALES
            else snapshot.purchase_orders
        )
        table[order.pk] = order
    reached, blocked = snapshot.reach(order)
    result.not_copied = blocked

    # Each target gets only the fields whose value differs there: a field that already holds the
    # value keeps whoever set it, so a later overwrite is attributed to the right company.
    differing = {
        target.node: tuple(
            name for name in changed if getattr(target, name) != getattr(order, name)
        )
        for target in reached
    }
    targets = [target for target in reached if differing[target.node]]
    result.copied_to = targets
    if not targets:
        return result

    now = timezone.now()
    copy_context = ChangeContext(
        employee=context.employee,
        company=context.company,
        kind=ChangeKind.SYNCED,
        source=order.source_reference,
    )
    history_fields = copy_context.history_fields()
    del history_fields["history_user_id"]  # given as default_user below
    groups: dict[tuple[type, tuple[str, ...]], list[Order]] = {}
    for target in targets:
        groups.setdefault((type(target), differing[target.node]), []).append(target)
    # Usually one group per table: one UPDATE and one history INSERT each.
    for (model, names), batch in groups.items():
        values = {}
        for name in names:
            values[name] = getattr(order, name)
            values[f"{name}_set_by_id"] = getattr(order, f"{name}_set_by_id")
            values[f"{name}_set_for_id"] = getattr(order, f"{name}_set_for_id")
        for target in batch:
            for name, value in values.items():
                setattr(target, name, value)
            target.version += 1
            target.updated_at = now
            target.remember_loaded_values()
        model.objects.filter(pk__in=[target.pk for target in batch]).update(
            **values, version=F("version") + 1, updated_at=now
        )
        model.history.bulk_history_create(
            batch,
            update=True,
            default_user=context.employee,
            default_date=now,
            custom_historical_attrs=history_fields,
        )
    return result

