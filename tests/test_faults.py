"""Faults in the middle of a sync leave no half-synchronized chain.

The edit is stopped inside its transaction (bench/faults.py: after one table's orders and
history rows are written but before the other table's, or after every order and history row
but before the overwrite records), and then:

- its database connection is terminated from a second connection (``pg_terminate_backend``),
- a copy raises,
- or the process making the edit is killed (SIGKILL), as a gunicorn worker can be.

Afterwards every order of the chain and every history table is exactly as before, the caller got
an error (the clerk a page saying that nothing was saved), and the chain syncs normally again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import Error, connection
from django.test import Client
from django.urls import reverse

from bench.faults import POINTS, stop_sync_at
from orders.services import update_customer_information
from tests.conftest import EVERY_SWITCH_ON, make_relationship, make_three_legged_chain, order_state

ROOT = Path(settings.BASE_DIR)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def chain(alice, usmf, demf, external_customer):
    relationship = make_relationship(usmf, demf, **EVERY_SWITCH_ON)
    return make_three_legged_chain(
        employee=alice, relationship=relationship, customer=external_customer,
        customer_reference="Fabrikam", customer_requisition="PO-7781",
    )


def connect_aside() -> psycopg.Connection:
    """A second connection to the test database, outside Django."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
        password=db["PASSWORD"] or None, dbname=db["NAME"], autocommit=True,
    )


def wait_until_gone(aside: psycopg.Connection, pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while aside.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
        assert time.monotonic() < deadline, f"backend {pid} still there"
        time.sleep(0.05)


def in_thread(work, timeout: float = 60):
    """Run ``work()`` on a connection of its own; return (result, error)."""
    box: dict = {}

    def run():
        try:
            box["result"] = work()
        except BaseException as error:  # handed to the test
            box["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the edit hung"
    return box.get("result"), box.get("error")


def terminating_the_connection(pid_box: dict, aside: psycopg.Connection):
    """``on_stop`` for stop_sync_at: terminate the editing connection from ``aside``."""

    def terminate():
        pid = pid_box["pid"]
        assert aside.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        wait_until_gone(aside, pid)

    return terminate


def backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


def assert_chain_syncs_again(chain, alice) -> None:
    result, error = in_thread(lambda: update_customer_information(
        order=chain.fresh("original"), employee=alice, customer_requisition="PO-AFTER"
    ))
    assert error is None, error
    assert set(chain.values().values()) == {"PO-AFTER"}


# -- the connection dies ------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_a_connection_terminated_mid_sync_leaves_every_order_and_history_as_before(
    chain, alice, jonas, point
):
    before = order_state()
    pid_box: dict = {}
    with connect_aside() as aside, stop_sync_at(point, terminating_the_connection(pid_box, aside)):

        def edit():
            pid_box["pid"] = backend_pid()
            return update_customer_information(
                order=chain.fresh("mirror"), employee=jonas, customer_requisition="PO-LOST"
            )

        result, error = in_thread(edit)

    assert result is None
    assert isinstance(error, Error), repr(error)  # OperationalError / InterfaceError
    assert order_state() == before
    assert_chain_syncs_again(chain, alice)


@pytest.mark.parametrize("point", POINTS)
def test_the_clerk_whose_connection_died_is_told_nothing_was_saved(chain, alice, jonas, point):
    client = Client(raise_request_exception=False)
    client.force_login(jonas)
    mirror = chain.fresh("mirror")
    url = reverse("orders:sales-order-edit", args=[mirror.pk])
    before = order_state()
    pid_box: dict = {}
    with connect_aside() as aside, stop_sync_at(point, terminating_the_connection(pid_box, aside)):

        def post():
            pid_box["pid"] = backend_pid()
            return client.post(url, {"customer_reference": "Fabrikam",
                                     "customer_requisition": "PO-LOST",
                                     "version": mirror.version})

        response, error = in_thread(post)

    assert error is None, error
    assert response.status_code == 500
    page = response.content.decode()
    assert "it was not saved" in page
    assert "PO-LOST" not in page
    assert order_state() == before
    assert_chain_syncs_again(chain, alice)


# -- a copy raises ------------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS)
def test_a_copy_that_raises_leaves_nothing_and_the_clerk_is_told(chain, jonas, alice, point):
    def fail():
        raise RuntimeError("copy failed")

    client = Client(raise_request_exception=False)
    client.force_login(jonas)
    mirror = chain.fresh("mirror")
    before = order_state()

    with stop_sync_at(point, fail):
        response = client.post(
            reverse("orders:sales-order-edit", args=[mirror.pk]),
            {"customer_reference": "Fabrikam", "customer_requisition": "PO-LOST",
             "version": mirror.version},
        )

    assert response.status_code == 500
    assert "it was not saved" in response.content.decode()
    assert order_state() == before
    assert_chain_syncs_again(chain, alice)


# -- the process dies ---------------------------------------------------------------------------

KILLED_EDITOR = """
import os, sys, time
import django
django.setup()
from bench.faults import stop_sync_at
from intercompany.models import Employee
from orders.models import SalesOrder
from orders.services import update_customer_information

def stop():
    print("STOPPED", flush=True)
    time.sleep(600)  # until killed

with stop_sync_at(sys.argv[1], stop):
    update_customer_information(
        order=SalesOrder.objects.get(pk=int(sys.argv[2])),
        employee=Employee.objects.get(username="jonas"),
        customer_requisition="PO-LOST",
    )
print("NOT KILLED", flush=True)
"""


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.parametrize("point", POINTS)
def test_a_process_killed_mid_sync_leaves_every_order_and_history_as_before(
    chain, alice, jonas, point
):
    before = order_state()
    env = {**os.environ, "DATABASE_URL": database_url(),
           "DJANGO_SETTINGS_MODULE": "intercompany.settings", "PYTHONPATH": str(ROOT)}
    editor = subprocess.Popen(
        [sys.executable, "-c", KILLED_EDITOR, point, str(chain.mirror.pk)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = editor.stdout.readline()
        assert line.strip() == "STOPPED", line + editor.stderr.read()
        # Mid-transaction: the edited order is locked and written, but nobody else sees it.
        assert chain.values()["mirror"] == "PO-7781"
        os.kill(editor.pid, signal.SIGKILL)
        editor.wait(timeout=10)
    finally:
        if editor.poll() is None:
            editor.kill()
            editor.wait(timeout=10)
        editor.stdout.close()
        editor.stderr.close()

    assert editor.returncode == -signal.SIGKILL
    assert order_state() == before
    assert_chain_syncs_again(chain, alice)
