"""Background tasks (intercompany/background.py): queued with the change, run by a worker,
never before the commit."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction

from intercompany.background import backoff_delay, enqueue_after_commit, enqueue_later, task

pytestmark = pytest.mark.django_db


@task()
def append_line(path: str, line: str) -> None:
    with open(path, "a") as handle:
        handle.write(line + "\n")


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_task_queued_in_a_committed_change_is_run_by_the_worker(tmp_path, run_worker):
    out = tmp_path / "out.txt"
    with transaction.atomic():
        enqueue_after_commit(append_line, str(out), "sent")
    assert lines(out) == []  # queued, not run: nothing happens in the web request

    assert run_worker() == 1
    assert lines(out) == ["sent"]
    assert run_worker() == 0  # done once, not again
    assert lines(out) == ["sent"]


def test_a_task_queued_in_a_rolled_back_change_never_runs(tmp_path, run_worker):
    out = tmp_path / "out.txt"
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_after_commit(append_line, str(out), "never")
        raise RuntimeError("the change fails")

    assert run_worker() == 0
    assert lines(out) == []


def test_a_delayed_task_waits_for_its_time(tmp_path, run_worker):
    out = tmp_path / "out.txt"
    enqueue_later(append_line, timedelta(seconds=1), str(out), "later")
    assert run_worker() == 0
    time.sleep(1.1)
    assert run_worker() == 1
    assert lines(out) == ["later"]


@pytest.mark.django_db(transaction=True)
def test_with_the_immediate_backend_a_task_runs_right_after_the_commit_not_before(
    tmp_path, immediate_tasks
):
    out = tmp_path / "out.txt"
    with transaction.atomic():
        enqueue_after_commit(append_line, str(out), "after commit")
        assert lines(out) == []
    assert lines(out) == ["after commit"]

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_after_commit(append_line, str(out), "rolled back")
        raise RuntimeError
    assert lines(out) == ["after commit"]


def test_the_backoff_doubles_up_to_its_cap():
    delays = [backoff_delay(n, base_seconds=30, max_seconds=600) for n in range(1, 7)]
    assert [d.total_seconds() for d in delays] == [30, 60, 120, 240, 480, 600]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_runs_the_committed_tasks(tmp_path, worker_process):
    out = tmp_path / "out.txt"
    for n in range(5):
        enqueue_after_commit(append_line, str(out), f"task {n}")
    worker_process()
    deadline = time.monotonic() + 30
    while len(lines(out)) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(lines(out)) == [f"task {n}" for n in range(5)]
