"""The transactional outbox: change events written in the transaction of the change.

The receivers in ``webhooks/receivers.py`` call these functions while the change's transaction is
open. Each writes, for every company concerned that has an enabled endpoint wanting the event, one
``Event`` row and one ``Delivery`` per such endpoint, and enqueues the delivery task in the same
transaction (the database task backend stores it as a row): the change, its events and the
instruction to send them commit together or not at all. Nothing leaves the process before commit.

Scoping: an event about an order goes only to the endpoints of the order's company; a trading
relationship's change goes to the endpoints of both of its companies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from intercompany.models import Company, Employee
from webhooks import payloads
from webhooks.models import Delivery, Event, EventType, WebhookEndpoint
from webhooks.scheduling import schedule_delivery

Builder = Callable[[], dict[str, Any]]


def _endpoints_by_company(company_ids: Iterable[int]) -> dict[int, list[WebhookEndpoint]]:
    """The enabled endpoints of these companies. Every edit asks, and most companies have none:
    the question is one small SQL statement (no ORM query to build, about 1 ms of each edit
    before); the endpoints are read only when there are some."""
    ids = sorted(set(company_ids))
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {WebhookEndpoint._meta.db_table} "
            f"WHERE enabled = %s AND company_id IN ({marks})",
            [True, *ids],
        )
        endpoint_ids = [row[0] for row in cursor.fetchall()]
    found: dict[int, list[WebhookEndpoint]] = {}
    if endpoint_ids:
        for endpoint in WebhookEndpoint.objects.filter(pk__in=endpoint_ids):
            found.setdefault(endpoint.company_id, []).append(endpoint)
    return found


def record_events(event_type: str, items: list[tuple[int, Builder]]) -> list[Event]:
    """Write the event ``event_type`` for each ``(company id, build data)`` whose company has an
    enabled endpoint wanting it; ``build`` runs only then. Returns the events written."""
    endpoints = _endpoints_by_company(company_id for company_id, _ in items)
    now = timezone.now()
    events, targets = [], []
    for company_id, build in items:
        wanting = [e for e in endpoints.get(company_id, ()) if e.wants(event_type)]
        if not wanting:
            continue
        event = Event(company_id=company_id, type=event_type, created_at=now)
        event.payload = {"type": event_type, "timestamp": now.isoformat(), "data": build()}
        events.append(event)
        targets.append(wanting)
    if not events:
        return []
    Event.objects.bulk_create(events)
    deliveries = Delivery.objects.bulk_create(
        Delivery(event=event, endpoint=endpoint, created_at=now, next_attempt_at=now)
        for event, wanting in zip(events, targets, strict=True)
        for endpoint in wanting
    )
    for delivery in deliveries:
        schedule_delivery(delivery.pk, at=now)
    return events


def _codes(company_ids: Iterable[int]) -> dict[int, str]:
    return dict(Company.objects.filter(pk__in=set(company_ids)).values_list("pk", "code"))


def _lazy_codes(company_ids: Iterable[int]) -> Callable[[], dict[int, str]]:
    """The company codes, read once and only when an event is built."""
    ids, cache = set(company_ids), {}

    def codes() -> dict[int, str]:
        if not cache:
            cache.update(_codes(ids))
        return cache

    return codes


def record_order_created(*, order, orders, employee) -> list[Event]:
    """``order.created`` for the order the employee created and for each order created with it,
    each to its own company (the seller learns of the intercompany sales order made for it)."""
    created = [order, *orders]
    codes = _lazy_codes(o.company_id for o in created)
    return record_events(EventType.ORDER_CREATED, [
        (o.company_id, lambda o=o: payloads.order_created(
            order=o, created_with=[x for x in created if x is not o], employee=employee,
            acting_code=codes().get(order.company_id), codes=codes(),
        ))
        for o in created
    ])


def record_customer_information_changed(*, order, result, employee) -> list[Event]:
    """The edited order's event says where the change was copied and where not (and why); each
    order it was copied to gets its own event, to its own company, saying where it came from."""
    if not result.changed_fields:
        return []
    involved = [order, *result.copied_to, *(link.target for link in result.not_copied)]
    codes = _lazy_codes(o.company_id for o in involved)
    items = [(order.company_id, lambda: payloads.customer_information_edited(
        result=result, employee=employee, codes=codes()))]
    items += [
        (target.company_id, lambda target=target: payloads.customer_information_copied(
            target=target, result=result, employee=employee, codes=codes()))
        for target in result.copied_to
    ]
    return record_events(EventType.CUSTOMER_INFORMATION_CHANGED, items)


def record_overwrites(*, records) -> list[Event]:
    """One ``order.customer_information_overwritten`` per cross-company overwrite record, to the
    company of the overwritten order: whose value it was, whose it is now, how it came."""
    records = list(records)
    company_ids = {r.order_company_id for r in records}
    company_ids |= {r.old_set_for_id for r in records} | {r.new_set_for_id for r in records}
    codes = _lazy_codes(company_ids)
    employee_ids = {r.old_set_by_id for r in records} | {r.new_set_by_id for r in records}
    employees: dict[int, Employee] = {}

    def people() -> dict[int, Employee]:
        if not employees:
            employees.update(Employee.objects.in_bulk({i for i in employee_ids if i}))
        return employees

    return record_events(EventType.CUSTOMER_INFORMATION_OVERWRITTEN, [
        (r.order_company_id, lambda r=r: payloads.customer_information_overwritten(
            record=r, employees=people(), codes=codes()))
        for r in records
    ])


def record_order_cancelled(*, order, employee) -> list[Event]:
    codes = _lazy_codes([order.company_id])
    return record_events(EventType.ORDER_CANCELLED, [
        (order.company_id,
         lambda: payloads.order_cancelled(order=order, employee=employee, codes=codes()))
    ])


def record_trading_relationship_changed(*, relationship, changes, employee) -> list[Event]:
    """To the endpoints of both companies of the relationship."""
    data: dict[str, Any] = {}

    def build() -> dict[str, Any]:
        if not data:
            data.update(payloads.trading_relationship_changed(
                relationship=relationship, changes=changes, employee=employee))
        return data

    return record_events(EventType.TRADING_RELATIONSHIP_CHANGED, [
        (relationship.buying_company_id, build),
        (relationship.selling_company_id, build),
    ])
