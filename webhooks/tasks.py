"""The background task that delivers one event to one endpoint (run by ``manage.py db_worker``)."""

from intercompany.background import task


@task()
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
