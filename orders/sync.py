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

import functools
from collections import deque
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, Exists, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords

from intercompany.exceptions import NotAllowedError
from intercompany.history import ChangeContext, ChangeKind, attach_change_context
from intercompany.models import Company, Employee, TradingRelationship
from intercompany.switches import SWITCH_LABELS
from orders.domain_signals import overwrites_recorded
from orders.exceptions import StaleOrderError
from orders.models import (
    CUSTOMER_INFORMATION_FIELDS,
    ORIGINAL_CUSTOMER_FIELDS,
    Order,
    OrderChain,
    OrderType,
    OverwriteRecord,
    PurchaseOrder,
    SalesOrder,
)


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


def links_of_purchase_order(
    po: PurchaseOrder, *, origin: SalesOrder | None, mirror: SalesOrder | None
) -> list[Link]:
    """The directed edges around one intercompany purchase order: the rule, stated once.

    ``origin`` is the sales order ``po`` was created from, ``mirror`` the intercompany sales
    order created from ``po`` (either may be missing). Used for the edits of a chain and for the
    copies made when a chain grows (``copy_at_creation``).
    """
    relationship = po.trading_relationship
    if relationship is None:
        return []
    links: list[Link] = []
    if origin is not None:
        switch = "purchase_policy_syncs_original_sales_order"
        links.append(Link(origin, po, relationship, switch))
        links.append(Link(po, origin, relationship, switch))
    if mirror is not None:
        links.append(
            Link(po, mirror, relationship, "purchase_policy_syncs_intercompany_sales_order")
        )
        links.append(
            Link(mirror, po, relationship, "sales_policy_syncs_intercompany_purchase_order")
        )
    return links


def copy_at_creation(*, source: Order, target: Order) -> Link:
    """Give ``target``, a new order of a chain created from ``source``, the customer information
    of ``source`` when the rule's edge ``source`` → ``target`` is on (before ``target`` is saved).

    The edge is found by ``links_of_purchase_order``, the same statement of the rule the edits
    follow, so creation and edits cannot drift apart. Returns the edge: ``link.is_on`` says
    whether the values were copied, ``link.off_reason`` why not.
    """
    if isinstance(target, PurchaseOrder):
        # A new purchase order is created from its origin, or (a sale to an intercompany
        # customer) from the intercompany sales order that it will be mirrored by.
        is_origin = source.pk is not None and target.origin_sales_order_id == source.pk
        links = links_of_purchase_order(
            target, origin=source if is_origin else None, mirror=None if is_origin else source
        )
    else:
        links = links_of_purchase_order(source, origin=None, mirror=target)
    link = next(link for link in links if link.source is source and link.target is target)
    if link.is_on:
        for name in CUSTOMER_INFORMATION_FIELDS:
            setattr(target, name, getattr(source, name))
            setattr(target, f"{name}_set_by_id", getattr(source, f"{name}_set_by_id"))
            setattr(target, f"{name}_set_for_id", getattr(source, f"{name}_set_for_id"))
    return link


def fields_that_travel(order: Order, changed: tuple[str, ...]) -> tuple[str, ...]:
    """Of the fields a save changed, those its copies carry. The original customer moves only
    outward from the original sales order (where it can be changed): a copy never carries it
    back from another order, which may hold an earlier one because a switch was off."""
    if order.order_type == OrderType.SALES and order.is_original:
        return changed
    return tuple(name for name in changed if name not in ORIGINAL_CUSTOMER_FIELDS)


@dataclass
class ChainSnapshot:
    """The orders of one chain as locked (or read) in this transaction."""

    chain_id: int | None
    sales_orders: dict[int, SalesOrder]
    purchase_orders: dict[int, PurchaseOrder]

    @classmethod
    def of_one(cls, order: Order) -> ChainSnapshot:
        """An order outside any chain, alone."""
        sales = {order.pk: order} if order.order_type == OrderType.SALES else {}
        purchases = {order.pk: order} if order.order_type == OrderType.PURCHASE else {}
        return cls(None, sales, purchases)

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
            links += links_of_purchase_order(
                po,
                origin=self.sales_orders.get(po.origin_sales_order_id),
                mirror=intercompany_sales_order_of.get(po.pk),
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


def lock_chain(chain_id: int, *, acting: _Acting | None = None) -> ChainSnapshot:
    """Lock the chain and all its orders, in the one order every writer uses, and return them.

    ``acting``: see ``lock_order``. Must run inside a transaction. On SQLite, which has no row
    locks, the whole database is locked by the first write instead (BEGIN IMMEDIATE).
    """
    # Why this order: the chain row is the gate. Whoever holds it is the only writer of the
    # chain's customer information, so the row locks below never wait on each other. Why three
    # statements: each statement reads the rows committed when it starts, so the orders are
    # read only once the chain row is ours. Read in the statement that waited for the chain,
    # they would miss an order that the previous holder added to the chain.
    with connection.cursor() as cursor:
        cursor.execute(*_lock_gate_sql(chain_id, acting))
        _check_may_write(acting, [may_write for (may_write,) in cursor.fetchall()])
    sales = SalesOrder.objects.raw(*_lock_sales_orders_sql(chain_id))
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


@dataclass(frozen=True)
class _Acting:
    employee: Employee
    company: Company


def _for_update() -> str:
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def _lock_gate_sql(chain_id: int, acting: _Acting | None) -> tuple[str, list]:
    """Lock the chain row; with it, whether the acting employee works for the company."""
    quote = connection.ops.quote_name
    may_write, params = "1", []
    if acting is not None and not acting.employee.is_superuser:
        field = Employee.companies.field
        may_write = (
            f"EXISTS(SELECT 1 FROM {quote(field.m2m_db_table())} "
            f"WHERE {quote(field.m2m_column_name())} = %s "
            f"AND {quote(field.m2m_reverse_name())} = %s)"
        )
        params = [acting.employee.pk, acting.company.pk]
    sql = (
        f"SELECT {may_write} FROM {quote(OrderChain._meta.db_table)} WHERE id = %s"
        + _for_update()
    )
    return sql, [*params, chain_id]


def _lock_sales_orders_sql(chain_id: int) -> tuple[str, list]:
    table = connection.ops.quote_name(SalesOrder._meta.db_table)
    return f"SELECT * FROM {table} WHERE chain_id = %s ORDER BY id" + _for_update(), [chain_id]


def _with_may_write(queryset, acting: _Acting | None):
    """``queryset`` with ``may_write``: whether the acting employee works for the company."""
    if acting is None or acting.employee.is_superuser:
        return queryset.annotate(may_write=Value(True))
    membership = Employee.companies.through.objects.filter(
        employee_id=acting.employee.pk, company_id=acting.company.pk
    )
    return queryset.annotate(may_write=Exists(membership))


def _check_may_write(acting: _Acting | None, may_write) -> None:
    if acting is not None and not all(may_write):
        raise NotAllowedError(f"{acting.employee} does not work for {acting.company.code}.")


UNCHECKED = object()


def lock_order(order: Order, *, acting=UNCHECKED) -> tuple[Order, ChainSnapshot]:
    """Lock ``order`` (and its chain, if it has one); return the fresh copy and the snapshot
    (for an order outside any chain, a snapshot of that order alone).

    ``acting``: the employee about to write for the order's company. ``NotAllowedError``
    unless they work for it (or are a superuser): checked in the transaction that writes, in
    the statement that takes the first lock, so it costs no round trip of its own.
    """
    model = type(order)
    if acting is UNCHECKED:
        acting = None
    elif acting is None:
        raise NotAllowedError(f"No employee may write for {order.company.code}.")
    else:
        acting = _Acting(acting, order.company)
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
                current = _with_may_write(model.objects.select_for_update(), acting).get(
                    pk=order.pk
                )
                if current.chain_id is not None:
                    raise _JoinedChain(current.chain_id)
            _check_may_write(acting, [current.may_write])
            return current, ChainSnapshot.of_one(current)
        except _JoinedChain as joined:
            chain_id = joined.chain_id
    snapshot = lock_chain(chain_id, acting=acting)
    return snapshot.get(order.order_type, order.pk), snapshot


def read_chain(order: Order) -> ChainSnapshot:
    """The chain of ``order`` without locking, for showing it (the Intercompany panel)."""
    if order.chain_id is None:
        return ChainSnapshot.of_one(order)
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
        # What the edit replaces, and whose it was: the database's values under the lock.
        before = (
            order.loaded_customer_information_state() if current is order
            else current.customer_information_state()
        )
        order._replaced_customer_information = {
            name: before[name] for name in changed if name in before
        }
    for name in changed:
        if context.kind != ChangeKind.CREATED or not getattr(order, f"{name}_set_for_id"):
            setattr(order, f"{name}_set_by", context.employee)
            setattr(order, f"{name}_set_for", context.company)
    order._customer_information_changed = changed


def propagate_customer_information(*, order: Order) -> SyncResult:
    """After an order is written (``post_save``): copy what the save changed to every order the
    rule reaches, and record the overwrites of the save and of its copies.

    Runs in the transaction of the save. The result is also left on ``order.sync_result``.
    """
    return _write_change(order, edited_written=True)


def save_customer_information(*, order: Order) -> SyncResult:
    """Write an edit of ``order``'s customer information and its copies: what ``order.save()``
    and its two hooks do, with the edited order written together with the copies to its table.

    For a service that has locked the chain (``lock_order``) and attached the snapshot and the
    change context. Per table of the chain, one UPDATE and one history INSERT, whatever the
    fields each order receives; then one INSERT of the overwrite records. Sends no
    ``pre_save``/``post_save`` for the edited order, like the copies.
    """
    prepare_order_save(order=order)
    return _write_change(order, edited_written=False)


@dataclass
class _Write:
    """One order's row and history row to write: ``fields`` take the order's values now;
    ``replaced`` holds (value, set_by_id, set_for_id) before, for the overwrite records."""

    order: Order
    fields: tuple[str, ...]
    replaced: dict[str, tuple]
    history: dict


def _write_change(order: Order, *, edited_written: bool) -> SyncResult:
    changed = getattr(order, "_customer_information_changed", ())
    result = SyncResult(order=order, changed_fields=changed)
    order.sync_result = result
    order._customer_information_changed = ()
    # What a service attached (chain snapshot, change context) serves this save only: a later
    # save of the same instance locks the chain again, re-checks the version and is attributed
    # afresh instead of silently reusing them.
    snapshot = order.__dict__.pop("_chain_snapshot", None)
    context: ChangeContext = order.__dict__.pop("_change_context", None)
    order.__dict__.pop("_history_user", None)
    replaced = order.__dict__.pop("_replaced_customer_information", {})
    history_row = order.__dict__.pop("_saved_history_row", None)

    now = timezone.now()
    writes: list[_Write] = []
    records: list[OverwriteRecord] = []
    if not edited_written:
        order.updated_at = now
        writes.append(_Write(order, changed, replaced, context.history_fields()))
    elif replaced and history_row is not None:
        records += overwrite_records(
            order=order, replaced=replaced, history_row=history_row, fields=changed
        )

    if changed and order.chain_id is not None:
        if snapshot is None or snapshot.get(order.order_type, order.pk) is None:
            snapshot = lock_chain(order.chain_id)
            table = (
                snapshot.sales_orders if order.order_type == OrderType.SALES
                else snapshot.purchase_orders
            )
            table[order.pk] = order
        reached, blocked = snapshot.reach(order)
        result.not_copied = blocked
        changed = fields_that_travel(order, changed)
        # Each target gets only the fields whose value differs there: a field that already
        # holds the value keeps whoever set it, so a later overwrite is attributed to the right
        # company.
        copy_history = ChangeContext(
            employee=context.employee,
            company=context.company,
            kind=ChangeKind.SYNCED,
            source=order.source_reference,
        ).history_fields()
        for target in reached:
            names = tuple(
                name for name in changed if getattr(target, name) != getattr(order, name)
            )
            if not names:
                continue
            result.copied_to.append(target)
            before = target.customer_information_state()
            for name in names:
                for column in (name, f"{name}_set_by_id", f"{name}_set_for_id"):
                    setattr(target, column, getattr(order, column))
            target.version += 1
            target.updated_at = now
            writes.append(_Write(target, names, before, copy_history))

    records += _write_rows(writes, now=now)
    for write in writes:
        write.order.remember_loaded_values()
    order.remember_loaded_values()
    save_overwrite_records(records)
    return result


def _write_rows(writes: list[_Write], *, now) -> list[OverwriteRecord]:
    """Write the rows table by table (the edited order's table first). Returns the overwrite
    records they make (unsaved)."""
    tables: dict[type[Order], list[_Write]] = {}
    for write in writes:
        tables.setdefault(type(write.order), []).append(write)
    records = []
    for model, group in tables.items():
        history_rows = _write_table(model, group, now=now)
        for write, history_row in zip(group, history_rows, strict=True):
            records += overwrite_records(
                order=write.order, replaced=write.replaced, history_row=history_row,
                fields=write.fields,
            )
    return records


def _write_table(model: type[Order], group: list[_Write], *, now) -> list:
    """The rows of one table and their history rows; returns the history rows, in the order
    of ``group``. On PostgreSQL one statement (an UPDATE whose returned rows feed the history
    INSERT); elsewhere one UPDATE and one history INSERT."""
    if connection.vendor == "postgresql":
        return _write_table_in_one_statement(model, group, now=now)
    _update_rows(model, group, now=now)
    return _insert_history(model, group, now=now)


def _written_columns(group: list[_Write]) -> list[str]:
    columns = {
        column
        for write in group
        for name in write.fields
        for column in (name, f"{name}_set_by_id", f"{name}_set_for_id")
    }
    return sorted(columns)


_HISTORY_ATTRIBUTION = (
    "history_user_id", "history_company_id", "history_kind", "history_source_type",
    "history_source_id", "history_source_number", "history_source_role",
    "history_source_company_id",
)


@dataclass(frozen=True)
class _HistoryRow:
    """What the overwrite records need of a history row written in SQL."""

    history_id: int
    history_date: object
    history_kind: str
    history_source_type: str
    history_source_id: int | None
    history_source_number: str
    history_source_role: str


@functools.cache
def _history_model(model: type[Order]):
    """The django-simple-history model of ``model`` (``model.history`` builds a manager class
    on every access: 0.6 ms of each edit before it was read once)."""
    return model.history.model


def _write_table_in_one_statement(model: type[Order], group: list[_Write], *, now) -> list:
    """PostgreSQL: ``WITH v AS (VALUES ...), u AS (UPDATE ... FROM v RETURNING *) INSERT INTO
    <history> SELECT ... FROM u JOIN v``. Each row takes its own values (VALUES), so copies
    that differ per target still share the statement. A column that a row does not take is
    written with the value it holds (the row is locked, so that is the stored value)."""
    quote = connection.ops.quote_name
    history_model = _history_model(model)
    columns = _written_columns(group)
    value_fields = [model._meta.pk, *(model._meta.get_field(c) for c in columns)]
    value_fields += [history_model._meta.get_field(a) for a in _HISTORY_ATTRIBUTION]
    names = ["id", *columns, *_HISTORY_ATTRIBUTION]
    casts = [f"%s::{field.cast_db_type(connection)}" for field in value_fields]
    row_sql = "(" + ", ".join(casts) + ")"
    params = []
    for write in group:
        history = write.history
        params += [write.order.pk, *(getattr(write.order, c) for c in columns)]
        params += [
            history.get("history_user_id"), history.get("history_company_id"),
            history["history_kind"], history.get("history_source_type", ""),
            history.get("history_source_id"), history.get("history_source_number", ""),
            history.get("history_source_role", ""), history.get("history_source_company_id"),
        ]
    tracked = [quote(field.column) for field in history_model.tracked_fields]
    sets = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    sql = (
        f"WITH v ({', '.join(quote(n) for n in names)}) AS "
        f"(VALUES {', '.join([row_sql] * len(group))}), "
        f"u AS (UPDATE {quote(model._meta.db_table)} t SET {sets}, "
        f"version = t.version + 1, updated_at = %s FROM v WHERE t.id = v.id RETURNING t.*) "
        f"INSERT INTO {quote(history_model._meta.db_table)} "
        f"({', '.join(tracked)}, history_date, history_type, history_change_reason, "
        f"{', '.join(_HISTORY_ATTRIBUTION)}) "
        f"SELECT {', '.join('u.' + c for c in tracked)}, %s, '~', NULL, "
        f"{', '.join('v.' + a for a in _HISTORY_ATTRIBUTION)} "
        f"FROM u JOIN v ON v.id = u.id RETURNING history_id, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, now])
        history_ids = dict((order_id, history_id) for history_id, order_id in cursor.fetchall())
    return [
        _HistoryRow(
            history_id=history_ids[write.order.pk],
            history_date=now,
            history_kind=write.history["history_kind"],
            history_source_type=write.history.get("history_source_type", ""),
            history_source_id=write.history.get("history_source_id"),
            history_source_number=write.history.get("history_source_number", ""),
            history_source_role=write.history.get("history_source_role", ""),
        )
        for write in group
    ]


def _update_rows(model: type[Order], group: list[_Write], *, now) -> None:
    """One UPDATE for every row of ``group``: a column every row takes with one value is set
    plainly; one whose value differs per row, or that only some rows take, is a CASE on the id
    (the other rows keep theirs)."""
    ids = [write.order.pk for write in group]
    per_column: dict[str, dict[int, object]] = {}
    for write in group:
        for name in write.fields:
            for column in (name, f"{name}_set_by_id", f"{name}_set_for_id"):
                per_column.setdefault(column, {})[write.order.pk] = getattr(write.order, column)
    updates = {}
    for column, values in per_column.items():
        distinct = set(values.values())
        if len(values) == len(ids) and len(distinct) == 1:
            updates[column] = distinct.pop()
        else:
            field = model._meta.get_field(column)
            updates[column] = Case(
                *(When(pk=pk, then=Value(value, output_field=field))
                  for pk, value in values.items()),
                default=F(column),
                output_field=field,
            )
    # The rows are locked: every version moves on by one, as each instance's did.
    model.objects.filter(pk__in=ids).update(**updates, version=F("version") + 1, updated_at=now)


def _insert_history(model: type[Order], group: list[_Write], *, now) -> list:
    """One multi-row INSERT of the history rows of ``group``, each with its own attribution
    (edited here / copied from), returned with their ids."""
    history_model = _history_model(model)
    tracked = history_model.tracked_fields
    rows = [
        history_model(
            history_date=now,
            history_type="~",
            **{field.attname: getattr(write.order, field.attname) for field in tracked},
            **write.history,
        )
        for write in group
    ]
    return history_model.objects.bulk_create(rows)


def remember_history_row(*, order: Order, history_row) -> None:
    """The history row django-simple-history just wrote for a save of ``order``: the overwrite
    records of that save point to it."""
    order._saved_history_row = history_row


# -- Overwrite records ------------------------------------------------------------------------


def overwrite_records(
    *, order: Order, replaced: dict[str, tuple], history_row, fields
) -> list[OverwriteRecord]:
    """The cross-company overwrites one history row of ``order`` makes (unsaved): for each of
    ``fields``, ``replaced`` holds (value, set_by_id, set_for_id) before the change; the order
    holds them after."""
    records = []
    for name in fields:
        if name not in replaced:
            continue
        old_value, old_by, old_for = replaced[name]
        new_value = getattr(order, name)
        new_for = getattr(order, f"{name}_set_for_id")
        if not OverwriteRecord.is_overwrite(old_value, old_for, new_value, new_for):
            continue
        records.append(
            OverwriteRecord(
                order_type=order.order_type,
                order_id=order.pk,
                order_number=order.number,
                order_company_id=order.company_id,
                field=name,
                old_value=old_value,
                old_set_by_id=old_by,
                old_set_for_id=old_for,
                new_value=new_value,
                new_set_by_id=getattr(order, f"{name}_set_by_id"),
                new_set_for_id=new_for,
                at=history_row.history_date,
                kind=history_row.history_kind,
                source_type=history_row.history_source_type or "",
                source_id=history_row.history_source_id,
                source_number=history_row.history_source_number or "",
                source_role=history_row.history_source_role or "",
                history_id=history_row.history_id,
            )
        )
    return records


def save_overwrite_records(records: list[OverwriteRecord]) -> list[OverwriteRecord]:
    """Insert the overwrite records of one save in one statement, then tell the listeners
    (alerts, events) inside the transaction: they commit or roll back with the change."""
    if not records:
        return records
    saved = OverwriteRecord.objects.bulk_create(records)
    overwrites_recorded.send(sender=OverwriteRecord, records=saved)
    return saved

