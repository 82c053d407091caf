"""Load harness: clerks of three companies editing the same chains at once, through gunicorn.

What it does, start to finish:

1. creates a fresh PostgreSQL database (dropped first if it exists), migrates it, and seeds
   three companies trading along USMF → DEMF → GBSI with every customer-information switch on,
   ``--chains`` five-order chains (original SO and intercompany PO in USMF, intercompany SO and
   PO in DEMF, intercompany SO in GBSI) and ``--clerks`` clerks per company;
2. collects the static files and starts the production server exactly as the README documents it
   (gunicorn, ``--workers`` workers, DEBUG off, WhiteNoise), behind a simulated TLS proxy (the
   clients send ``X-Forwarded-Proto: https``, as the proxy would);
3. logs every clerk in through the login page (CSRF token and all), then runs one thread per
   clerk for ``--seconds``: open the edit page of a random order of their company in a random
   chain, post new customer information (a value unique to that edit) with the page's CSRF token
   and version; a 409 (someone else's edit landed in between) is counted and the clerk goes on;
4. optionally SIGKILLs a random gunicorn worker every ``--kill-worker-every`` seconds (the
   master starts a new one); requests cut off by a kill are counted, never retried;
5. stops gunicorn (no process is left behind), and verifies against the database:
   - no response was a 5xx;
   - every chain holds one value on every order (both fields), and it is the last committed edit:
     a committed edit (302) whose history row is the chain's latest edit, and which no other
     committed edit began after it had been answered;
   - history holds every committed edit on every order it reached (every order of the chain):
     one "edited" row by the clerk on the order they edited, one "synced" row on each other
     order, and nothing else;
   - an edit that was refused (409) or cut off by a killed worker is on every order or on none;
6. prints requests per second, p50/p95 latency, the counts, and the verification; exits 1 if
   anything failed. ``--json PATH`` writes the same as JSON (tests/test_load.py reads it).

Run (about 90 s with setup)::

    .venv/bin/python bench/load_harness.py --seconds 60 --kill-worker-every 10
    .venv/bin/python bench/load_harness.py --seconds 60 --nodes 2 --workers 2   # two servers

``--nodes 2`` starts two gunicorn servers ("nodes") on two free ports with the same database
and secret key and nothing else in common; each clerk's requests alternate between them (the
edit page from one node, the save to the other), and the verification is the same.

The database is ``--database-url`` (default ``postgres://postgres@127.0.0.1:5432/ic_load``); it is
dropped at the end unless ``--keep-db``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PASSWORD = "load-harness-Pa55word"
COMPANIES = [("USMF", "Contoso Entertainment USA"), ("DEMF", "Contoso Germany"),
             ("GBSI", "Contoso UK")]


# -- the database -------------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    if not re.fullmatch(r"ic_(\w+_)?load\w*", name):
        raise SystemExit(f"Refusing to drop {name!r}: the harness database must be named "
                         "ic_load* or ic_<prefix>_load*")
    with psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None,
                         user=cfg["USER"] or None, password=cfg["PASSWORD"] or None,
                         dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from django.db import connections

    connections.close_all()
    cfg = dj_database_url.parse(url)
    with psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None,
                         user=cfg["USER"] or None, password=cfg["PASSWORD"] or None,
                         dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


@dataclass
class ChainOrder:
    kind: str  # "sales" / "purchase"
    pk: int
    number: str
    company: str

    @property
    def edit_path(self) -> str:
        segment = "sales-orders" if self.kind == "sales" else "purchase-orders"
        return f"/{segment}/{self.pk}/edit/"


@dataclass
class SeededChain:
    chain_id: int
    orders: list[ChainOrder]


def seed(*, chains: int, clerks: int) -> tuple[list[SeededChain], dict[str, list[str]]]:
    """Companies, relationships with every switch on, chains USMF → DEMF → GBSI, clerks."""
    from intercompany.models import Company, Customer, Employee
    from intercompany.services import create_trading_relationship
    from orders.models import PurchaseOrder, SalesOrder
    from orders.services import create_intercompany_purchase_order, create_sales_order

    companies = {code: Company.objects.create(code=code, name=name) for code, name in COMPANIES}
    every_switch = dict(purchase_policy_syncs_original_sales_order=True,
                        purchase_policy_syncs_intercompany_sales_order=True,
                        sales_policy_syncs_intercompany_purchase_order=True)
    usmf_demf = create_trading_relationship(buying_company=companies["USMF"],
                                            selling_company=companies["DEMF"], **every_switch)
    demf_gbsi = create_trading_relationship(buying_company=companies["DEMF"],
                                            selling_company=companies["GBSI"], **every_switch)
    usernames: dict[str, list[str]] = {}
    for code, company in companies.items():
        usernames[code] = []
        for n in range(1, clerks + 1):
            username = f"clerk-{code.lower()}-{n}"
            employee = Employee.objects.create_user(username, password=PASSWORD,
                                                    first_name=f"Clerk {n}", last_name=code)
            employee.companies.add(company)
            usernames[code].append(username)
    seeder = Employee.objects.get(username=usernames["USMF"][0])
    seeder_demf = Employee.objects.get(username=usernames["DEMF"][0])
    customer = Customer.objects.create(company=companies["USMF"], account="US-001",
                                       name="Fabrikam Retail")
    seeded = []
    for n in range(1, chains + 1):
        original = create_sales_order(employee=seeder, company=companies["USMF"],
                                      customer=customer, customer_reference=f"Seed {n}",
                                      customer_requisition=f"SEED-{n}")
        po_usmf = create_intercompany_purchase_order(employee=seeder, sales_order=original,
                                                     vendor=usmf_demf.intercompany_vendor)
        so_demf = SalesOrder.objects.get(intercompany_purchase_order=po_usmf)
        po_demf = create_intercompany_purchase_order(employee=seeder_demf, sales_order=so_demf,
                                                     vendor=demf_gbsi.intercompany_vendor)
        so_gbsi = SalesOrder.objects.get(intercompany_purchase_order=po_demf)
        orders = []
        for order in (SalesOrder.objects.get(pk=original.pk), po_usmf, so_demf, po_demf,
                      so_gbsi):
            order = type(order).objects.select_related("company").get(pk=order.pk)
            kind = "sales" if isinstance(order, SalesOrder) else "purchase"
            orders.append(ChainOrder(kind, order.pk, order.number, order.company.code))
        chain_id = SalesOrder.objects.get(pk=original.pk).chain_id
        assert {so_gbsi.chain_id, po_demf.chain_id, so_demf.chain_id} == {chain_id}
        seeded.append(SeededChain(chain_id, orders))
    assert PurchaseOrder.objects.count() == 2 * chains
    return seeded, usernames


# -- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn as the README starts it; stopped (with every worker) by ``stop()``."""

    def __init__(self, *, env: dict, port: int, workers: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [GUNICORN, "intercompany.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
             str(workers), "--timeout", "60", "--graceful-timeout", "10"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_path.read_text())
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/accounts/login/",
                             headers={"X-Forwarded-Proto": "https"})
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer:\n" + self.log_path.read_text())

    def workers(self) -> list[int]:
        """The pids of the master's worker processes (from /proc)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid:
                pids.append(int(entry.name))
        return pids

    def kill_a_worker(self) -> int | None:
        workers = self.workers()
        if not workers:
            return None
        pid = random.choice(workers)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return pid

    def stop(self) -> None:
        if self.process.poll() is None:
            # TERM to the whole session: the master and its workers.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # A worker orphaned by a killed master would still be in the session: make sure.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()


# -- the clerks ---------------------------------------------------------------------------------


class CutOff(Exception):
    """The connection was closed before a response came (a worker was killed)."""


@dataclass
class Request:
    method: str
    path: str
    status: int | None  # None: cut off
    started: float
    seconds: float
    port: int = 0  # the node that answered


@dataclass
class Edit:
    chain: int
    order: ChainOrder
    clerk: str
    reference: str
    requisition: str
    outcome: str  # "committed", "stale", "cut-off", "refused", "error"
    sent: float
    answered: float
    status: int | None = None


@dataclass
class Clerk:
    """One clerk's browser. With several nodes it sends each request to the next node in
    turn, so the edit page comes from one server and the save goes to another: the session,
    the CSRF token and the form's version must hold across servers."""

    username: str
    company: str
    ports: list[int]
    cookies: dict[str, str] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    turn: int = 0

    def request(self, method: str, path: str, form: dict | None = None):
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        headers = {"X-Forwarded-Proto": "https", "Host": f"127.0.0.1:{port}"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{port}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read().decode("utf-8", errors="replace")
        except (ConnectionError, http.client.RemoteDisconnected,
                http.client.IncompleteRead) as error:
            self.requests.append(Request(method, path, None, started,
                                         time.monotonic() - started, port))
            raise CutOff(str(error)) from error
        finally:
            conn.close()
        self.requests.append(Request(method, path, response.status, started,
                                     time.monotonic() - started, port))
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response, content

    def log_in(self) -> None:
        for _ in range(5):
            try:
                _, page = self.request("GET", "/accounts/login/")
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
                response, _ = self.request("POST", "/accounts/login/", {
                    "csrfmiddlewaretoken": token, "username": self.username,
                    "password": PASSWORD,
                })
            except CutOff:
                continue
            if response.status == 302 and "sessionid" in self.cookies:
                return
            raise RuntimeError(f"{self.username} could not log in ({response.status})")
        raise RuntimeError(f"{self.username} could not log in")

    def work(self, chains: list[SeededChain], deadline: float, rng: random.Random) -> None:
        sequence = 0
        while time.monotonic() < deadline:
            chain = rng.choice(chains)
            order = rng.choice([o for o in chain.orders if o.company == self.company])
            try:
                response, page = self.request("GET", order.edit_path)
            except CutOff:
                continue
            if response.status != 200:
                continue  # counted in the requests; a 5xx fails the run
            version = re.search(r'name="version" value="(\d+)"', page)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if not (version and token):
                raise RuntimeError(f"no edit form at {order.edit_path}")
            sequence += 1
            requisition = f"{self.username[6:]}-{sequence:06d}"  # e.g. usmf-1-000042
            reference = f"Load edit {requisition}"
            edit = Edit(chain.chain_id, order, self.username, reference, requisition, "error",
                        time.monotonic(), 0.0)
            try:
                response, _ = self.request("POST", order.edit_path, {
                    "csrfmiddlewaretoken": token.group(1), "version": version.group(1),
                    "customer_reference": reference, "customer_requisition": requisition,
                })
            except CutOff:
                edit.outcome = "cut-off"
            else:
                edit.status = response.status
                edit.outcome = {302: "committed", 409: "stale"}.get(response.status, "refused")
                if response.status >= 500:
                    edit.outcome = "error"
            edit.answered = time.monotonic()
            self.edits.append(edit)


# -- verification -------------------------------------------------------------------------------


def verify(
    chains: list[SeededChain], edits: list[Edit], requests: list[Request]
) -> tuple[list[str], dict[str, int]]:
    """The invariants of the issue, checked against the database.

    Returns the failures, and what became of the edits cut off by a killed worker (landed on
    every order, or on none)."""
    from intercompany.models import Employee
    from orders.models import PurchaseOrder, SalesOrder

    failures: list[str] = []
    server_errors = [r for r in requests if r.status is not None and r.status >= 500]
    if server_errors:
        failures.append(f"{len(server_errors)} responses were 5xx, e.g. "
                        f"{server_errors[0].method} {server_errors[0].path} "
                        f"-> {server_errors[0].status}")
    refused = [e for e in edits if e.outcome == "refused"]
    if refused:
        failures.append(f"{len(refused)} edits were refused with status "
                        f"{sorted({e.status for e in refused})} (expected 302 or 409)")
    user_ids = dict(Employee.objects.values_list("username", "pk"))
    models = {"sales": SalesOrder, "purchase": PurchaseOrder}
    cut_off = Counter()
    by_chain: dict[int, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_chain[edit.chain].append(edit)

    for chain in chains:
        label = f"chain {chain.chain_id}"
        rows = {}  # order -> its history rows, oldest first
        current = {}
        for order in chain.orders:
            model = models[order.kind]
            stored = model.objects.get(pk=order.pk)
            current[order.number] = (stored.customer_reference, stored.customer_requisition)
            # In the order's own sequence: every write raises the order's version.
            rows[order.number] = list(
                model.history.filter(id=order.pk).order_by("version", "history_id").values(
                    "version", "customer_reference", "customer_requisition", "history_kind",
                    "history_user_id", "history_source_id", "history_source_type",
                )
            )
        values = set(current.values())
        if len(values) != 1:
            failures.append(f"{label}: the orders disagree: {current}")
            continue
        (final_reference, final_requisition), = values

        chain_edits = by_chain[chain.chain_id]
        committed = [e for e in chain_edits if e.outcome == "committed"]
        unsure = [e for e in chain_edits if e.outcome == "cut-off"]
        not_saved = [e for e in chain_edits if e.outcome == "stale"]
        by_value = {e.requisition: e for e in chain_edits}
        landed: dict[str, list] = defaultdict(list)  # requisition -> rows carrying it
        for number, history in rows.items():
            for row in history[1:]:  # after the creation row
                landed[row["customer_requisition"]].append((number, row))

        # Every committed edit, on every order it reached (all of them: every switch is on).
        for edit in committed:
            carried = landed.get(edit.requisition, [])
            orders = sorted(number for number, _ in carried)
            if orders != sorted(rows):
                failures.append(f"{label}: committed edit {edit.requisition} is in the history "
                                f"of {orders}, expected every order {sorted(rows)}")
                continue
            for number, row in carried:
                kind = "edited" if number == edit.order.number else "synced"
                if row["history_kind"] != kind or row["customer_reference"] != edit.reference:
                    failures.append(f"{label}: {number} holds {edit.requisition} as "
                                    f"{row['history_kind']} with reference "
                                    f"{row['customer_reference']!r}; expected {kind}")
                if row["history_user_id"] != user_ids[edit.clerk]:
                    failures.append(f"{label}: {number}: {edit.requisition} attributed to user "
                                    f"{row['history_user_id']}, not {edit.clerk}")
                if kind == "synced" and row["history_source_id"] != edit.order.pk:
                    failures.append(f"{label}: {number}: copy of {edit.requisition} names "
                                    f"source {row['history_source_id']}")
        # Refused edits left nothing; cut-off edits are on every order or on none.
        for edit in not_saved:
            if edit.requisition in landed:
                failures.append(f"{label}: refused edit {edit.requisition} is in the history")
        for edit in unsure:
            orders = sorted(number for number, _ in landed.get(edit.requisition, []))
            if orders and orders != sorted(rows):
                failures.append(f"{label}: edit {edit.requisition}, cut off by a killed worker, "
                                f"is half there: {orders}")
            cut_off["on every order" if orders else "on none"] += 1
        # Nothing else in the history: each row is a committed or cut-off edit.
        for value in landed:
            if value not in by_value or by_value[value].outcome not in ("committed", "cut-off"):
                failures.append(f"{label}: history holds {value!r}, which no clerk committed")

        # Edits of one chain are serialized by the chain lock and reach every order: every
        # order received the same edits in the same order.
        sequences = {number: [row["customer_requisition"] for row in history[1:]]
                     for number, history in rows.items()}
        if len({tuple(sequence) for sequence in sequences.values()}) != 1:
            failures.append(f"{label}: the orders received different sequences of edits")
            continue
        sequence = next(iter(sequences.values()))
        if not sequence:
            if committed:
                failures.append(f"{label}: edits were committed but none is in the history")
            continue
        # The value held is the last committed edit.
        last_value = sequence[-1]
        last = by_value.get(last_value)
        if final_requisition != last_value:
            failures.append(f"{label}: holds {final_requisition}, but the last edit in the "
                            f"history is {last_value}")
        elif last is None or last.reference != final_reference:
            failures.append(f"{label}: holds {final_requisition!r}/{final_reference!r}, "
                            "which no clerk sent")
        elif last.outcome == "committed":
            later = [e for e in committed if e.sent > last.answered]
            if later:
                failures.append(f"{label}: holds {last_value}, but {later[0].requisition} was "
                                "committed after it had been answered")
        elif last.outcome == "cut-off":
            later = [e for e in committed if e.sent > last.answered]
            if later:
                failures.append(f"{label}: holds cut-off edit {last_value} although "
                                f"{later[0].requisition} was committed later")
    return failures, dict(cut_off)


# -- the run ------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per node")
    parser.add_argument("--nodes", type=int, default=1,
                        help="gunicorn servers (nodes), each on its own port, sharing only the "
                             "database and the secret key; each clerk's requests take turns")
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--clerks", type=int, default=2, help="clerks per company")
    parser.add_argument("--kill-worker-every", type=float, default=0, metavar="SECONDS",
                        help="SIGKILL a random gunicorn worker this often (0: never)")
    parser.add_argument("--database-url",
                        default=os.environ.get("LOAD_DATABASE_URL",
                                               "postgres://postgres@127.0.0.1:5432/ic_load"))
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the clerks")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    recreate_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="ic-load-"))
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(workdir / "staticfiles"),
        "LOG_LEVEL": "WARNING",
    }
    manage("migrate", "--noinput", env=env)
    manage("collectstatic", "--noinput", env=env)

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "intercompany.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connections

    chains, usernames = seed(chains=args.chains, clerks=args.clerks)
    connections.close_all()

    ports = [free_port() for _ in range(max(1, args.nodes))]
    # Two nodes share what the README says they must: the database and the secret key (the
    # same ``env``), nothing else: separate processes, ports and logs.
    servers = [
        Server(env=env, port=node_port, workers=args.workers,
               log_path=workdir / f"gunicorn-{index + 1}.log")
        for index, node_port in enumerate(ports)
    ]
    port = ports[0]
    clerks = [Clerk(username, company, ports[index % len(ports):] + ports[:index % len(ports)])
              for index, (company, username) in enumerate(
                  (company, username) for company, names in usernames.items()
                  for username in names)]
    kills: list[int] = []
    crashed: list[BaseException] = []
    try:
        for server in servers:
            server.wait_ready()
        for clerk in clerks:
            clerk.log_in()
        start = time.monotonic()
        deadline = start + args.seconds
        master_rng = random.Random(args.seed)

        def run(clerk: Clerk, seed: int) -> None:
            try:
                clerk.work(chains, deadline, random.Random(seed))
            except BaseException as error:  # reported below
                crashed.append(error)

        threads = [threading.Thread(target=run, args=(clerk, master_rng.random()))
                   for clerk in clerks]
        for thread in threads:
            thread.start()
        if args.kill_worker_every:
            next_kill = start + args.kill_worker_every
            while time.monotonic() < deadline:
                time.sleep(0.05)
                if time.monotonic() >= next_kill:
                    pid = random.choice(servers).kill_a_worker()
                    if pid:
                        kills.append(pid)
                    next_kill += args.kill_worker_every
        for thread in threads:
            thread.join(timeout=args.seconds + 120)
        elapsed = time.monotonic() - start
    finally:
        for server in servers:
            server.stop()

    requests = [r for clerk in clerks for r in clerk.requests
                if r.started >= start]  # the load phase only, not the logins
    edits = [e for clerk in clerks for e in clerk.edits]
    failures = [f"a clerk crashed: {error!r}" for error in crashed]
    found, cut_off = verify(chains, edits, requests)
    failures += found
    if args.keep_db:
        print(f"Database kept: {args.database_url}")
    else:
        drop_database(args.database_url)

    answered = [r for r in requests if r.status is not None]
    posts = [r.seconds for r in answered if r.method == "POST"]
    gets = [r.seconds for r in answered if r.method == "GET"]
    outcomes = Counter(e.outcome for e in edits)
    statuses = Counter(r.status for r in requests)
    result = {
        "seconds": round(elapsed, 1),
        "gunicorn_workers": args.workers,
        "nodes": len(ports),
        "port": port,
        "ports": ports,
        "requests_per_node": {str(p): sum(1 for r in requests if r.port == p) for p in ports},
        "clerks": len(clerks),
        "companies": len(usernames),
        "chains": len(chains),
        "orders_per_chain": len(chains[0].orders),
        "requests": len(requests),
        "requests_per_second": round(len(requests) / elapsed, 1),
        "latency_ms": {
            "all": {"p50": round(percentile([r.seconds for r in answered], .5) * 1000, 1),
                    "p95": round(percentile([r.seconds for r in answered], .95) * 1000, 1)},
            "edit_page_get": {"p50": round(percentile(gets, .5) * 1000, 1),
                              "p95": round(percentile(gets, .95) * 1000, 1)},
            "edit_post": {"p50": round(percentile(posts, .5) * 1000, 1),
                          "p95": round(percentile(posts, .95) * 1000, 1)},
        },
        "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
        "edits": dict(outcomes),
        "committed_edits_per_second": round(outcomes["committed"] / elapsed, 1),
        "workers_killed": len(kills),
        "cut_off_edits": cut_off,
        "server_errors": sum(1 for r in requests if r.status and r.status >= 500),
        "verification": "passed" if not failures else "FAILED",
        "failures": failures[:50],
    }

    print(f"{result['clerks']} clerks of {result['companies']} companies, "
          f"{result['chains']} chains of {result['orders_per_chain']} orders, every switch on, "
          f"{len(ports)} gunicorn node(s) of {args.workers} workers on PostgreSQL, "
          f"{result['seconds']} s")
    if len(ports) > 1:
        print("requests per node (port: count): " + ", ".join(
            f"{p}: {n}" for p, n in result["requests_per_node"].items()))
    print(f"requests: {result['requests']} ({result['requests_per_second']} req/s); "
          f"statuses {result['statuses']} (None: cut off by a killed worker)")
    lat = result["latency_ms"]
    print(f"latency ms: all p50 {lat['all']['p50']} / p95 {lat['all']['p95']}; "
          f"edit page p50 {lat['edit_page_get']['p50']} / p95 {lat['edit_page_get']['p95']}; "
          f"save p50 {lat['edit_post']['p50']} / p95 {lat['edit_post']['p95']}")
    print(f"edits: {result['edits']} ({result['committed_edits_per_second']} committed/s); "
          f"workers killed: {len(kills)}; edits cut off by a kill: {cut_off or 'none'}")
    if failures:
        print(f"VERIFICATION FAILED ({len(failures)}):")
        for failure in failures[:20]:
            print("  -", failure)
        print("gunicorn logs:", workdir)
    else:
        print("verification passed: no 5xx; every chain holds one value on every order, the "
              "last committed edit; history holds every committed edit on every order; no "
              "refused or cut-off edit is half there")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if not failures:
        shutil.rmtree(workdir, ignore_errors=True)  # kept on failure, for the gunicorn log
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
