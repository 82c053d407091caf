"""Fixtures for background tasks: run the real worker, or run tasks at once.

Loaded as a pytest plugin from ``tests/conftest.py``. In tests, as in production, tasks are
queued in the database (settings.TASKS); nothing runs them unless a test asks:

- ``run_worker()`` runs the real ``manage.py db_worker`` command in this process over the
  test database until no task is ready (``--batch``), and returns how many tasks ran;
- ``worker_process(**env)`` starts ``manage.py db_worker`` as a separate process against the
  test database (PostgreSQL only: an in-memory SQLite test database is invisible to other
  processes); it is stopped when the test ends;
- ``immediate_tasks`` switches to the immediate backend: each task runs right after the commit
  of the transaction that queued it, in the test's process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": settings.TASK_BACKENDS["immediate"],
            "QUEUES": ["default"],
        }
    }


@pytest.fixture
def run_worker(monkeypatch):
    """``run_worker()``: the real worker runs every ready task, then returns how many ran."""
    from django_tasks_db.management.commands import db_worker

    if connection.in_atomic_block:
        # The worker closes connections whose autocommit differs from the settings, as a
        # request does; here it shares the connection of the test's transaction, which must
        # stay open (a test marked transaction=True runs the worker unchanged).
        monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> int:
        from django_tasks_db.models import DBTaskResult

        # The worker installs its own handlers for a graceful Ctrl+C; give pytest its own back.
        saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        before = DBTaskResult.objects.exclude(status="READY").count()
        try:
            call_command(
                "db_worker", batch=True, reload=False, startup_delay=False, interval=0,
                verbosity=0,
            )
        finally:
            for sig, handler in saved.items():
                signal.signal(sig, handler)
        return DBTaskResult.objects.exclude(status="READY").count() - before

    return run


def test_database_url() -> str:
    """The URL of the test database, for processes the test starts (PostgreSQL only)."""
    s = connection.settings_dict
    assert connection.vendor == "postgresql", "other processes cannot see this test database"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (
        f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/"
        f"{s['NAME']}"
    )


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def worker_process(tmp_path):
    """``worker_process(queue_name=None, **env)``: a ``manage.py db_worker`` process on the test
    database, for the default queue or ``queue_name``; returns the ``Popen`` (its output goes to
    a log file in ``tmp_path``). Stopped at the end of the test (SIGTERM: the worker finishes
    the task it is running, then exits); a test may kill it first."""
    started: list[subprocess.Popen] = []

    def start(queue_name: str | None = None, **env) -> subprocess.Popen:
        full_env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        log = open(tmp_path / f"worker-{len(started)}.log", "w")  # noqa: SIM115 - closed below
        queue = ["--queue-name", queue_name] if queue_name else []
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
             *queue, "--interval", "0.05", "-v", "2"],
            cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
        )
        process.log_file = log
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.log_file.close()
