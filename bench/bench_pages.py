"""Benchmark (not a test): the clerk pages with 100k orders in one company, on PostgreSQL.

Prints, for the order list, a search, an order page with its chain and the History tab of an
order with 200 history rows, the number of SQL queries (in a small company and in the 100k one:
they must be equal) and the median time, next to the Django admin's changelist (and its search)
for the same orders.

    .venv/bin/python bench/bench_pages.py                      # creates ic_bench_pages
    .venv/bin/python bench/bench_pages.py --orders 20000 --repeat 10
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/ic_bench_pages2 .venv/bin/python ...

The database named in BENCH_DATABASE_URL is dropped and created anew (its name must start with
``ic_bench_pages``). Pages are rendered in-process by Django's test client with DEBUG off, so the
figures are the server's time, without network or browser.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ic_bench_pages"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="sales orders in USMF")
    parser.add_argument("--small", type=int, default=300, help="sales orders in DEMF")
    parser.add_argument("--history", type=int, default=200, help="history rows of one order")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument("--keep", action="store_true", help="reuse the database if seeded")
    return parser.parse_args()


def configure(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith("ic_bench_pages"):
        sys.exit(f"Refusing to use database {name!r}: its name must start with ic_bench_pages.")
    os.environ["DATABASE_URL"] = url
    # Production-like: DEBUG off (no query log, cached templates), collected static files.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["STATIC_ROOT"] = str(Path(tempfile.gettempdir()) / "ic_bench_pages_static")
    os.environ["DJANGO_SETTINGS_MODULE"] = "intercompany.settings"
    sys.path.insert(0, str(ROOT))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists_and_seeded() -> bool:
    from django.db import connection
    from django.db.utils import OperationalError, ProgrammingError

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_salesorder")
            return cursor.fetchone()[0] > 0
    except (OperationalError, ProgrammingError):
        return False


def seed(args) -> None:
    from django.core.management import call_command
    from django.db import connection

    from intercompany.models import Company, Customer, Employee
    from intercompany.services import create_trading_relationship
    from orders.models import NumberSequence, SalesOrder
    from orders.services import (
        create_intercompany_purchase_order,
        create_sales_order,
        update_customer_information,
    )

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    usmf = Company.objects.create(code="USMF", name="Contoso Entertainment USA")
    demf = Company.objects.create(code="DEMF", name="Contoso Germany")
    alice = Employee.objects.create_user("alice", password="x", first_name="Alice",
                                         last_name="Martin")
    alice.companies.add(usmf)
    jonas = Employee.objects.create_user("jonas", password="x", first_name="Jonas",
                                         last_name="Weber")
    jonas.companies.add(demf)
    Employee.objects.create_superuser("admin", password="x")
    relationship = create_trading_relationship(
        buying_company=usmf, selling_company=demf,
        sales_policy_syncs_intercompany_purchase_order=True,
    )

    def bulk(company, count, customers):
        # bulk_create sends no signal: plain rows, as an import would leave them.
        batch = []
        for i in range(1, count + 1):
            batch.append(SalesOrder(
                company=company,
                number=f"{company.code}-SO-{i:06d}",
                customer=customers[i % len(customers)],
                customer_reference=f"Reference {i}",
                customer_requisition=f"REQ-{i:06d}",
            ))
            if len(batch) == 5000:
                SalesOrder.objects.bulk_create(batch)
                batch = []
        SalesOrder.objects.bulk_create(batch)
        NumberSequence.objects.update_or_create(
            company=company, document="SO", defaults={"last_value": count}
        )

    for company, count in ((usmf, args.orders), (demf, args.small)):
        customers = Customer.objects.bulk_create(
            Customer(company=company, account=f"C-{i:04d}", name=f"Customer {i}")
            for i in range(200)
        )
        bulk(company, count, customers)

    # One chain whose original sales order has ``--history`` history rows; another with 10.
    external = Customer.objects.filter(company=usmf, represents_company__isnull=True).first()
    orders = {}
    for key, rows in (("long", args.history), ("short", 10)):
        original = create_sales_order(
            employee=alice, company=usmf, customer=external, customer_requisition="PO-1"
        )
        purchase = create_intercompany_purchase_order(
            employee=alice, sales_order=original, vendor=relationship.intercompany_vendor
        )
        mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
        for i in range(rows - 1):
            # Alternate the two companies: every other row is a cross-company overwrite.
            order, employee = (original, alice) if i % 2 else (mirror, jonas)
            update_customer_information(
                order=type(order).objects.get(pk=order.pk), employee=employee,
                customer_requisition=f"PO-{i + 2}",
            )
        orders[key] = original
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Seeded {args.orders} + {args.small} sales orders and two chains in "
          f"{time.perf_counter() - started:.1f} s.")


def measure(client, url: str, repeat: int) -> tuple[int, float, int]:
    """(SQL queries, median milliseconds, status) of GET ``url``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm caches (templates, connection, PostgreSQL buffers)
        response = client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    # Read now: the next request empties the connection's query log that ``captured`` views.
    queries = len(captured.captured_queries)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    return queries, statistics.median(times), response.status_code


def main() -> None:
    args = parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    configure(url)
    import django

    django.setup()
    from django.core.management import call_command

    if not (args.keep and database_exists_and_seeded()):
        from django.db import connections

        connections.close_all()
        recreate_database(url)
        seed(args)
    call_command("collectstatic", interactive=False, verbosity=0)

    from django.test import Client
    from django.urls import reverse

    from intercompany.models import Employee
    from orders.models import SalesOrder

    def client_for(username: str) -> Client:
        client = Client()
        client.force_login(Employee.objects.get(username=username))
        return client

    alice, jonas, admin = client_for("alice"), client_for("jonas"), client_for("admin")
    chained = SalesOrder.objects.filter(company__code="USMF", chain__isnull=False).order_by("pk")
    short, long = chained[0], chained[1]
    if short.history.count() > long.history.count():
        short, long = long, short
    needle = f"REQ-{args.orders // 2 + 17:06d}"
    list_url = reverse("orders:sales-order-list")
    admin_list = reverse("admin:orders_salesorder_changelist")
    # Page 200 is read by key: the link carries the last row of page 199 (found once here).
    from orders.selectors import Cursor

    row = (SalesOrder.objects.filter(company__code="USMF").order_by("-number")
           .values_list("pk", "number")[199 * 50 - 1])
    page_200 = f"{list_url}?after={Cursor(*row).encode()}"

    rows = [
        ("Order list (clerk)", list_url, (jonas, alice)),
        (f"Search {needle!r} (clerk)", f"{list_url}?q={needle}", (jonas, alice)),
        ("Order list, page 200 (clerk)", page_200, (None, alice)),
        ("Order page with chain (clerk)",
         (reverse("orders:sales-order-detail", args=[short.pk]),
          reverse("orders:sales-order-detail", args=[long.pk])), (alice, alice)),
        (f"History tab, {long.history.count()} rows (clerk)",
         (reverse("orders:sales-order-history", args=[short.pk]),
          reverse("orders:sales-order-history", args=[long.pk])), (alice, alice)),
        ("Admin changelist", admin_list, (None, admin)),
        (f"Admin search {needle!r}", f"{admin_list}?q={needle}", (None, admin)),
        ("Admin changelist, USMF filter", f"{admin_list}?company__id__exact="
         f"{long.company_id}", (None, admin)),
    ]

    print(f"\nPostgreSQL {url.rsplit('/', 1)[-1]}: USMF {args.orders} sales orders, "
          f"DEMF {args.small}; median of {args.repeat} requests after 2 warm-ups.\n")
    header = f"{'page':44} {'queries small/large':>19} {'median ms':>10} {'status':>7}"
    print(header)
    print("-" * len(header))
    results = {}
    for label, urls, (small_client, big_client) in rows:
        small_url, big_url = urls if isinstance(urls, tuple) else (urls, urls)
        small_queries = "-"
        if small_client is not None:
            small_queries = str(measure(small_client, small_url, 1)[0])
        queries, median, status = measure(big_client, big_url, args.repeat)
        results[label] = median
        print(f"{label:44} {small_queries + ' / ' + str(queries):>19} {median:10.1f} {status:7}")

    print()
    admin_ms = results["Admin changelist"]
    for label in ("Order list (clerk)", "Order page with chain (clerk)"):
        print(f"{label}: {results[label] / admin_ms:.2f} × the admin changelist")
    search_label = next(label for label in results if label.startswith("Search"))
    admin_search = next(label for label in results if label.startswith("Admin search"))
    print(f"Search (clerk): {results[search_label] / results[admin_search]:.2f} × the admin "
          "search")


if __name__ == "__main__":
    main()
