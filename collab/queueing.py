"""Sending background work to the broker after commit, without failing the request when the
broker is down.

The work's rows are saved before the message is sent (a delivery "pending", an archive
"queued"), and periodic sweeps pick up rows that waited too long, so a message lost to a broker
outage only delays the work. The person's request therefore still answers, and the outage is
logged for the administrator.
"""

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue(task: Task, *args: Any, instead: str) -> bool:
    """``task.delay(*args)`` now: whether the broker took it. A broker error is logged with what
    happens to the work ``instead``."""
    try:
        task.delay(*args)
    except (OperationalError, OSError) as error:
        logger.warning("The broker did not take %s%r (%s); %s", task.name, args, error, instead)
        return False
    return True


def enqueue_after_commit(task: Task, *args: Any) -> None:
    """``task.delay(*args)`` once the current transaction commits; a broker error is logged."""
    transaction.on_commit(lambda: enqueue(task, *args, instead="the periodic sweep will send it again."))
