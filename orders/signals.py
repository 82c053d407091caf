"""Signal receivers: one line each, handing the order to the sync service (orders/sync.py)."""

from orders import sync


def lock_and_stamp_order(sender, instance, raw=False, **kwargs):
    if not raw:
        sync.prepare_order_save(order=instance)


def propagate_customer_information(sender, instance, raw=False, **kwargs):
    if not raw:
        sync.propagate_customer_information(order=instance)


def remember_history_row(sender, instance, history_instance, **kwargs):
    sync.remember_history_row(order=instance, history_row=history_instance)
