"""Schemathesis against the served OpenAPI schema, as an employee with a token: every operation,
with generated valid and invalid input, answers without a server error, with a status code,
content type, headers and body that the schema documents.

Half of the generated requests are pointed at the real world (the employee's company, a real
order of a chain, the current ETag, a real customer or vendor account), so that the edits,
creations and cancellations actually run instead of stopping at a 404. The run is bounded
(``MAX_EXAMPLES`` per operation; about a minute on two cores).
"""

from __future__ import annotations

import copy
import itertools
import json

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.endpoints import api
from api.tokens import create_api_token
from intercompany.admin_scoping import RELATIONSHIP_ADMINISTRATORS_GROUP
from intercompany.wsgi import application
from orders.models import ORDER_MODELS
from tests.conftest import EVERY_SWITCH_ON, make_customer, make_employee, make_relationship
from tests.fixtures_web import make_chain

MAX_EXAMPLES = 25
WORLD: dict = {}
_turn = itertools.count()


@pytest.fixture(autouse=True)
def world(db, usmf, demf, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    clerk = make_employee("erp", usmf, demf, first="Erin", last="Clerk", is_staff=True)
    clerk.groups.add(Group.objects.create(name=RELATIONSHIP_ADMINISTRATORS_GROUP))
    customer = make_customer(usmf, "US-001", "Fabrikam")
    chain = make_chain(employee=clerk, customer=customer, relationship=relationship,
                       customer_reference="Ref", customer_requisition="REQ-1")
    _token, secret = create_api_token(employee=clerk, name="Schemathesis")
    WORLD.clear()
    WORLD.update(
        secret=secret,
        relationship=relationship.pk,
        orders={"sales": chain.original, "purchase": chain.purchase},
        customer=customer.account,
        vendor=relationship.intercompany_vendor.account,
    )
    # Schemathesis calls the WSGI application itself, not Django's test client, so the
    # request_finished handler would close the test's connection (and its transaction) after
    # the first request on PostgreSQL; the test client disconnects it the same way.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WORLD
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        WORLD.clear()


def served_schema() -> dict:
    """The schema /api/v1/openapi.json serves (no database needed to build it)."""
    return api.get_openapi_schema(path_prefix="/api/v1/")


@schemathesis.hook
def map_case(context, case):
    """Every other case: the real company, order, ETag (current or stale) and accounts."""
    meta = case.meta
    if not WORLD or (meta is not None and meta.generation.mode.name != "POSITIVE"):
        return case  # invalid input stays as generated: it must be refused
    turn = next(_turn)
    if turn % 2:
        return case
    path = case.operation.path
    order_type = "sales" if "/sales-orders" in path else "purchase"
    order = WORLD["orders"][order_type]
    params = case.path_parameters or {}
    if "company" in params:
        params["company"] = order.company.code
    if "number" in params:
        params["number"] = order.number
    if "relationship_id" in params:
        params["relationship_id"] = WORLD["relationship"]
    if "field" in params:
        params["field"] = "customer_requisition"
    if case.method == "PATCH" and "{number}" in path and case.body == {}:
        case.body = {"customer_requisition": f"REQ-{turn}"}
    if case.method == "PATCH" and "{number}" in path or path.endswith("/cancel"):
        if case.headers is None:
            case.headers = {}
        current = ORDER_MODELS[order_type].objects.get(pk=order.pk)
        # In turn: the current ETag, a stale one (the order changed since), none.
        case.headers["If-Match"] = f'"{current.version - (turn % 6 == 2)}"'
        if turn % 6 == 4:
            del case.headers["If-Match"]
    if isinstance(case.body, dict):
        if "customer" in case.body:
            case.body["customer"] = WORLD["customer"]
        if "vendor" in case.body:
            case.body["vendor"] = WORLD["vendor"]
    return case


# Loaded when the tests are collected, so that each operation is a test of its own.
schema = schemathesis.openapi.from_dict(copy.deepcopy(served_schema()))
schema.app = application  # called in-process through WSGI, on the test's database


def test_the_schema_tested_is_the_one_the_server_serves(world):
    response = Client().get("/api/v1/openapi.json",
                            headers={"Authorization": f"Bearer {world['secret']}"})
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(served_schema()))
    assert len(response.json()["paths"]) >= 15


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {WORLD['secret']}"},
        # A schema-valid request may still be refused by a rule (a cursor the API never gave
        # out, a stale ETag, an inactive relationship): answered with a documented 4xx.
        excluded_checks=[positive_data_acceptance],
    )

SEEN: dict[str, set[int]] = {}


@schemathesis.hook
def after_call(context, case, response):
    SEEN.setdefault(f"{case.method} {case.operation.path}", set()).add(response.status_code)


def test_the_generated_requests_reached_the_writes():
    """Runs after the operations (file order): half the cases were pointed at the real world,
    so edits, creations and cancellations really ran, not just their refusals."""
    if not SEEN:
        pytest.skip("the schema's operations did not run in this session")
    order = "/api/v1/companies/{company}/sales-orders/{number}"
    assert 200 in SEEN[f"PATCH {order}"], SEEN[f"PATCH {order}"]
    assert 201 in SEEN["POST /api/v1/companies/{company}/sales-orders/"]
    assert 201 in SEEN["POST /api/v1/companies/{company}/purchase-orders/"]
    assert 412 in SEEN[f"PATCH {order}"] and 428 in SEEN[f"PATCH {order}"]
    assert 200 in SEEN["PATCH /api/v1/trading-relationships/{relationship_id}"]
