"""Fill a PostgreSQL database with the orders and history a group makes in years, in minutes.

    .venv/bin/python bench/generate_data.py --orders 100000 \
        --database-url postgres://postgres@127.0.0.1:5432/ic_bench_growth_100k

The database is dropped, created, migrated, and filled (its name must start with ``ic_``; the
default is ``ic_bench_growth_<size>``). Not a test: bench/bench_growth.py uses it.

What it makes, at the default pace of 100,000 orders a year (``--per-year``), the last order
created yesterday:

- three companies, USMF buying from DEMF, DEMF from GBSI and USMF from GBSI, every
  customer-information switch on; a clerk in each (alice, jonas, priya; password ``bench``);
- 40 % of the orders in three-legged chains (original sales order, intercompany purchase order,
  intercompany sales order), 40 % plain sales orders, 20 % plain purchase orders, most in USMF;
- 3 to 5 history rows per order: the creation, then 2 to 4 edits (on a chain each edit is copied
  to the two other orders, as the sync does with every switch on). In a chain the companies take
  turns and the seller edits last, so its clerk overwrites the buyer's value in every chain;
- 0.5 % of the plain orders cancelled (their last history row);
- a few busy chains with hundreds of edits each;
- one overwrite record (``orders_overwriterecord``) for each cross-company overwrite in that
  history, exactly as ``orders.history`` defines one;
- one alert (``alerts_alert``) for the employee whose value each overwrite replaced, as the sync
  makes it: read the day after, but unread in the last 14 days (the clerks chose no email).

Why bulk SQL: every row goes through ``COPY`` (psycopg), one stream per table, with foreign-key
triggers off (``session_replication_role = replica``) and the secondary indexes dropped during
the load and built once at the end, then ``ANALYZE``. The values are what the services would
have written; nothing else goes around them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "ic_bench_growth")

ORDER_COLUMNS = (
    "id", "number", "customer_reference", "customer_requisition", "status", "version",
    "created_at", "updated_at", "chain_id", "company_id", "created_by_id",
    "customer_reference_set_by_id", "customer_reference_set_for_id",
    "customer_requisition_set_by_id", "customer_requisition_set_for_id",
    "original_customer_account", "original_customer_name",
    "original_customer_account_set_by_id", "original_customer_account_set_for_id",
    "original_customer_name_set_by_id", "original_customer_name_set_for_id",
    "original_sales_order_id",
)
SALES_COLUMNS = (*ORDER_COLUMNS, "customer_id", "intercompany_purchase_order_id")
PURCHASE_COLUMNS = (*ORDER_COLUMNS, "vendor_id", "trading_relationship_id", "origin_sales_order_id")
HISTORY_COLUMNS = (
    "history_id", "history_date", "history_type", "history_kind", "history_user_id",
    "history_company_id", "history_source_type", "history_source_id", "history_source_number",
    "history_source_role", "history_source_company_id",
)
OVERWRITE_COLUMNS = (
    "id", "order_type", "order_id", "order_number", "order_company_id", "field", "old_value",
    "old_set_by_id", "old_set_for_id", "new_value", "new_set_by_id", "new_set_for_id", "at",
    "kind", "source_type", "source_id", "source_number", "source_role", "history_id",
)
TABLES = {
    "sales": "orders_salesorder",
    "purchase": "orders_purchaseorder",
    "history_sales": "orders_historicalsalesorder",
    "history_purchase": "orders_historicalpurchaseorder",
    "overwrites": "orders_overwriterecord",
    "chains": "orders_orderchain",
}
ALERTS = "alerts_alert"
UNREAD_DAYS = 14
FIELDS = ("customer_reference", "customer_requisition")
REFERENCES = ("Spring campaign", "Autumn fair", "Store opening", "Restock", "Trade show",
              "Holiday season", "Back to school", "Clearance", "Web shop", "Key account")


def default_url(orders: int) -> str:
    size = f"{orders // 1_000_000}m" if orders % 1_000_000 == 0 else f"{orders // 1000}k"
    return f"postgres://postgres@127.0.0.1:5432/{DEFAULT_PREFIX}_{size}"


def configure_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "intercompany.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("ic_"):
        sys.exit(f"Refusing to drop database {name!r}: its name must start with ic_.")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# -- the setting: companies, clerks, relationships, accounts ------------------------------------


@dataclass
class Company:
    pk: int
    code: str
    clerk: int  # employee id
    customers: list[int] = field(default_factory=list)
    customer_names: dict[int, tuple[str, str]] = field(default_factory=dict)  # pk: account, name
    vendors: list[int] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=lambda: {"SO": 0, "PO": 0})

    def number(self, document: str) -> str:
        self.numbers[document] += 1
        return f"{self.code}-{document}-{self.numbers[document]:06d}"


@dataclass
class Route:
    """A trading relationship: who buys from whom, with its intercompany accounts."""

    pk: int
    buyer: Company
    seller: Company
    vendor: int  # intercompany vendor in the buyer
    customer: int  # intercompany customer in the seller


def make_setting(customers_per_company: int) -> tuple[dict[str, Company], list[Route]]:
    """The small part, through the models and services (a few hundred rows)."""
    from intercompany.models import Company as CompanyModel
    from intercompany.models import Customer, Employee, Vendor
    from intercompany.services import create_trading_relationship

    admin = Employee.objects.create_superuser("bench-admin", password="bench")
    companies = {}
    names = {"USMF": "Contoso Entertainment USA", "DEMF": "Contoso Germany",
             "GBSI": "Contoso UK"}
    clerks = {"USMF": ("alice", "Alice", "Martin"), "DEMF": ("jonas", "Jonas", "Weber"),
              "GBSI": ("priya", "Priya", "Shah")}
    for code, name in names.items():
        company = CompanyModel.objects.create(code=code, name=name)
        username, first, last = clerks[code]
        clerk = Employee.objects.create_user(username, password="bench", first_name=first,
                                             last_name=last)
        clerk.companies.add(company)
        Customer.objects.bulk_create(
            Customer(company=company, account=f"{code[:2]}-{n:04d}", name=f"Customer {n}")
            for n in range(1, customers_per_company + 1)
        )
        Vendor.objects.bulk_create(
            Vendor(company=company, account=f"V{code[:2]}-{n:04d}", name=f"Vendor {n}")
            for n in range(1, customers_per_company // 4 + 2)
        )
        accounts = {pk: (account, name) for pk, account, name in
                    Customer.objects.filter(company=company).values_list("pk", "account", "name")}
        companies[code] = Company(
            company.pk, code, clerk.pk, customers=list(accounts), customer_names=accounts,
            vendors=list(Vendor.objects.filter(company=company).values_list("pk", flat=True)),
        )
    routes = []
    for buyer, seller in (("USMF", "DEMF"), ("DEMF", "GBSI"), ("USMF", "GBSI")):
        rel = create_trading_relationship(
            buying_company=CompanyModel.objects.get(code=buyer),
            selling_company=CompanyModel.objects.get(code=seller),
            employee=admin,
            purchase_policy_syncs_original_sales_order=True,
            purchase_policy_syncs_intercompany_sales_order=True,
            sales_policy_syncs_intercompany_purchase_order=True,
        )
        routes.append(Route(rel.pk, companies[buyer], companies[seller],
                            rel.intercompany_vendor_id, rel.intercompany_customer_id))
    return companies, routes


# -- the generator ------------------------------------------------------------------------------


@dataclass
class Order:
    """One order while it is generated; ``write`` hands its rows to the COPY streams."""

    type: str  # "sales" / "purchase"
    pk: int
    number: str
    company: Company
    partner: int  # customer or vendor id
    role: str
    created: dt.datetime
    chain: int | None = None
    links: tuple = ()  # (intercompany_purchase_order_id,) or (relationship, origin SO id)
    created_by: int | None = None
    # The original customer (account, name, set by, set for) and the original sales order id,
    # as the services fill them: the customer of a sales order that is not intercompany, copied
    # to every leg of its chain at creation.
    original: tuple = ("", "", None, None)
    original_sales_order: int | None = None
    values: dict = field(default_factory=dict)  # field -> [value, set_by, set_for]
    status: str = "open"
    version: int = 0
    updated: dt.datetime | None = None
    history: list = field(default_factory=list)


class Generator:
    def __init__(self, *, companies, routes, orders: int, per_year: int, seed: int, end,
                 busy: int, streams):
        self.companies, self.routes = companies, routes
        self.target, self.per_year = orders, per_year
        self.rng = random.Random(seed)
        self.end = end
        self.span = dt.timedelta(days=365.25 * orders / per_year)
        self.busy = busy
        self.streams = streams
        self.next_id = {"sales": 0, "purchase": 0, "history_sales": 0, "history_purchase": 0,
                        "overwrites": 0, "chains": 0}
        self.counts = dict.fromkeys(self.next_id, 0)
        self.value_counter = 0

    def take(self, kind: str) -> int:
        self.next_id[kind] += 1
        self.counts[kind] += 1
        return self.next_id[kind]

    def new_value(self, name: str) -> str:
        self.value_counter += 1
        if name == "customer_requisition":
            return f"PO-{self.value_counter:07d}"
        return f"{self.rng.choice(REFERENCES)} {self.value_counter % 9973}"

    # -- history and overwrites

    def record(self, order: Order, at: dt.datetime, kind: str, by: Company, changes: dict,
               source: Order | None = None, history_type: str = "~") -> None:
        """One history row of ``order``: apply ``changes`` (field -> (value, setter company)),
        and store an overwrite record for each field whose value another company set."""
        order.version += 1
        order.updated = at
        history_id = self.take(f"history_{order.type}")
        overwrites = []
        for name, (value, setter) in changes.items():
            old_value, old_by, old_for = order.values.get(name, ("", None, None))
            if (old_value and value != old_value and old_for is not None
                    and old_for != setter.pk):
                overwrites.append((name, old_value, old_by, old_for, value, setter))
            order.values[name] = (value, setter.clerk, setter.pk)
        row = self.history_row(order, history_id, at, kind, by, source, history_type)
        self.streams[f"history_{order.type}"].write_row(row)
        for name, old_value, old_by, old_for, value, setter in overwrites:
            self.streams["overwrites"].write_row((
                self.take("overwrites"), order.type, order.pk, order.number, order.company.pk,
                name, old_value, old_by, old_for, value, setter.clerk, setter.pk, at, kind,
                source.type if source else "", source.pk if source else None,
                source.number if source else "", source.role if source else "", history_id,
            ))

    def history_row(self, order, history_id, at, kind, by, source, history_type):
        (ref, ref_by, ref_for) = order.values.get("customer_reference", ("", None, None))
        (req, req_by, req_for) = order.values.get("customer_requisition", ("", None, None))
        common = (
            order.pk, order.number, ref, req, order.status, order.version, order.created, at,
            order.chain, order.company.pk, order.created_by,
            ref_by, ref_for, req_by, req_for, *self.original_columns(order),
        )
        extra = self.type_columns(order)
        return (
            *common, *extra, history_id, at, history_type, kind, by.clerk, by.pk,
            source.type if source else "", source.pk if source else None,
            source.number if source else "", source.role if source else "",
            source.company.pk if source else None,
        )

    @staticmethod
    def original_columns(order: Order) -> tuple:
        account, name, by, company = order.original
        return (account, name, by, company, by, company, order.original_sales_order)

    @staticmethod
    def type_columns(order: Order) -> tuple:
        if order.type == "sales":
            return (order.partner, order.links[0] if order.links else None)
        relationship, origin = order.links if order.links else (None, None)
        return (order.partner, relationship, origin)

    def finish(self, order: Order) -> None:
        (ref, ref_by, ref_for) = order.values.get("customer_reference", ("", None, None))
        (req, req_by, req_for) = order.values.get("customer_requisition", ("", None, None))
        self.streams[order.type].write_row((
            order.pk, order.number, ref, req, order.status, order.version, order.created,
            order.updated, order.chain, order.company.pk, order.created_by,
            ref_by, ref_for, req_by, req_for, *self.original_columns(order),
            *self.type_columns(order),
        ))

    # -- what clerks do

    def moments(self, start: dt.datetime, count: int) -> list[dt.datetime]:
        """``count`` moments after ``start``, within 60 days, never after the end."""
        offsets = sorted(self.rng.uniform(60, 60 * 86400) for _ in range(count))
        return [min(start + dt.timedelta(seconds=s), self.end) for s in offsets]

    def new_order(self, order_type, company, partner, role, created, chain=None, links=(),
                  created_by=None):
        document = "SO" if order_type == "sales" else "PO"
        return Order(order_type, self.take(order_type), company.number(document), company,
                     partner, role, created, chain, links,
                     created_by=created_by or company.clerk)

    def plain(self, order_type: str, company: Company, created: dt.datetime) -> None:
        partners = company.customers if order_type == "sales" else company.vendors
        role = "sales order" if order_type == "sales" else "purchase order"
        order = self.new_order(order_type, company, self.rng.choice(partners), role, created)
        if order_type == "sales":
            order.original = (*company.customer_names[order.partner], company.clerk, company.pk)
        first = {name: (self.new_value(name), company) for name in FIELDS}
        self.record(order, created, "created", company, first, history_type="+")
        edits = self.rng.randint(2, 4)
        cancel = self.rng.random() < 0.005
        for index, at in enumerate(self.moments(created, edits)):
            if cancel and index == edits - 1:
                order.status = "cancelled"
                self.record(order, at, "edited", company, {})
            else:
                name = self.rng.choice(FIELDS)
                self.record(order, at, "edited", company, {name: (self.new_value(name), company)})
        self.finish(order)

    def chain(self, route: Route, created: dt.datetime, edits: int) -> None:
        """Original SO in the buyer, intercompany PO to the seller, intercompany SO in the
        seller; then ``edits`` edits taking turns, the seller last, each copied to the two
        other orders (every switch on)."""
        buyer, seller = route.buyer, route.seller
        chain_id = self.take("chains")
        self.streams["chains"].write_row((chain_id, created))
        original = self.new_order("sales", buyer, self.rng.choice(buyer.customers),
                                  "original sales order", created, chain_id)
        purchase = self.new_order("purchase", buyer, route.vendor, "intercompany purchase order",
                                  created, chain_id, (route.pk, original.pk))
        mirror = self.new_order("sales", seller, route.customer, "intercompany sales order",
                                created, chain_id, (purchase.pk,), created_by=buyer.clerk)
        original.original = (*buyer.customer_names[original.partner], buyer.clerk, buyer.pk)
        for leg in (purchase, mirror):
            leg.original, leg.original_sales_order = original.original, original.pk
        first = {name: (self.new_value(name), buyer) for name in FIELDS}
        self.record(original, created, "created", buyer, first, history_type="+")
        self.record(purchase, created, "created", buyer, first, source=original,
                    history_type="+")
        self.record(mirror, created, "created", buyer, first, source=purchase, history_type="+")
        orders = (original, purchase, mirror)
        for index, at in enumerate(self.moments(created, edits)):
            seller_turn = (edits - 1 - index) % 2 == 0  # the seller edits last
            company = seller if seller_turn else buyer
            edited = mirror if seller_turn else self.rng.choice((original, purchase))
            name = "customer_requisition" if self.rng.random() < 0.7 else "customer_reference"
            change = {name: (self.new_value(name), company)}
            self.record(edited, at, "edited", company, change)
            for other in orders:
                if other is not edited:
                    self.record(other, at, "synced", company, change, source=edited)
        for order in orders:
            self.finish(order)

    def run(self, progress) -> None:
        usmf, demf, gbsi = (self.companies[c] for c in ("USMF", "DEMF", "GBSI"))
        routes = self.routes
        start = self.end - self.span
        made = 0
        busy_every = self.target / (self.busy + 1)
        next_busy = busy_every if self.busy else float("inf")
        step = self.span / max(1, self.target)
        reported = time.monotonic()
        while made < self.target:
            created = start + step * made
            draw = self.rng.random()
            if draw < 0.4 and self.target - made >= 3:
                route = routes[0] if draw < 0.28 else routes[1] if draw < 0.36 else routes[2]
                edits = self.rng.randint(2, 4)
                if made >= next_busy:  # a few chains that people keep changing
                    next_busy += busy_every
                    edits = self.rng.randint(200, 400)
                self.chain(route, created, edits)
                made += 3
            else:
                order_type = "sales" if draw < 0.8 else "purchase"
                pick = self.rng.random()
                company = usmf if pick < 0.6 else demf if pick < 0.85 else gbsi
                self.plain(order_type, company, created)
                made += 1
            if time.monotonic() - reported > 10:
                reported = time.monotonic()
                progress(made)


def secondary_indexes(cursor, tables) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of ``tables`` that back no constraint."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        """,
        [list(tables)],
    )
    return cursor.fetchall()


def generate(url: str, *, orders: int, per_year: int = 100_000, seed: int = 8, busy: int = 5,
             customers: int = 400, log=print) -> dict:
    """Recreate, migrate and fill the database at ``url``. Returns the counts of rows made."""
    import psycopg

    recreate_database(url)
    configure_django(url)
    from django.core.management import call_command
    from django.db import connection

    began = time.monotonic()
    call_command("migrate", verbosity=0)
    companies, routes = make_setting(customers)
    connection.close()

    connections = {kind: psycopg.connect(url) for kind in TABLES}
    with connections["sales"].cursor() as cursor:
        indexes = secondary_indexes(cursor, [*TABLES.values(), ALERTS])
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    connections["sales"].commit()
    columns = {
        "sales": SALES_COLUMNS,
        "purchase": PURCHASE_COLUMNS,
        "history_sales": (*SALES_COLUMNS, *HISTORY_COLUMNS),
        "history_purchase": (*PURCHASE_COLUMNS, *HISTORY_COLUMNS),
        "overwrites": OVERWRITE_COLUMNS,
        "chains": ("id", "created_at"),
    }
    copies, streams = {}, {}
    for kind, conn in connections.items():
        # Foreign keys point at rows this load writes in another stream: checked by design of
        # the generator, not row by row by triggers.
        conn.execute("SET session_replication_role = replica")
        names = ", ".join(columns[kind])
        copies[kind] = conn.cursor().copy(f"COPY {TABLES[kind]} ({names}) FROM STDIN")
        streams[kind] = copies[kind].__enter__()

    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    generator = Generator(companies=companies, routes=routes, orders=orders, per_year=per_year,
                          seed=seed, end=end, busy=busy, streams=streams)
    generator.run(lambda made: log(f"  {made:,} orders, {time.monotonic() - began:.0f} s"))
    for kind in TABLES:
        copies[kind].__exit__(None, None, None)
        connections[kind].commit()
    conn = connections["sales"]
    alerts = make_alerts(conn, end)
    log(f"  rows written in {time.monotonic() - began:.0f} s; building indexes")

    conn.execute("SET maintenance_work_mem = '256MB'")
    for _name, definition in indexes:
        conn.execute(definition)
    for kind, table in TABLES.items():
        sequence_of = {"history_sales": "history_id", "history_purchase": "history_id"}
        column = sequence_of.get(kind, "id")
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"GREATEST((SELECT max({column}) FROM {table}), 1))"
        )
    for company in companies.values():
        for document, value in company.numbers.items():
            conn.execute(
                "INSERT INTO orders_numbersequence (company_id, document, last_value) "
                "VALUES (%s, %s, %s) ON CONFLICT (company_id, document) "
                "DO UPDATE SET last_value = EXCLUDED.last_value",
                (company.pk, document, value),
            )
    conn.commit()
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    for each in connections.values():
        each.close()
    log(f"  done in {time.monotonic() - began:.0f} s")
    return {**{TABLES[k]: v for k, v in generator.counts.items()}, ALERTS: alerts}


def make_alerts(conn, end: dt.datetime) -> int:
    """One alert per overwrite record, for the employee whose value it replaced (what
    ``alerts.services`` writes in the edit's transaction), in one statement."""
    cursor = conn.execute(
        f"""
        INSERT INTO {ALERTS} (recipient_id, overwrite_id, order_company_id, reason, created_at,
                              read_at, email, email_delivery_id)
        SELECT old_set_by_id, id, order_company_id, 'own', at,
               CASE WHEN at < %(unread_since)s THEN at + interval '1 day' END, 'none', NULL
        FROM {TABLES["overwrites"]}
        WHERE old_set_by_id IS NOT NULL
        """,
        {"unread_since": end - dt.timedelta(days=UNREAD_DAYS)},
    )
    conn.commit()
    return cursor.rowcount


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--per-year", type=int, default=100_000)
    parser.add_argument("--busy", type=int, default=5, help="chains with hundreds of edits")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--database-url", help="default: ic_bench_growth_<size> on 127.0.0.1")
    args = parser.parse_args(argv)
    url = args.database_url or default_url(args.orders)
    print(f"Generating {args.orders:,} orders in {urlsplit(url).path.lstrip('/')}")
    counts = generate(url, orders=args.orders, per_year=args.per_year, seed=args.seed,
                      busy=args.busy)
    for table, count in counts.items():
        print(f"  {table}: {count:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
