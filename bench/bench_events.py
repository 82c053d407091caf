"""What change events (webhooks) cost: on the clerk's edit, and per delivery in the worker.

Run: ``.venv/bin/python bench/bench_events.py`` (see bench/README.md). Not a test: it prints
figures.

On PostgreSQL, a three-legged chain with every switch on (USMF buys from DEMF). It edits the
customer requisition of USMF's original sales order (copied to both other orders): with no
endpoint registered, and with an endpoint per company subscribed to every event. Alice (USMF) and
Jonas (DEMF) take turns, so every edit also overwrites the other company's value on all three
orders: 3 change events and 3 overwrite events, to the company of each order. It
reports SQL statements and median time per edit for each, interleaved. Then it delivers the
queued events to a receiver on 127.0.0.1 (answering 200 at once) through ``attempt_delivery``,
the worker task's body, and reports deliveries per second and statements per delivery.

The database named by DATABASE_URL (default ``ic_bench_events``) is dropped and created
again: its name must start with ``ic_``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ic_bench_events"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intercompany.settings")
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_hex(16))


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit(f"bench_events needs PostgreSQL; DATABASE_URL is {url!r}.")
    name = parts.path.lstrip("/")
    if not name.startswith("ic_"):
        sys.exit(f"Refusing to drop {name!r}: the benchmark database must start with ic_.")
    with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                         user=parts.username or "postgres", password=parts.password,
                         dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


class Ok(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=100, help="timed edits per setting")
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    recreate_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    from intercompany.models import Company, Customer, Employee
    from intercompany.services import create_trading_relationship
    from orders import services
    from webhooks.delivery import attempt_delivery
    from webhooks.models import Delivery, DeliveryStatus, EventType, WebhookEndpoint

    usmf = Company.objects.create(code="USMF", name="Contoso USA")
    demf = Company.objects.create(code="DEMF", name="Contoso Germany")
    alice = Employee.objects.create_user("alice", first_name="Alice", last_name="Martin")
    alice.companies.add(usmf)
    jonas = Employee.objects.create_user("jonas", first_name="Jonas", last_name="Weber")
    jonas.companies.add(demf)
    relationship = create_trading_relationship(
        buying_company=usmf, selling_company=demf, purchase_policy_syncs_original_sales_order=True,
        purchase_policy_syncs_intercompany_sales_order=True,
        sales_policy_syncs_intercompany_purchase_order=True)
    customer = Customer.objects.create(company=usmf, account="US-001", name="Fabrikam")
    original = services.create_sales_order(employee=alice, company=usmf, customer=customer)
    purchase = services.create_intercompany_purchase_order(
        employee=alice, sales_order=original, vendor=relationship.intercompany_vendor)
    mirror = purchase.intercompany_sales_order

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    endpoints = [WebhookEndpoint(company=c, url=url, event_types=list(EventType.values),
                                 enabled=False) for c in (usmf, demf)]
    WebhookEndpoint.objects.bulk_create(endpoints)

    counter = iter(range(10**9))

    def edit():
        # Alice and Jonas take turns: each edit replaces the other company's value (an overwrite
        # on every order of the chain), as with every switch on in real life.
        number = next(counter)
        employee, order = (alice, original) if number % 2 else (jonas, mirror)
        services.update_customer_information(order=order, employee=employee,
                                             customer_requisition=f"REQ-{number}")

    def with_endpoints(on: bool):
        WebhookEndpoint.objects.update(enabled=on)

    statements = {}
    for on in (False, True):
        with_endpoints(on)
        with CaptureQueriesContext(connection) as captured:
            for _ in range(4):
                edit()
        statements[on] = len(captured.captured_queries) / 4
    # The same edits without the webhooks app's receivers: what the outbox adds with nothing
    # registered (its look-up of the endpoints).
    from intercompany.signals import trading_relationship_changed
    from orders import domain_signals
    from webhooks.apps import WebhooksConfig

    signals = [domain_signals.order_created, domain_signals.customer_information_changed,
               domain_signals.overwrites_recorded, domain_signals.order_cancelled,
               trading_relationship_changed]
    receivers = {signal: list(signal.receivers) for signal in signals}
    for signal in signals:
        for name in ("order_created", "customer_information_changed", "overwrites_recorded",
                     "order_cancelled", "trading_relationship_changed"):
            signal.disconnect(dispatch_uid=f"webhooks.{name}")
    with_endpoints(False)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(4):
            edit()
    without_app = len(captured.captured_queries) / 4
    WebhooksConfig.ready(django.apps.apps.get_app_config("webhooks"))
    assert all(len(signal.receivers) == len(receivers[signal]) for signal in signals)

    timings = {False: [], True: []}
    for round_ in range(args.warmup + args.edits):
        for on in ((False, True) if round_ % 2 else (True, False)):
            with_endpoints(on)
            started = time.perf_counter()
            edit()
            if round_ >= args.warmup:
                timings[on].append(time.perf_counter() - started)
    median = {on: statistics.median(values) * 1000 for on, values in timings.items()}

    with_endpoints(True)  # a disabled endpoint's deliveries would be marked failed, not sent
    pending = list(Delivery.objects.filter(status=DeliveryStatus.PENDING)
                   .values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        attempt_delivery(pending[0])
    per_delivery = len(captured.captured_queries)
    started = time.perf_counter()
    for pk in pending[1:]:
        attempt_delivery(pk)
    took = time.perf_counter() - started
    delivered = Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count()
    server.shutdown()

    print(f"edit with every switch on, {args.edits} timed edits per setting (PostgreSQL)")
    print("| endpoints | SQL statements per edit | median time per edit |")
    print("|---|---|---|")
    print(f"| (webhooks receivers disconnected) | {without_app:.1f} | – |")
    print(f"| none registered | {statements[False]:.1f} | {median[False]:.2f} ms |")
    print(f"| one per company, every event | {statements[True]:.1f} | {median[True]:.2f} ms "
          f"({median[True] / median[False]:.2f}×) |")
    print(f"delivery: {len(pending) - 1} deliveries in {took:.2f} s = "
          f"{(len(pending) - 1) / took:.0f}/s by one worker; {per_delivery} statements each; "
          f"{delivered} delivered")


if __name__ == "__main__":
    main()
