"""Benchmark (not a test): does each clerk page stay flat from 100,000 to 1,000,000 orders?

    .venv/bin/python bench/bench_growth.py                  # 100k and 1M, about 25 minutes
    .venv/bin/python bench/bench_growth.py --sizes 20000,200000 --repeat 7
    .venv/bin/python bench/bench_growth.py --prefix ic_mine_bench   # other scratch databases
    .venv/bin/python bench/bench_growth.py --regenerate     # fill the databases again

For each size it uses the database ``<prefix>_100k`` / ``<prefix>_1m`` on the local PostgreSQL
(127.0.0.1:5432, user postgres; ``--host-url`` for another server). A database that exists,
holds that many orders and has every migration of the code applied is reused; otherwise it is
dropped and filled by bench/generate_data.py (10 years of a group's orders at 1M: a few
minutes). The prefix must start with ``ic_``.

Each size is served by its own process (Django's test client with ``force_login`` as Alice,
clerk of USMF, DEBUG off, static files collected), and the sizes take turns request by request,
so that a busy neighbour on the shared machine slows both alike: SQL queries of one request and
the median of ``--repeat`` requests after two warm-ups, for each page of issue 8's table, the
Overwrites page, sorted lists, the CSV export of the last year, the Needs attention page and the
Alerts page (every page also shows the header's unread-alert count). The CSV export also runs
once in a process of its own that does nothing else, so that its peak resident memory
(``ru_maxrss``) above the memory before the request is the export's.

The last line is ``worst growth 1M/100k: X.XX (<page>)``: the largest ratio of the medians at
the largest and the smallest size. Targets: every page at most 1.3x; the CSV export's peak
memory within 20 MB at both sizes.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate_data  # noqa: E402  (a sibling script)

DEFAULT_PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "ic_bench_growth")
DEFAULT_HOST = "postgres://postgres@127.0.0.1:5432"
TARGET_GROWTH = 1.3
TARGET_CSV_MB = 20


def size_name(orders: int) -> str:
    if orders % 1_000_000 == 0:
        return f"{orders // 1_000_000}m"
    return f"{orders // 1000}k" if orders % 1000 == 0 else str(orders)


def label(orders: int) -> str:
    """100k, 1M."""
    name = size_name(orders)
    return name.upper() if name.endswith("m") else name


# -- the databases ------------------------------------------------------------------------------


def code_migrations() -> set[tuple[str, str]]:
    found = set()
    for folder in ROOT.glob("*/migrations"):
        for path in folder.glob("[0-9]*.py"):
            found.add((folder.parent.name, path.stem))
    return found


def reusable(url: str, orders: int) -> bool:
    """The database exists, holds ``orders`` orders and has every migration of the code."""
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            applied = set(conn.execute("SELECT app, name FROM django_migrations").fetchall())
            count = conn.execute(
                "SELECT (SELECT count(*) FROM orders_salesorder)"
                " + (SELECT count(*) FROM orders_purchaseorder)"
            ).fetchone()[0]
    except psycopg.Error:
        return False
    return code_migrations() <= applied and count == orders


# -- one size, in a process of its own ----------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def setup_django(url: str) -> None:
    # One folder per process: two children collect at the same time.
    os.environ["STATIC_ROOT"] = str(Path(tempfile.gettempdir()) / f"ic_bench_static_{os.getpid()}")
    generate_data.configure_django(url)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    atexit.register(shutil.rmtree, os.environ["STATIC_ROOT"], True)


def client_for(username: str):
    from django.test import Client

    from intercompany.models import Employee

    client = Client()
    client.force_login(Employee.objects.get(username=username))
    return client


def last_year() -> tuple[str, str]:
    """The dates of the last year of the data (the generator ends yesterday)."""
    from orders.models import OverwriteRecord

    newest = OverwriteRecord.objects.order_by("-at").values_list("at", flat=True).first()
    until = newest.date() if newest else dt.date.today()
    return (until - dt.timedelta(days=364)).isoformat(), until.isoformat()


def measure_csv(url: str) -> dict:
    """The CSV export of one year, in this otherwise idle process: time to the first bytes, to
    the last, rows, and the growth of the peak resident memory while it ran."""
    setup_django(url)
    from django.urls import reverse

    client = client_for("alice")
    since, until = last_year()
    path = f"{reverse('orders:overwrites-csv')}?since={since}&until={until}"
    client.get(reverse("orders:sales-order-list"))  # warm the process, not the export
    before, peak_before = rss_mb(), peak_rss_mb()
    started = time.perf_counter()
    response = client.get(path)
    first_at, size, lines = None, 0, 0
    for piece in response.streaming_content:
        if first_at is None:
            first_at = time.perf_counter() - started
        size += len(piece)
        lines += piece.count(b"\n")
    total = time.perf_counter() - started
    response.close()
    return {
        "status": response.status_code,
        "rows": lines - 1,
        "bytes": size,
        "first_ms": first_at * 1000,
        "ms": total * 1000,
        # The high-water mark above the memory just before the request: an upper bound of what
        # the export took (the mark may date from before, when the process was warmed).
        "peak_mb": max(0.0, peak_rss_mb() - before),
        "peak_before_mb": peak_before - before,
    }


def timed_get(client, path: str) -> tuple[float, int]:
    """(milliseconds, status) of one GET of ``path``, a streamed body read to its end."""
    started = time.perf_counter()
    response = client.get(path)
    if getattr(response, "streaming", False):
        for _piece in response.streaming_content:
            pass
    return (time.perf_counter() - started) * 1000, response.status_code


def count_queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm caches (templates, connection, PostgreSQL buffers)
        timed_get(client, path)
    with CaptureQueriesContext(connection) as captured:
        timed_get(client, path)
    return len(captured.captured_queries)


def pages_to_measure() -> list[tuple[str, str]]:
    """(name, path) of every page measured, chosen the same way at every size."""
    from django.urls import reverse

    from orders.models import OverwriteRecord, SalesOrder
    from orders.selectors import Cursor

    usmf_orders = SalesOrder.objects.filter(company__code="USMF")
    list_url = reverse("orders:sales-order-list")
    # A chain order of the last weeks, with its usual 3 to 5 history rows.
    order = usmf_orders.filter(chain__isnull=False).order_by("-number")[300]
    # The requisition of an order a year back: one match, found by the trigram index.
    needle = usmf_orders.order_by("-number")[30_000 if usmf_orders.count() > 60_000 else 300]
    # Where page 400 starts (50 rows a page), and the last page: cursors of rows, read once
    # here by OFFSET; the page itself reads by key.
    ordered = usmf_orders.order_by("-number").values_list("pk", "number")
    total = usmf_orders.count()
    deep = min(399 * 50 - 1, total // 2)  # page 400, or halfway in a small company
    page_400 = ordered[deep]
    last_page = ordered[total - 50 - 1]
    by_requisition = usmf_orders.order_by("customer_requisition", "pk").values_list(
        "pk", "customer_requisition"
    )[deep]
    overwrites = reverse("orders:overwrites")
    newest = OverwriteRecord.objects.order_by("-at").values_list("at", flat=True).first()
    week_end = newest.date() if newest else dt.date.today()
    week = f"since={(week_end - dt.timedelta(days=6)).isoformat()}&until={week_end.isoformat()}"
    detail = reverse("orders:sales-order-detail", args=[order.pk])
    history = reverse("orders:sales-order-history", args=[order.pk])

    def after(pk, value) -> str:
        return Cursor(pk, value).encode()

    pages = [
        ("list page 1", list_url),
        ("list page 400", f"{list_url}?after={after(*page_400)}"),
        ("list last page", f"{list_url}?after={after(*last_page)}"),
        ("list filtered on cancelled", f"{list_url}?status=cancelled"),
        ("search by customer requisition", f"{list_url}?q={needle.customer_requisition}"),
        ("search by number", f"{list_url}?q={needle.number}"),
        ("list sorted by customer requisition",
         f"{list_url}?sort=customer_requisition"),
        ("  ... its page 400",
         f"{list_url}?sort=customer_requisition&after={after(*by_requisition)}"),
        ("list sorted by last changed", f"{list_url}?sort=-updated_at"),
        ("list sorted by customer", f"{list_url}?sort=partner"),
        ("order page", detail),
        ("History tab", history),
        ("Overwrites, unfiltered", overwrites),
        ("Overwrites, one week", f"{overwrites}?{week}"),
        ("Overwrites, other company DEMF", f"{overwrites}?other_company=DEMF"),
    ]
    alerts = reverse("alerts:alert-list")
    pages += [
        ("Needs attention (after login)", reverse("alerts:needs-attention")),
        ("Alerts page", alerts),
        ("Alerts page, unread only", f"{alerts}?show=unread"),
        ("  ... its page 20", f"{alerts}?page=20"),
    ]
    return pages


def serve_pages(url: str) -> None:
    """Child of the run: prints the pages with their query counts (one JSON line), then times
    one request of the page named on each line of stdin, answering with the milliseconds."""
    setup_django(url)
    from django.urls import reverse

    client = client_for("alice")
    pages = dict(pages_to_measure())
    since, until = last_year()
    pages["CSV export, one year"] = (
        f"{reverse('orders:overwrites-csv')}?since={since}&until={until}"
    )
    counts = {}
    for name, path in pages.items():
        counts[name] = count_queries(client, path)
    print(json.dumps(counts), flush=True)
    for line in sys.stdin:
        name = line.rstrip("\n")
        if not name:
            break
        ms, status = timed_get(client, pages[name])
        if status != 200:
            raise SystemExit(f"{name}: {pages[name]} answered {status}")
        print(json.dumps(ms), flush=True)


def interleaved(urls: dict[int, str], repeat: int, csv_repeat: int) -> dict:
    """Every page at every size, the sizes taking turns request by request (the order flips
    each round): a busy neighbour on the machine slows both sizes alike, so their ratio holds.
    """
    children = {
        orders: subprocess.Popen(
            [sys.executable, __file__, "--child-serve", url], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )
        for orders, url in urls.items()
    }
    try:
        counts = {orders: json.loads(child.stdout.readline()) for orders, child in
                  children.items()}
        sizes = list(children)
        times = {orders: {page: [] for page in counts[orders]} for orders in sizes}
        for page in counts[sizes[0]]:
            rounds = csv_repeat if page.startswith("CSV") else repeat
            for round_ in range(rounds):
                for orders in sizes if round_ % 2 == 0 else reversed(sizes):
                    child = children[orders]
                    child.stdin.write(page + "\n")
                    child.stdin.flush()
                    times[orders][page].append(json.loads(child.stdout.readline()))
    finally:
        for child in children.values():
            if child.poll() is None:
                child.stdin.close()
                child.wait(timeout=60)
    return {
        orders: {page: {"queries": counts[orders][page],
                        "ms": statistics.median(times[orders][page])}
                 for page in counts[orders]}
        for orders in sizes
    }


# -- the whole run ------------------------------------------------------------------------------


def child(args: list[str]) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, *args], check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="orders, comma-separated")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page")
    parser.add_argument("--prefix", default=DEFAULT_PREFIX,
                        help=f"database name prefix (default {DEFAULT_PREFIX}; env "
                             "BENCH_DATABASE_PREFIX)")
    parser.add_argument("--host-url", default=DEFAULT_HOST)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--child-serve", help=argparse.SUPPRESS)
    parser.add_argument("--child-csv", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_serve:
        serve_pages(args.child_serve)
        return 0
    if args.child_csv:
        print(json.dumps(measure_csv(args.child_csv)))
        return 0
    if not args.prefix.startswith("ic_"):
        sys.exit("The database prefix must start with ic_ (the script drops those databases).")

    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    csv, urls = {}, {}
    for orders in sizes:
        url = f"{args.host_url}/{args.prefix}_{size_name(orders)}"
        name = urlsplit(url).path.lstrip("/")
        if args.regenerate or not reusable(url, orders):
            print(f"Filling {name} with {orders:,} orders ...", flush=True)
            subprocess.run([sys.executable, str(ROOT / "bench" / "generate_data.py"),
                            "--orders", str(orders), "--database-url", url], check=True)
        else:
            print(f"Reusing {name} ({orders:,} orders).", flush=True)
        urls[orders] = url
    for orders, url in urls.items():
        print(f"CSV export's memory at {label(orders)} ...", flush=True)
        csv[orders] = child(["--child-csv", url])
    print("Pages, the sizes taking turns ...", flush=True)
    results = interleaved(urls, args.repeat, max(3, args.repeat // 3))

    small, large = sizes[0], sizes[-1]
    heads = [f"median ms {label(n)}" for n in sizes]
    width = max(len(page) for page in results[small]) + 2
    print()
    print(f"Clerk pages as Alice (USMF), median of {args.repeat} requests, PostgreSQL:")
    print(f"{'page':<{width}}| {'queries':>9} | " + " | ".join(f"{h:>14}" for h in heads)
          + f" | growth {label(large)}/{label(small)}")
    print("-" * (width + 30 + 17 * len(sizes)))
    growth = {}
    for page in results[small]:
        queries = " / ".join(str(results[n][page]["queries"]) for n in sizes)
        times = " | ".join(f"{results[n][page]['ms']:>14.1f}" for n in sizes)
        growth[page] = results[large][page]["ms"] / results[small][page]["ms"]
        flag = "" if growth[page] <= TARGET_GROWTH else "  (over 1.3x)"
        print(f"{page:<{width}}| {queries:>9} | {times} | {growth[page]:>6.2f}x{flag}")
    print()
    for n in sizes:
        c = csv[n]
        verdict = "within" if c["peak_mb"] <= TARGET_CSV_MB else "OVER"
        print(f"CSV export, one year, {label(n)}: {c['rows']:,} rows, {c['bytes'] / 2**20:.1f} MB "
              f"sent, first bytes after {c['first_ms']:.0f} ms, all after {c['ms']:.0f} ms; "
              f"peak memory +{c['peak_mb']:.1f} MB ({verdict} {TARGET_CSV_MB} MB)")
    worst = max(growth, key=growth.get)
    print(f"worst growth {label(large)}/{label(small)}: {growth[worst]:.2f} ({worst.strip()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
