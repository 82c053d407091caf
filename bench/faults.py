"""Fault injection for the sync: stop an edit in the middle of its transaction.

Two places where a half-synchronized chain would show if the transaction did not hold. An edit
writes table by table (the edited order's table first: it and the copies to that table with
their history rows; then the other table), then the overwrite records:

- ``between-copies``: the first table's orders and history rows are written, the other table's
  not yet;
- ``before-records``: every order and history row is written, the overwrite records not yet.

``stop_sync_at(point, on_stop)`` patches the sync so that the first edit reaching ``point`` calls
``on_stop()`` there (which may block, kill the connection or raise) and then goes on. Used by
``tests/test_faults.py`` and by the command-line demonstration below, which runs each fault
against a fresh PostgreSQL database and prints what became of the chain::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ic_faults_demo .venv/bin/python bench/faults.py

(the database named in DATABASE_URL is dropped and created: use a scratch name).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

POINTS = ("between-copies", "before-records")


@contextlib.contextmanager
def stop_sync_at(point: str, on_stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, the first edit that reaches ``point`` calls ``on_stop()`` there."""
    from orders import sync

    fired = threading.Event()

    def fire_once():
        if not fired.is_set():
            fired.set()
            on_stop()

    if point == "between-copies":
        original, name = sync._write_table, "_write_table"

        def patched(*args, **kwargs):
            # The first table's rows and history rows are written; the other table's are not.
            rows = original(*args, **kwargs)
            fire_once()
            return rows

    elif point == "before-records":
        original, name = sync.save_overwrite_records, "save_overwrite_records"

        def patched(*args, **kwargs):
            # Every order and history row is written; the overwrite records are not.
            fire_once()
            return original(*args, **kwargs)

    else:
        raise ValueError(f"unknown point {point!r}; choose one of {', '.join(POINTS)}")
    target = sync
    setattr(target, name, patched)
    try:
        yield
    finally:
        setattr(target, name, original)


# -- command-line demonstration -------------------------------------------------------------------


def _demo() -> int:  # pragma: no cover - a script, exercised by hand
    import os
    import re
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("Set DATABASE_URL=postgres://.../ic_faults_<name> (a scratch database).")
        return 2
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    if not re.fullmatch(r"ic_faults\w*", cfg["NAME"]):
        print(f"Refusing to drop {cfg['NAME']!r}: name the scratch database ic_faults*.")
        return 2
    admin = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or None, user=cfg["USER"],
                            password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=root,
                   check=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intercompany.settings")
    import django

    django.setup()
    from django.db import Error, connection

    from intercompany.models import Company, Customer, Employee
    from intercompany.services import create_trading_relationship
    from orders.models import PurchaseOrder, SalesOrder
    from orders.services import (
        create_intercompany_purchase_order,
        create_sales_order,
        update_customer_information,
    )

    usmf = Company.objects.create(code="USMF", name="Contoso Entertainment USA")
    demf = Company.objects.create(code="DEMF", name="Contoso Germany")
    alice = Employee.objects.create_user("alice", password="x")
    alice.companies.add(usmf)
    jonas = Employee.objects.create_user("jonas", password="x")
    jonas.companies.add(demf)
    rel = create_trading_relationship(
        buying_company=usmf, selling_company=demf,
        sales_policy_syncs_intercompany_purchase_order=True,
    )
    customer = Customer.objects.create(company=usmf, account="US-001", name="Fabrikam")
    original = create_sales_order(employee=alice, company=usmf, customer=customer,
                                  customer_requisition="PO-7781")
    purchase = create_intercompany_purchase_order(employee=alice, sales_order=original,
                                                  vendor=rel.intercompany_vendor)
    mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)

    def snapshot():
        return (
            sorted(SalesOrder.objects.values_list("pk", "customer_requisition", "version")),
            sorted(PurchaseOrder.objects.values_list("pk", "customer_requisition", "version")),
            SalesOrder.history.count() + PurchaseOrder.history.count(),
        )

    failures = 0
    for point in POINTS:
        before = snapshot()
        killer = psycopg.connect(host=cfg["HOST"], port=cfg["PORT"] or None, user=cfg["USER"],
                                 password=cfg["PASSWORD"] or None, dbname=cfg["NAME"],
                                 autocommit=True)
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid

        def terminate(pid=pid, killer=killer):
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
            time.sleep(0.2)

        error = None
        with stop_sync_at(point, terminate):
            try:
                update_customer_information(order=SalesOrder.objects.get(pk=mirror.pk),
                                            employee=jonas, customer_requisition="PO-LOST")
            except Error as exc:
                error = exc
        connection.close()
        after = snapshot()
        ok = error is not None and after == before
        failures += not ok
        print(f"connection terminated at {point}: caller got "
              f"{type(error).__name__ if error else 'no error'}; chain and history "
              f"{'unchanged' if after == before else 'CHANGED'} -> {'OK' if ok else 'FAIL'}")
        killer.close()
    result = update_customer_information(order=SalesOrder.objects.get(pk=mirror.pk),
                                         employee=jonas, customer_requisition="PO-AFTER")
    print(f"afterwards an edit syncs normally: {result.message}")
    connection.close()
    admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')
    return 1 if failures else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_demo())
