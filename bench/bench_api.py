"""Benchmark (not a test): the HTTP API against the clerk screens, same operations, one run.

For the order list, the order page with its chain and a customer-information edit, prints the
SQL queries of one request and the median time, through the API (token) and through the clerk
screens (session), first with 1,000 sales orders in the company, then with 100,000 (or the
sizes given): the API must be at most as slow as the screens, and both query counts the same
at every size.

    .venv/bin/python bench/bench_api.py                        # about 2 minutes
    .venv/bin/python bench/bench_api.py --sizes 1000,100000,1000000 --repeat 30

The database named in BENCH_DATABASE_URL (default ``ic_bench_api``) is dropped and
created anew; its name must start with ``ic_issue12_api`` or ``ic_bench``. Requests run
in-process through Django's test client with DEBUG off: the server's time, without network.
The filler orders are bulk-created (as an import would leave them); the orders measured are a
three-legged chain made through the services.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ic_bench_api"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="sales orders in the company, comma-separated, ascending")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per operation")
    return parser.parse_args()


def configure(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    if not name.startswith(("ic_issue12_api", "ic_bench")):
        sys.exit(f"Refusing to use database {name!r}.")
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["API_RATE_LIMIT_PER_MINUTE"] = "100000000"
    os.environ["STATIC_ROOT"] = str(Path(tempfile.gettempdir()) / "ic_bench_api_static")
    os.environ["DJANGO_SETTINGS_MODULE"] = "intercompany.settings"
    sys.path.insert(0, str(ROOT))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed():
    """Two companies trading, the clerk Alice, 200 customers and one three-legged chain."""
    from django.core.management import call_command

    from api.tokens import create_api_token
    from intercompany.models import Company, Customer, Employee
    from intercompany.services import create_trading_relationship
    from orders.services import create_intercompany_purchase_order, create_sales_order

    call_command("migrate", verbosity=0)
    usmf = Company.objects.create(code="USMF", name="Contoso Entertainment USA")
    demf = Company.objects.create(code="DEMF", name="Contoso Germany")
    alice = Employee.objects.create_user("alice", password="x", first_name="Alice",
                                         last_name="Martin")
    alice.companies.add(usmf)
    relationship = create_trading_relationship(buying_company=usmf, selling_company=demf)
    customers = Customer.objects.bulk_create(
        Customer(company=usmf, account=f"C-{i:04d}", name=f"Customer {i}") for i in range(200)
    )
    original = create_sales_order(employee=alice, company=usmf, customer=customers[0],
                                  customer_reference="Campaign", customer_requisition="PO-1")
    create_intercompany_purchase_order(employee=alice, sales_order=original,
                                       vendor=relationship.intercompany_vendor)
    _token, secret = create_api_token(employee=alice, name="Benchmark")
    return alice, usmf, customers, original, secret


def fill(company, customers, upto: int) -> None:
    """Plain sales orders up to ``upto`` in ``company`` (bulk_create: no signal, no history)."""
    from django.db import connection

    from orders.models import NumberSequence, SalesOrder

    have = SalesOrder.objects.filter(company=company).count()
    sequence = NumberSequence.objects.get(company=company, document="SO")
    start = sequence.last_value + 1
    batch = []
    for i in range(start, start + max(0, upto - have)):
        batch.append(SalesOrder(
            company=company, number=f"{company.code}-SO-{i:07d}",
            customer=customers[i % len(customers)],
            customer_reference=f"Reference {i}", customer_requisition=f"REQ-{i:07d}",
        ))
        if len(batch) == 5000:
            SalesOrder.objects.bulk_create(batch)
            batch = []
    SalesOrder.objects.bulk_create(batch)
    NumberSequence.objects.filter(pk=sequence.pk).update(
        last_value=start + max(0, upto - have) - 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(call) -> tuple[float, int, int]:
    """(milliseconds, SQL queries, status) of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
    return elapsed, len(captured.captured_queries), response.status_code


def measure(operations, repeat: int) -> dict:
    """Interleaved: each round runs every operation once, so a noisy neighbour on the shared
    machine slows them alike. Two warm-up rounds first."""
    results = {name: {"ms": [], "queries": set(), "status": set()} for name in operations}
    for round_ in range(repeat + 2):
        for name, call in operations.items():
            ms, queries, status = timed(call)
            if round_ >= 2:
                results[name]["ms"].append(ms)
                results[name]["queries"].add(queries)
                results[name]["status"].add(status)
    return results


def main() -> None:
    args = parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    configure(url)
    import django

    recreate_database(url)
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from orders.models import SalesOrder

    alice, usmf, customers, original, secret = seed()
    call_command("collectstatic", interactive=False, verbosity=0)
    screen = Client()
    screen.force_login(alice)
    api = Client(headers={"Authorization": f"Bearer {secret}"})
    api_detail = f"/api/v1/companies/USMF/sales-orders/{original.number}"
    counter = iter(range(10**9))

    def version() -> int:
        return SalesOrder.objects.values_list("version", flat=True).get(pk=original.pk)

    def screen_edit():
        # The clerk's edit as they live it: the form's POST and the order page it leads to,
        # with the message saying where the change was copied. The API's PATCH answers both
        # (the order with its chain, and the save result) in one response.
        return screen.post(reverse("orders:sales-order-edit", args=[original.pk]), {
            "customer_reference": "Campaign", "customer_requisition": f"S-{next(counter)}",
            "version": version(),
        }, follow=True)

    def api_edit():
        return api.patch(api_detail, json.dumps({"customer_requisition": f"A-{next(counter)}"}),
                         content_type="application/json",
                         headers={"If-Match": f'"{version()}"'})

    operations = {
        ("Order list", "screen"): lambda: screen.get(reverse("orders:sales-order-list")),
        ("Order list", "API"): lambda: api.get("/api/v1/companies/USMF/sales-orders/"),
        ("Order with its chain", "screen"): lambda: screen.get(
            reverse("orders:sales-order-detail", args=[original.pk])),
        ("Order with its chain", "API"): lambda: api.get(api_detail),
        ("Customer-information edit", "screen"): screen_edit,
        ("Customer-information edit", "API"): api_edit,
    }

    by_size = {}
    for size in sizes:
        started = time.perf_counter()
        fill(usmf, customers, size)
        print(f"Filled USMF to {SalesOrder.objects.filter(company=usmf).count():,} sales orders "
              f"in {time.perf_counter() - started:.0f} s.")
        by_size[size] = measure(operations, args.repeat)

    print(f"\nPostgreSQL, median of {args.repeat} interleaved requests after 2 warm-up rounds. "
          "The edit's figures include the one query that reads the version to send.\n")
    sizes_label = " / ".join(f"{size:,}" for size in sizes)
    header = (f"{'operation':28} {'via':7} {'queries at ' + sizes_label:>30} "
              f"{'median ms at ' + sizes_label:>30} {'status':>8}")
    print(header)
    print("-" * len(header))
    for (name, via) in operations:
        queries = " / ".join(
            ",".join(str(q) for q in sorted(by_size[s][(name, via)]["queries"])) for s in sizes)
        medians = " / ".join(f"{statistics.median(by_size[s][(name, via)]['ms']):.1f}"
                             for s in sizes)
        status = ",".join(str(x) for x in sorted(by_size[sizes[-1]][(name, via)]["status"]))
        print(f"{name:28} {via:7} {queries:>30} {medians:>30} {status:>8}")
    print()
    for name in dict.fromkeys(name for name, _via in operations):
        ratios = " / ".join(
            f"{statistics.median(by_size[s][(name, 'API')]['ms']) / statistics.median(by_size[s][(name, 'screen')]['ms']):.2f}×"  # noqa: E501
            for s in sizes)
        print(f"{name}: API ÷ screen = {ratios}")


if __name__ == "__main__":
    main()
