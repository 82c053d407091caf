"""What a customer-information edit costs when it syncs a chain, as the database grows.

Run: ``.venv/bin/python bench/bench_sync.py`` (see bench/README.md). Not a test: it prints figures.

On PostgreSQL, with 1k and then 100k orders in the database, it edits the customer requisition
of the original sales order of a three-legged chain whose relationship has every switch on (the
edit is copied to the intercompany purchase order and the intercompany sales order) in three
ways, interleaved: the product's ``services.update_customer_information``, the plain Django code a
developer would write (``select_for_update().get()`` and ``save()`` per order, with
django-simple-history), and hand-written SQL (one ``SELECT ... FOR UPDATE``, one ``UPDATE`` and
one multi-row history ``INSERT`` per table). It also edits a chain whose relationship has every
switch off (nothing is copied). It reports SQL statements and median time per edit, and the
product's time relative to the two others. Then the alerts (issue 9): the statements of an edit
that overwrites another company's values (a DEMF clerk's edit of the intercompany sales order,
copied over the USMF clerk's values: overwrite records and alerts) against one that overwrites
nothing, and how many of them write alerts. Its last line: ``synced edit: N statements, X.XX×
plain Django, Y.YY× hand-written SQL`` at the largest size. Targets: at most 9 statements, at
most 0.8× plain Django, at most 2.5× hand-written SQL, at every size.

The database named by DATABASE_URL (default ``ic_bench_sync``) is dropped and created again: its
name must start with ``ic_`` and contain ``bench``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
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

STATEMENT_TARGET = 9
PLAIN_TARGET = 0.8
SQL_TARGET = 2.5
BATCH = 5_000


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (only an ``ic_bench_`` one)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench_sync needs PostgreSQL; DATABASE_URL is {url!r}.")
    name = parts.path.lstrip("/")
    if not (name.startswith("ic_") and "bench" in name):
        sys.exit(f"Refusing to drop {name!r}: the benchmark database's name must start with "
                 "ic_ and contain 'bench' (e.g. ic_bench_sync).")
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
          f"every switch off: {bench.off}", flush=True)
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
        self.jonas = Employee.objects.create_user(
            username="jonas", first_name="Jonas", last_name="Weber", password=None
        )
        self.jonas.companies.add(self.demf)
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

    # -- the three ways of making the same edit ---------------------------------------------

    def chain_orders(self, label: str):
        from orders.models import PurchaseOrder, SalesOrder

        original = self.orders[label]
        purchase = PurchaseOrder.objects.get(origin_sales_order=original)
        mirror = SalesOrder.objects.get(intercompany_purchase_order=purchase)
        return original, purchase, mirror

    def service_edit(self, label: str, value: str) -> int:
        """The product: ``services.update_customer_information``; returns the copies made."""
        from orders.services import update_customer_information

        result = update_customer_information(
            order=self.orders[label], employee=self.alice, customer_requisition=value
        )
        return len(result.copied_to)

    def plain_django_edit(self, value: str) -> None:
        """What a developer would write with the ORM and django-simple-history: lock the three
        orders one by one, save each (one UPDATE and one history INSERT per save). Runs with
        the sync's receivers disconnected (``plain_django``), so each save is only a save."""
        from django.db import transaction

        from orders.models import PurchaseOrder, SalesOrder

        original, purchase, mirror = self.plain_ids
        with transaction.atomic():
            orders = [
                SalesOrder.objects.select_for_update().get(pk=original),
                PurchaseOrder.objects.select_for_update().get(pk=purchase),
                SalesOrder.objects.select_for_update().get(pk=mirror),
            ]
            for order in orders:
                order.customer_requisition = value
                order.customer_requisition_set_by = self.alice
                order.customer_requisition_set_for = self.usmf
                order.version += 1
                order._history_user = self.alice
                order.save()

    def hand_written_sql_edit(self, value: str) -> None:
        """What the database needs: one SELECT ... FOR UPDATE of the chain's rows, one
        UPDATE ... WHERE id = ANY(...) per table, one multi-row history INSERT per table."""
        from django.db import connection, transaction
        from django.utils import timezone

        sql = self.hand_written
        original, _purchase, _mirror = self.plain_ids
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql["lock"], [self.orders["on"].chain_id])
            rows = cursor.fetchall()
            sales = sorted({row[0] for row in rows})
            purchases = sorted({row[1] for row in rows})
            for table, ids in (("sales", sales), ("purchase", purchases)):
                cursor.execute(sql[f"update {table}"],
                               [value, self.alice.pk, self.usmf.pk, now, ids])
            for table, ids in (("sales", sales), ("purchase", purchases)):
                cursor.execute(sql[f"history {table}"], [
                    now, self.alice.pk, self.usmf.pk,
                    original,  # kind: edited here, else copied
                    original,  # source type
                    original, original,  # source id
                    original, self.source[0],  # source number
                    original, self.source[1],  # source role
                    original, self.usmf.pk,  # source company
                    ids,
                ])

    def prepare_variants(self) -> None:
        from django.db import connection

        from orders.models import OrderChain, PurchaseOrder, SalesOrder

        original, purchase, mirror = self.chain_orders("on")
        self.plain_ids = (original.pk, purchase.pk, mirror.pk)
        self.source = (original.number, original.role)
        quote = connection.ops.quote_name
        chain_table = quote(OrderChain._meta.db_table)
        tables = {"sales": SalesOrder, "purchase": PurchaseOrder}
        self.hand_written = {
            "lock": (
                f"SELECT s.id, p.id FROM {chain_table} c "
                f"JOIN {quote(SalesOrder._meta.db_table)} s ON s.chain_id = c.id "
                f"JOIN {quote(PurchaseOrder._meta.db_table)} p ON p.chain_id = c.id "
                "WHERE c.id = %s ORDER BY s.id, p.id FOR UPDATE"
            ),
        }
        for name, model in tables.items():
            table = quote(model._meta.db_table)
            self.hand_written[f"update {name}"] = (
                f"UPDATE {table} SET customer_requisition = %s, "
                "customer_requisition_set_by_id = %s, customer_requisition_set_for_id = %s, "
                "version = version + 1, updated_at = %s WHERE id = ANY(%s)"
            )
            columns = ", ".join(quote(f.column) for f in model.history.model.tracked_fields)
            self.hand_written[f"history {name}"] = (
                f"INSERT INTO {quote(model.history.model._meta.db_table)} ({columns}, "
                "history_date, history_type, history_user_id, history_company_id, "
                "history_kind, history_source_type, history_source_id, history_source_number, "
                "history_source_role, history_source_company_id) "
                f"SELECT {columns}, %s, '~', %s, %s, "
                "CASE WHEN id = %s THEN 'edited' ELSE 'synced' END, "
                "CASE WHEN id = %s THEN '' ELSE 'sales' END, "
                "CASE WHEN id = %s THEN NULL ELSE %s END, "
                "CASE WHEN id = %s THEN '' ELSE %s END, "
                "CASE WHEN id = %s THEN '' ELSE %s END, "
                "CASE WHEN id = %s THEN NULL ELSE %s END "
                f"FROM {table} WHERE id = ANY(%s) ORDER BY id"
            )

    def measure(self, *, edits: int, warmup: int) -> dict:
        """The same edit of the on-chain's original sales order made the product's way
        (``synced``), the plain Django way and with hand-written SQL, and the product's edit of
        the off-chain (``off``), interleaved: each round runs the four in a rotating order, so
        a noisy neighbour slows them alike."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from orders.models import PurchaseOrder, SalesOrder

        self.prepare_variants()
        counter = iter(range(10**9))
        reached = {}

        def edit(label: str) -> float:
            value = f"PO-{next(counter)}"
            if label == "plain":
                with plain_django():
                    started = time.perf_counter()
                    self.plain_django_edit(value)
                    return time.perf_counter() - started
            started = time.perf_counter()
            if label == "sql":
                self.hand_written_sql_edit(value)
            else:
                reached[label] = self.service_edit("on" if label == "synced" else "off", value)
            return time.perf_counter() - started

        for _ in range(warmup):
            for label in VARIANTS:
                edit(label)

        statements = {}
        for label in VARIANTS:
            counts = set()
            for _ in range(5):
                with CaptureQueriesContext(connection) as queries:
                    edit(label)
                counts.add(len(queries.captured_queries))
            statements[label] = counts

        times = {label: [] for label in VARIANTS}
        gc.collect()
        for i in range(edits):
            shift = i % len(VARIANTS)
            for label in VARIANTS[shift:] + VARIANTS[:shift]:
                times[label].append(edit(label))

        # The last edit landed on every order of the on-chain, and the product's edits of the
        # off-chain stayed on its original.
        on_chain = self.orders["on"].chain_id
        values = {
            *SalesOrder.objects.filter(chain_id=on_chain).values_list(
                "customer_requisition", flat=True),
            *PurchaseOrder.objects.filter(chain_id=on_chain).values_list(
                "customer_requisition", flat=True),
        }
        assert len(values) == 1, values
        assert reached == {"synced": 2, "off": 0}, reached
        alerts = self.alert_statements()

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
            "vs_plain": median["synced"] / median["plain"],
            "vs_sql": median["synced"] / median["sql"],
            "on_off": median["synced"] / median["off"],
            "alerts": alerts,
        }

    def alert_statements(self) -> dict[str, tuple[int, int]]:
        """(statements, of which writing alerts) of a synced edit that overwrites another
        company's values and of one that overwrites nothing, on the every-switch-on chain."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from alerts.models import Alert
        from orders.services import update_customer_information

        _original, _purchase, mirror = self.chain_orders("on")
        # With its company, as the order page has it.
        mirror = type(mirror).objects.select_related("company").get(pk=mirror.pk)
        table = Alert._meta.db_table
        found = {}
        for label, value in (("overwriting", "DE-1"), ("not overwriting", "DE-2")):
            # Jonas (DEMF) first replaces Alice's (USMF) value on the two USMF orders: two
            # overwrite records, two alerts for Alice; then he replaces his own value.
            before = Alert.objects.count()
            with CaptureQueriesContext(connection) as queries:
                update_customer_information(order=mirror, employee=self.jonas,
                                            customer_requisition=value)
            writing = sum(
                bool(re.search(rf'INSERT INTO "?{table}\b', q["sql"]))
                for q in queries.captured_queries
            )
            found[label] = (len(queries.captured_queries), writing, Alert.objects.count() - before)
        assert found["overwriting"][2] == 2 and found["not overwriting"][2] == 0, found
        # Back to Alice's value, so the next size's synced edits overwrite nobody.
        self.service_edit("on", "PO-back")
        return found


VARIANTS = ("synced", "plain", "sql", "off")
VARIANT_NAMES = {
    "synced": "services.update_customer_information, every switch on",
    "plain": "plain Django: 3x select_for_update().get(), 3x save() with simple-history",
    "sql": "hand-written SQL: 1 SELECT ... FOR UPDATE, 1 UPDATE + 1 INSERT per table",
    "off": "services.update_customer_information, every switch off (copies nothing)",
}


@contextlib.contextmanager
def plain_django():
    """The sync's receivers disconnected: an order's save() is Django's and simple-history's."""
    from django.db.models.signals import post_save, pre_save

    from orders import signals
    from orders.models import PurchaseOrder, SalesOrder

    hooks = [
        (pre_save, signals.lock_and_stamp_order, "orders.lock_and_stamp_{}"),
        (post_save, signals.propagate_customer_information,
         "orders.propagate_customer_information_{}"),
    ]
    for model in (SalesOrder, PurchaseOrder):
        for signal, _receiver, uid in hooks:
            signal.disconnect(sender=model, dispatch_uid=uid.format(model.__name__))
    try:
        yield
    finally:
        for model in (SalesOrder, PurchaseOrder):
            for signal, receiver, uid in hooks:
                signal.connect(receiver, sender=model, dispatch_uid=uid.format(model.__name__))


def print_table(rows: list[dict], *, edits: int) -> None:
    def counts(values: set[int]) -> str:
        return str(min(values)) if len(values) == 1 else f"{min(values)}-{max(values)}"

    print()
    print(f"The same customer-information edit of a three-legged chain's original sales order, "
          f"{edits} edits per variant, interleaved:")
    for label in VARIANTS:
        print(f"  {label:>6}: {VARIANT_NAMES[label]}")
    header = (f"{'orders in DB':>12} | {'statements synced/plain/sql/off':>31} | "
              f"{'median ms synced/plain/sql/off':>30} | {'p90 ms synced':>13} | "
              f"{'÷ plain':>7} | {'÷ sql':>5} | {'on÷off':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        statements = " / ".join(counts(row["statements"][label]) for label in VARIANTS)
        median = " / ".join(f"{row['median'][label]:.2f}" for label in VARIANTS)
        print(f"{row['orders']:>12} | {statements:>31} | {median:>30} | "
              f"{row['p90']['synced']:>13.2f} | {row['vs_plain']:>7.2f} | {row['vs_sql']:>5.2f} | "
              f"{row['on_off']:>6.2f}")
    print("statements: as counted by CaptureQueriesContext, including the BEGIN and COMMIT that "
          "Django records")
    print()
    synced = set().union(*(row["statements"]["synced"] for row in rows))
    worst_plain = max(row["vs_plain"] for row in rows)
    worst_sql = max(row["vs_sql"] for row in rows)
    print(f"statements per synced edit: {counts(synced)} at every size "
          f"(target <= {STATEMENT_TARGET}, the same at every size): "
          f"{'met' if len(synced) == 1 and max(synced) <= STATEMENT_TARGET else 'NOT met'}")
    print(f"median synced edit / plain Django: at most {worst_plain:.2f}x "
          f"(target <= {PLAIN_TARGET}): {'met' if worst_plain <= PLAIN_TARGET else 'NOT met'}")
    print(f"median synced edit / hand-written SQL: at most {worst_sql:.2f}x "
          f"(target <= {SQL_TARGET}): {'met' if worst_sql <= SQL_TARGET else 'NOT met'}")
    for row in rows:
        overwriting, quiet = row["alerts"]["overwriting"], row["alerts"]["not overwriting"]
        print(f"alerts at {row['orders']} orders: an edit overwriting another company's values "
              f"{overwriting[0]} statements ({overwriting[1]} writing its {overwriting[2]} "
              f"alerts), one overwriting nothing {quiet[0]} ({quiet[1]} writing alerts)")
    last = rows[-1]
    print(f"synced edit: {counts(last['statements']['synced'])} statements, "
          f"{last['vs_plain']:.2f}× plain Django, {last['vs_sql']:.2f}× hand-written SQL")


if __name__ == "__main__":
    main()
