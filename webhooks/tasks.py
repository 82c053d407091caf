"""The background tasks of change events (run by ``manage.py db_worker``).

Deliveries run on the ``webhooks`` queue: a worker of their own (``--queue-name webhooks``) keeps a
slow receiver from delaying the alert emails and other tasks of the ``default`` queue.
"""

from intercompany.background import task

QUEUE = "webhooks"


@task(queue_name=QUEUE)
def deliver_webhook(delivery_id: int) -> None:
    """Attempt the delivery if it is due; a no-op when it was delivered, failed, or is already
    being attempted by another worker (several tasks may be queued for one delivery)."""
    from webhooks.delivery import attempt_delivery

    attempt_delivery(delivery_id)


@task()
def notify_endpoint_disabled(endpoint_id: int) -> int:
    """Email the administrators of the endpoint's company that it was disabled."""
    from webhooks.delivery import notify_endpoint_disabled as notify

    return notify(endpoint_id)
