"""The load harness, shortened for CI: three companies' clerks editing the same chains through
gunicorn on PostgreSQL for 10 seconds while gunicorn workers are killed, then the harness's
verification (no 5xx, one value per chain and it is the last committed edit, every committed
edit in the history of every order, nothing half there). bench/load_harness.py runs the long
version whose figures are in the README."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def harness_database_url() -> str:
    """A scratch database on the server the tests use (created and dropped by the harness)."""
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = db["HOST"] or "127.0.0.1"
    # Named after the suite's database when it is an ic_ one, so parallel runs keep apart.
    name = db["NAME"].removeprefix("test_")
    prefix = name if name.startswith("ic_") else "ic"
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{prefix}_load_ci_{os.getpid()}"


@pytest.mark.postgres
def test_clerks_of_three_companies_lose_nothing_under_load_and_killed_workers(tmp_path):
    report = tmp_path / "load.json"

    run = subprocess.run(
        [sys.executable, "bench/load_harness.py", "--seconds", "10", "--kill-worker-every", "3",
         "--seed", "1", "--database-url", harness_database_url(), "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(report.read_text())
    assert result["verification"] == "passed", result["failures"]
    assert result["server_errors"] == 0
    assert result["companies"] == 3 and result["orders_per_chain"] == 5
    # Enough committed edits for the verification to mean something; not a speed target (those
    # are benchmarks): on a loaded 2-core machine the same run commits a handful.
    assert result["edits"]["committed"] >= 5
    assert result["workers_killed"] >= 2
    assert not processes_serving(result["port"]), "gunicorn was left running"


@pytest.mark.postgres
def test_two_servers_sharing_only_the_database_lose_nothing_either(tmp_path):
    """Two gunicorn nodes on two ports; every clerk opens the edit page on one and saves on the
    other (session, CSRF token and version cross servers). Same verification."""
    report = tmp_path / "load.json"

    run = subprocess.run(
        [sys.executable, "bench/load_harness.py", "--seconds", "8", "--nodes", "2",
         "--workers", "2", "--seed", "2", "--database-url", harness_database_url(),
         "--json", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(report.read_text())
    assert result["verification"] == "passed", result["failures"]
    assert result["nodes"] == 2 and result["server_errors"] == 0
    assert all(count > 0 for count in result["requests_per_node"].values())
    assert result["statuses"].get("403", 0) == 0  # no CSRF or session refused across nodes
    assert result["edits"]["committed"] >= 5
    for port in result["ports"]:
        assert not processes_serving(port), "gunicorn was left running"


def processes_serving(port: int) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        command = " ".join(arg.decode(errors="replace") for arg in args)
        if "gunicorn" in command and f"127.0.0.1:{port}" in command:
            found.append(command)
    return found
