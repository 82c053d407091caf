"""The header's unread-alert count and the Alerts page, as the database grows.

Run: ``.venv/bin/python bench/bench_alerts.py`` (see bench/README.md). Not a test: it prints
figures.

On PostgreSQL, with 100,000 and then 1,000,000 orders' worth of cross-company overwrites (one
overwrite record per order, each alerting its owner: the worst case, every order overwritten),
spread over 1,000 clerks of three companies, it measures for one clerk (working for the three
companies, with 40 unread alerts among 100 or 1,000): the header count
(``alerts.selectors.unread_alert_count``) and the first page of the Alerts page
(``alerts.selectors.alert_page``): queries, median time, and the index the count's plan uses.

The database named by DATABASE_URL (default ``ic_bench_alerts``) is dropped and created
again: its name must contain ``bench``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intercompany.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ic_bench_alerts")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_hex(16))

CLERKS = 1_000


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench_alerts needs PostgreSQL; DATABASE_URL is {url!r}.")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"Refusing to drop {name!r}: the benchmark database name must contain 'bench'.")
    with psycopg.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 5432,
                         user=parts.username or "postgres", password=parts.password,
                         dbname="postgres", autocommit=True) as admin:
        database = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(database))


def fill(start: int, end: int, companies: list[int], clerks: list[int]) -> None:
    """Overwrite records ``start``..``end`` and one alert each (read, but for the measured
    clerk's), in SQL: the services would take hours for a million."""
    from django.db import connection

    from alerts.models import Alert
    from orders.models import OverwriteRecord

    record, alert = OverwriteRecord._meta.db_table, Alert._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {record} (id, order_type, order_id, order_number, order_company_id,
                field, old_value, old_set_by_id, old_set_for_id, new_value, new_set_by_id,
                new_set_for_id, at, kind, source_type, source_id, source_number, source_role,
                history_id)
            SELECT n, 'sales', n, 'SO-' || n, (%(companies)s::bigint[])[1 + n %% 3],
                'customer_requisition', 'OLD-' || n, (%(clerks)s::bigint[])[1 + n %% %(c)s],
                (%(companies)s::bigint[])[1 + n %% 3], 'NEW-' || n, NULL,
                (%(companies)s::bigint[])[1 + (n + 1) %% 3],
                now() - (n || ' seconds')::interval, 'edited', '', NULL, '', '', n
            FROM generate_series(%(start)s, %(end)s - 1) AS n
        """, {"companies": companies, "clerks": clerks, "c": len(clerks), "start": start,
              "end": end})
        cursor.execute(f"""
            INSERT INTO {alert} (recipient_id, overwrite_id, order_company_id, reason,
                created_at, read_at, email, email_delivery_id)
            SELECT r.old_set_by_id, r.id, r.order_company_id, 'own', r.at, r.at, 'none', NULL
            FROM {record} r WHERE r.id >= %s AND r.id < %s
        """, [start, end])
    # What autovacuum would have done by then: the visibility map lets index-only scans skip
    # the table.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def execution_ms(plan: str) -> float:
    """The server's own time from an EXPLAIN ANALYZE: unaffected by a busy client machine."""
    import re

    return float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from alerts.models import Alert
    from alerts.selectors import alert_page, alerts_visible_to, unread_alert_count, with_details
    from intercompany.models import Company, Employee

    call_command("migrate", verbosity=0)
    companies = [Company.objects.create(code=c, name=c) for c in ("USMF", "DEMF", "GBSI")]
    clerks = Employee.objects.bulk_create(
        Employee(username=f"clerk{n:04d}", password="!") for n in range(CLERKS)
    )
    membership = Employee.companies.through
    membership.objects.bulk_create(
        membership(employee_id=clerk.pk, company_id=companies[n % 3].pk)
        for n, clerk in enumerate(clerks)
    )
    # The measured clerk works for all three companies (like a team lead): every alert of theirs
    # is visible, the most the page and the count have to read.
    clerk = clerks[0]
    clerk.companies.add(*companies)
    company_ids = {c.pk for c in companies}
    done = 1
    print(f"PostgreSQL {connection.pg_version}; {CLERKS} clerks in 3 companies; "
          f"medians of {args.runs} runs")
    print("| overwrite records (= orders) | alerts | header count: queries, median | "
          "Alerts page 1: queries, median | index: count; page |")
    print("|---|---|---|---|---|")
    for size in sizes:
        fill(done, size + 1, [c.pk for c in companies], [c.pk for c in clerks])
        done = size + 1
        # The measured clerk's 40 unread alerts among their newest.
        newest = list(Alert.objects.filter(recipient=clerk, order_company_id__in=company_ids)
                      .order_by("-created_at").values_list("pk", flat=True)[:40])
        Alert.objects.filter(recipient=clerk).update(read_at=timezone.now())
        Alert.objects.filter(pk__in=newest).update(read_at=None)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        def timed(fn):
            for _ in range(5):
                fn()
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                fn()
                times.append(time.perf_counter() - started)
            with CaptureQueriesContext(connection) as queries:
                fn()
            return len(queries), statistics.median(times) * 1000

        count_q, count_ms = timed(lambda: unread_alert_count(clerk))
        page_q, page_ms = timed(lambda: alert_page(employee=clerk, company_ids=company_ids))
        assert unread_alert_count(clerk) == min(40, len(newest))
        sql, params = (alerts_visible_to(clerk).filter(read_at__isnull=True)
                       .values("pk").query.sql_with_params())
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE SELECT COUNT(*) FROM (" + sql + ") q", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        index = next((name for name in ("alert_unread", "alert_recipient") if name in plan),
                     "none (sequential scan)")
        page_plan = with_details(
            alerts_visible_to(clerk).order_by("-created_at", "-id")
        )[:51].explain(analyze=True)
        page_index = "alert_recipient" if "alert_recipient" in page_plan else "another"
        print(f"| {size:,} | {Alert.objects.count():,} | {count_q}, {count_ms:.2f} ms "
              f"(server {execution_ms(plan):.2f} ms) | {page_q}, {page_ms:.2f} ms (server "
              f"{execution_ms(page_plan):.2f} ms) | {index}; {page_index} |", flush=True)


if __name__ == "__main__":
    main()
