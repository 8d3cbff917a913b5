"""The Celery app: workers and beat for every periodic and background job."""

import logging
import os
import time
from collections.abc import Iterable
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections, transaction

from config.observability import current_id

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

log = logging.getLogger(__name__)


@task_prerun.connect
def _tag_logs_with_task_id(task_id: str | None = None, **_: Any) -> None:
    current_id.set(f"task-{task_id}")


@task_postrun.connect
def _untag_logs(**_: Any) -> None:
    current_id.set("-")


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(task: Task | None = None, **_: Any) -> None:
    """Treat each task as Django treats a request: keep the connection for CONN_MAX_AGE and
    health-check it before reuse, rather than open a new one per task (CELERY_DB_REUSE_MAX
    holds back Celery's own close after every task). Eager tasks run inside their caller's
    transaction, whose connection is not theirs to close."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


# After a failed publish, requests stop trying the broker for a few seconds: during an outage
# each would otherwise wait out a connection attempt. The sweep keeps probing meanwhile.
BROKER_PAUSE_SECONDS = 5.0
_broker_paused_until = 0.0


def publish(task: Task, *args: Any, probe: bool = False, countdown: float | None = None) -> bool:
    """Queue a task now; when the broker cannot be reached, log it and report False.

    The work is already committed to the database, so nothing is lost: a periodic sweep
    queues it later. probe=True tries the broker even while publishing is paused.
    """
    global _broker_paused_until
    if not probe and time.monotonic() < _broker_paused_until:
        return False
    try:
        if countdown is None:
            task.apply_async(args=args)
        else:
            task.apply_async(args=args, countdown=countdown)
    except Exception:
        # Run in process (tests, eager mode) there is no broker: the error is the task's own.
        if not task.app.conf.task_always_eager:
            _broker_paused_until = time.monotonic() + BROKER_PAUSE_SECONDS
        log.warning("could not queue %s%r; left for the sweep", task.name, args, exc_info=True)
        return False
    _broker_paused_until = 0.0
    return True


def requeue(task: Task, ids: Iterable[int]) -> int:
    """For a sweep: queue the task for each id until the broker refuses; say how many went."""
    count = 0
    for pk in ids:
        if not publish(task, pk, probe=True):
            break
        count += 1
    return count


def publish_on_commit(task: Task, *args: Any) -> None:
    """Queue a task once the current transaction commits, never failing the request."""
    transaction.on_commit(lambda: publish(task, *args))


def _add_worker_steps() -> None:
    from newsletters.dispatch import SignupPoller

    app.steps["worker"].add(SignupPoller)


_add_worker_steps()
