"""What a customer-information edit costs when it syncs a chain, as the database grows.

Run: ``.venv/bin/python bench/bench_sync.py`` (see bench/README.md). Not a test: it prints figures.

On PostgreSQL, with 1k and then 100k orders in the database, it edits the customer requisition
of the original sales order of two three-legged chains (USMF sells, sources from an intercompany
vendor): one where USMF buys from DEMF with every switch on (the edit is copied to the
intercompany purchase order and the intercompany sales order), one where USMF buys from GBSI
with every switch off (nothing is copied). For each it reports SQL statements per edit and the
median time per edit, and the ratio on / off.

The database named by DATABASE_URL (default ``ic_bench_sync``) is dropped and created again: its
name must start with ``ic_bench_``.
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ic_bench_sync"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intercompany.settings")
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
# Timings without DEBUG's query log; the secret is only needed because DEBUG is off.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_hex(16))

STATEMENT_TARGET = 12
RATIO_TARGET = 2.0
BATCH = 5_000


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (only an ``ic_bench_`` one)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench_sync needs PostgreSQL; DATABASE_URL is {url!r}.")
    name = parts.path.lstrip("/")
    if not name.startswith("ic_bench_"):
        sys.exit(f"Refusing to drop {name!r}: the benchmark database must start with ic_bench_.")
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        database = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(database))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="orders in the database at each measurement (default 1000,100000)")
    parser.add_argument("--edits", type=int, default=400,
                        help="measured edits per setting and size (default 400)")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up edits per setting")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    recreate_database(os.environ["DATABASE_URL"])

    import django

    django.setup()

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    bench = Bench()
    print(f"PostgreSQL {bench.server_version()}; every switch on: {bench.on}; "
          f"every switch off: {bench.off}")
    rows = []
    for size in sizes:
        started = time.perf_counter()
        bench.fill_to(size)
        print(f"  {bench.order_count():>7} orders in the database "
              f"(filler loaded in {time.perf_counter() - started:.1f} s)", flush=True)
        rows.append(bench.measure(edits=args.edits, warmup=args.warmup))
    print_table(rows, edits=args.edits)


class Bench:
    def __init__(self) -> None:
        from intercompany.models import Company, Customer, Employee, Vendor
        from intercompany.services import create_trading_relationship
        from orders.services import create_intercompany_purchase_order, create_sales_order

        def company(code, name):
            return Company.objects.create(code=code, name=name)

        self.usmf = company("USMF", "Contoso Entertainment USA")
        self.demf = company("DEMF", "Contoso Germany")
        self.gbsi = company("GBSI", "Contoso UK")
        self.alice = Employee.objects.create_user(
            username="alice", first_name="Alice", last_name="Martin", password=None
        )
        self.alice.companies.add(self.usmf)
        self.customer = Customer.objects.create(
            company=self.usmf, account="US-001", name="Fabrikam Retail"
        )
        self.vendors = {
            c.code: Vendor.objects.create(company=c, account=f"{c.code[:2]}-101", name="Litware")
            for c in (self.usmf, self.demf, self.gbsi)
        }
        self.customers = {
            c.code: Customer.objects.create(company=c, account=f"{c.code[:2]}-002", name="Forest")
            for c in (self.usmf, self.demf, self.gbsi)
        }
        every = dict.fromkeys(
            (
                "purchase_policy_syncs_original_sales_order",
                "purchase_policy_syncs_intercompany_sales_order",
                "sales_policy_syncs_intercompany_purchase_order",
            )
        )
        self.rel_on = create_trading_relationship(
            buying_company=self.usmf, selling_company=self.demf, **dict.fromkeys(every, True)
        )
        self.rel_off = create_trading_relationship(
            buying_company=self.usmf, selling_company=self.gbsi, **dict.fromkeys(every, False)
        )
        self.orders = {}
        for label, relationship in (("on", self.rel_on), ("off", self.rel_off)):
            original = create_sales_order(
                employee=self.alice, company=self.usmf, customer=self.customer,
                customer_reference="Fabrikam spring launch", customer_requisition="PO-0",
            )
            create_intercompany_purchase_order(
                employee=self.alice, sales_order=original,
                vendor=relationship.intercompany_vendor,
            )
            self.orders[label] = original
        self.on = str(self.rel_on)
        self.off = str(self.rel_off)
        self._filler_number = 0

    @staticmethod
    def server_version() -> str:
        from django.db import connection

        connection.ensure_connection()
        return connection.cursor().connection.info.parameter_status("server_version")

    @staticmethod
    def order_count() -> int:
        from orders.models import PurchaseOrder, SalesOrder

        return SalesOrder.objects.count() + PurchaseOrder.objects.count()

    def _number(self, company, document) -> str:
        # "F" numbers never meet the services' "USMF-SO-000042" numbers.
        self._filler_number += 1
        return f"{company.code}-{document}-F{self._filler_number:08d}"

    def fill_to(self, total: int) -> None:
        """Bulk-create filler orders (bypassing the services and the sync) up to ``total``:
        40% plain sales orders, 20% plain purchase orders, 40% in three-legged chains; with one
        history row each, as the services would leave."""
        from django.db import connection, transaction

        while (missing := total - self.order_count()) > 0:
            with transaction.atomic():
                self._fill_batch(min(missing, BATCH))
        with connection.cursor() as cursor:
            # Fresh statistics, so the planner sees the table sizes it would see in production.
            cursor.execute("ANALYZE")

    def _fill_batch(self, count: int) -> None:
        from orders.models import OrderChain, PurchaseOrder, SalesOrder

        companies = (self.usmf, self.demf, self.gbsi)
        chains = count * 2 // 15  # three orders each: 40% of the batch
        plain_sales = (count - 3 * chains) * 2 // 3
        plain_purchases = count - 3 * chains - plain_sales
        created_sales, created_purchases = [], []

        sales = [
            SalesOrder(
                company=(c := companies[i % 3]), number=self._number(c, "SO"),
                customer=self.customers[c.code], customer_reference=f"Filler {i}",
                customer_requisition=f"REQ-{i}",
            )
            for i in range(plain_sales)
        ]
        created_sales += SalesOrder.objects.bulk_create(sales)
        purchases = [
            PurchaseOrder(
                company=(c := companies[i % 3]), number=self._number(c, "PO"),
                vendor=self.vendors[c.code],
            )
            for i in range(plain_purchases)
        ]
        created_purchases += PurchaseOrder.objects.bulk_create(purchases)
        if chains:
            chain_rows = OrderChain.objects.bulk_create([OrderChain() for _ in range(chains)])
            relationships = [self.rel_on, self.rel_off]
            originals = SalesOrder.objects.bulk_create([
                SalesOrder(
                    company=self.usmf, number=self._number(self.usmf, "SO"),
                    customer=self.customer, chain=chain, customer_reference=f"Chain {chain.pk}",
                    customer_requisition=f"PO-{chain.pk}",
                )
                for chain in chain_rows
            ])
            ic_purchases = PurchaseOrder.objects.bulk_create([
                PurchaseOrder(
                    company=self.usmf, number=self._number(self.usmf, "PO"),
                    vendor=(r := relationships[i % 2]).intercompany_vendor,
                    trading_relationship=r, origin_sales_order=original, chain_id=original.chain_id,
                    customer_reference=original.customer_reference,
                    customer_requisition=original.customer_requisition,
                )
                for i, original in enumerate(originals)
            ])
            mirrors = SalesOrder.objects.bulk_create([
                SalesOrder(
                    company=(r := relationships[i % 2]).selling_company,
                    number=self._number(r.selling_company, "SO"),
                    customer=r.intercompany_customer, intercompany_purchase_order=po,
                    chain_id=po.chain_id, customer_reference=po.customer_reference,
                    customer_requisition=po.customer_requisition,
                )
                for i, po in enumerate(ic_purchases)
            ])
            created_sales += originals + mirrors
            created_purchases += ic_purchases
        for model, objs in ((SalesOrder, created_sales), (PurchaseOrder, created_purchases)):
            model.history.bulk_history_create(
                objs, batch_size=BATCH, custom_historical_attrs={"history_kind": "created"}
            )

    def measure(self, *, edits: int, warmup: int) -> dict:
        """Edit the on- and off-chain's original sales order alternately (on first, then off
        first) so that a noisy neighbour slows both alike."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from orders.models import PurchaseOrder, SalesOrder
        from orders.services import update_customer_information

        counter = iter(range(10**9))
        reached = {}

        def edit(label: str) -> float:
            order = self.orders[label]
            value = f"PO-{next(counter)}"
            started = time.perf_counter()
            result = update_customer_information(
                order=order, employee=self.alice, customer_requisition=value
            )
            elapsed = time.perf_counter() - started
            reached[label] = len(result.copied_to)
            return elapsed

        for _ in range(warmup):
            edit("on")
            edit("off")

        statements = {}
        for label in ("on", "off"):
            counts = set()
            for _ in range(5):
                with CaptureQueriesContext(connection) as queries:
                    edit(label)
                counts.add(len(queries.captured_queries))
            statements[label] = counts

        times = {"on": [], "off": []}
        gc.collect()
        for i in range(edits):
            for label in (("on", "off") if i % 2 == 0 else ("off", "on")):
                times[label].append(edit(label))

        # The edit really landed on every order of the on-chain, and only on the original of the
        # off-chain.
        on_chain = self.orders["on"].chain_id
        last_on = SalesOrder.objects.get(pk=self.orders["on"].pk).customer_requisition
        assert {
            *SalesOrder.objects.filter(chain_id=on_chain).values_list("customer_requisition",
                                                                      flat=True),
            *PurchaseOrder.objects.filter(chain_id=on_chain).values_list("customer_requisition",
                                                                         flat=True),
        } == {last_on}
        assert reached == {"on": 2, "off": 0}, reached

        median = {label: statistics.median(values) * 1000 for label, values in times.items()}
        p90 = {
            label: statistics.quantiles(values, n=10)[-1] * 1000
            for label, values in times.items()
        }
        return {
            "orders": self.order_count(),
            "statements": statements,
            "median": median,
            "p90": p90,
            "ratio": median["on"] / median["off"],
        }


def print_table(rows: list[dict], *, edits: int) -> None:
    def counts(values: set[int]) -> str:
        return str(min(values)) if len(values) == 1 else f"{min(values)}-{max(values)}"

    print()
    print(f"Customer-information edit on the original sales order of a three-legged chain, "
          f"{edits} edits per setting, on/off interleaved")
    header = (f"{'orders in DB':>12} | {'statements on/off':>17} | {'median ms on/off':>16} | "
              f"{'p90 ms on/off':>13} | {'ratio':>5}")
    print(header)
    print("-" * len(header))
    for row in rows:
        statements = f"{counts(row['statements']['on'])} / {counts(row['statements']['off'])}"
        median = f"{row['median']['on']:.2f} / {row['median']['off']:.2f}"
        p90 = f"{row['p90']['on']:.2f} / {row['p90']['off']:.2f}"
        print(f"{row['orders']:>12} | {statements:>17} | {median:>16} | {p90:>13} | "
              f"{row['ratio']:>5.2f}")
    print("statements: as counted by CaptureQueriesContext, including the BEGIN and COMMIT that "
          "Django records")
    print()
    on_counts = set().union(*(row["statements"]["on"] for row in rows))
    worst_ratio = max(row["ratio"] for row in rows)
    print(f"statements per edit, every switch on: {counts(on_counts)} at every size "
          f"(target <= {STATEMENT_TARGET}, same at every size): "
          f"{'met' if len(on_counts) == 1 and max(on_counts) <= STATEMENT_TARGET else 'NOT met'}")
    print(f"median on / off: at most {worst_ratio:.2f}x (target <= {RATIO_TARGET}x): "
          f"{'met' if worst_ratio <= RATIO_TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
