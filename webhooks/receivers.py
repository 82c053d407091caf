"""Receivers of the domain signals: each writes the change's events into the outbox, inside the
transaction of the change (connected in ``WebhooksConfig.ready()``)."""

from webhooks import outbox


def order_created(sender, order, orders=(), employee=None, **kwargs):
    outbox.record_order_created(order=order, orders=orders, employee=employee)


def customer_information_changed(sender, order, result, employee=None, **kwargs):
    outbox.record_customer_information_changed(order=order, result=result, employee=employee)


def overwrites_recorded(sender, records, **kwargs):
    outbox.record_overwrites(records=records)


def order_cancelled(sender, order, employee=None, **kwargs):
    outbox.record_order_cancelled(order=order, employee=employee)


def trading_relationship_changed(sender, relationship, changes, employee=None, **kwargs):
    outbox.record_trading_relationship_changed(
        relationship=relationship, changes=changes, employee=employee
    )
