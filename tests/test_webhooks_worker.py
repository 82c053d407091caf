"""Change events delivered by a real worker process (``manage.py db_worker``) against PostgreSQL,
to a real receiver on 127.0.0.1 that verifies each signature with ``standardwebhooks``: retries
after a 500 and after a timeout, and a worker SIGKILLed in the middle of a delivery leads to a
second delivery with the same webhook-id, never to a lost event."""

from __future__ import annotations

import os
import signal
import time

import pytest

from orders import services
from tests.conftest import EVERY_SWITCH_ON, make_relationship, make_three_legged_chain
from webhooks.models import AttemptOutcome, Delivery, DeliveryStatus
from webhooks.services import create_endpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def subscribed(alice, usmf, demf, external_customer, receiver, admin, settings):
    """USMF's endpoint, subscribed to cancellations, pointing at the receiver; and a chain."""
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on 127.0.0.1
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    chain = make_three_legged_chain(employee=alice, relationship=relationship,
                                    customer=external_customer)
    endpoint = create_endpoint(employee=admin, company=usmf, url=receiver.url,
                               event_types=["order.cancelled"])
    receiver.secret = endpoint.secret
    return chain, endpoint


@pytest.fixture
def webhook_worker(worker_process):
    """``webhook_worker(**env)``: a worker of the webhooks queue, as deployed (scripts/demo.sh),
    allowed to reach the receiver on 127.0.0.1; stopped by the end of the test."""

    def start(**env):
        return worker_process(queue_name="webhooks", WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1", **env)

    return start


def wait_for_status(delivery_query, status, timeout=30) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = delivery_query()
        if delivery.status == status:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"the delivery is {delivery.status}, not {status}, after {timeout} s")


def test_the_worker_retries_after_a_500_and_after_a_timeout(subscribed, alice, receiver,
                                                            webhook_worker):
    chain, endpoint = subscribed
    receiver.script, receiver.slow_seconds = ["error", "slow", "ok"], 3
    webhook_worker(WEBHOOK_TIMEOUT_SECONDS="1", WEBHOOK_RETRY_BASE_SECONDS="0.5")

    services.cancel_order(order=chain.original, employee=alice)

    first, second, third = receiver.wait_for(3, timeout=40)
    assert all(r.verified for r in (first, second, third)), [r.error for r in receiver.requests]
    assert first.webhook_id == second.webhook_id == third.webhook_id
    assert first.body == second.body == third.body
    assert first.payload["data"]["order"]["number"] == chain.original.number
    # The backoff: at least the base delay after the 500, and after the timed-out attempt (1 s
    # timeout) at least twice the base delay.
    assert second.at - first.at >= 0.5
    assert third.at - second.at >= 1 + 1.0
    delivery = wait_for_status(lambda: endpoint.deliveries.get(), DeliveryStatus.DELIVERED)
    outcomes = list(delivery.attempt_log.values_list("outcome", "response_code"))
    assert outcomes == [("failed", 500), ("failed", None), ("succeeded", 200)]
    assert "No answer within 1.0 s" in delivery.attempt_log.get(number=2).error


def test_a_worker_killed_mid_delivery_leads_to_a_second_delivery_with_the_same_webhook_id(
    subscribed, alice, receiver, webhook_worker
):
    chain, endpoint = subscribed
    receiver.script = ["hang"]  # the first request never gets an answer
    env = {"WEBHOOK_TIMEOUT_SECONDS": "2", "WEBHOOK_RETRY_BASE_SECONDS": "0.5"}
    doomed = webhook_worker(**env)

    services.cancel_order(order=chain.original, employee=alice)
    (first,) = receiver.wait_for(1, timeout=30)
    # The worker is waiting for the receiver's answer: kill it there.
    delivery = endpoint.deliveries.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempt_log.get().outcome == AttemptOutcome.SENDING
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=10)
    webhook_worker(**env)

    first, second = receiver.wait_for(2, timeout=40)
    assert first.webhook_id == second.webhook_id == delivery.event.webhook_id
    assert first.body == second.body and first.verified and second.verified
    # Not before the killed attempt's lease ran out (2 × timeout + 1 s from its claim).
    assert second.at - first.at >= 4
    delivered = wait_for_status(lambda: Delivery.objects.get(pk=delivery.pk),
                                DeliveryStatus.DELIVERED)
    assert delivered.attempts == 2
    outcomes = list(delivered.attempt_log.values_list("outcome", flat=True))
    assert outcomes == [AttemptOutcome.INTERRUPTED, AttemptOutcome.SUCCEEDED]
    time.sleep(1)
    assert len(receiver.requests) == 2  # and nothing more
