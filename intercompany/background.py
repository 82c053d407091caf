"""Background tasks: the one place the project imports Django's Tasks framework from.

Django 6 ships it as ``django.tasks``; on Django 5.2 the ``django-tasks`` backport provides the
same API under ``django_tasks`` (settings.TASKS_MODULE says which). Define a task with ``task``
and queue it with ``enqueue_after_commit`` (or ``enqueue_later`` to retry with a delay)::

    from intercompany.background import enqueue_after_commit, task

    @task()
    def send_overwrite_email(delivery_id: int) -> None: ...

    enqueue_after_commit(send_overwrite_email, delivery.pk)

With the database backend (settings.TASKS, the default) the queued task is a row written in the
caller's transaction: it commits with the change that asked for it or vanishes with its
rollback, and a worker (``manage.py db_worker``) can only see it once committed. With a backend
that runs tasks elsewhere or at once (``TASKS_BACKEND=immediate``), queuing waits for the commit
instead. Either way nothing a task does (mail, HTTP) happens before the change is committed.

Task arguments must be JSON (ids, strings), never model instances: the row outlives the request.
A task on a queue of its own (``@task(queue_name="webhooks")``) needs that name in
``settings.TASKS["default"]["QUEUES"]``; the documented workers run every queue (``--queue-name
'*'``).
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

_tasks = import_module(settings.TASKS_MODULE)

task = _tasks.task
task_backends = _tasks.task_backends
TaskResultStatus = _tasks.TaskResultStatus

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"

__all__ = [
    "TaskResultStatus",
    "backoff_delay",
    "enqueue_after_commit",
    "enqueue_later",
    "queues_in_transaction",
    "task",
    "task_backends",
]


def queues_in_transaction(task_obj) -> bool:
    """True when the task's backend stores the queue in the database, in the caller's
    transaction (django-tasks-db), rather than running or sending it somewhere at once."""
    backend = task_obj.get_backend()
    return type(backend).__module__.startswith("django_tasks_db")


def enqueue_after_commit(task_obj, *args, **kwargs) -> None:
    """Queue ``task_obj(*args, **kwargs)`` so that it runs only after the current transaction
    commits, and not at all if it rolls back (see the module docstring)."""
    if queues_in_transaction(task_obj):
        # The task row is part of the transaction: atomic with the change, and a worker
        # cannot claim it before the commit.
        task_obj.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(lambda: task_obj.enqueue(*args, **kwargs), robust=True)


def enqueue_later(task_obj, delay: timedelta, *args, **kwargs) -> None:
    """Queue ``task_obj`` to run no earlier than ``delay`` from now (a retry after a failure).
    A backend that cannot defer (the immediate one) runs it at once."""
    if task_obj.get_backend().supports_defer and delay > timedelta(0):
        task_obj = task_obj.using(run_after=timezone.now() + delay)
    enqueue_after_commit(task_obj, *args, **kwargs)


def backoff_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> timedelta:
    """The wait before retry number ``attempt`` (1, 2, ...): doubling from ``base_seconds``,
    capped at ``max_seconds``."""
    return timedelta(seconds=min(max_seconds, base_seconds * 2 ** (attempt - 1)))
