import logging
import os
import sys
from typing import Any

from billiard.process import BaseProcess as Process
from celery import Celery
from celery.signals import worker_shutdown
from django.db import connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

app = Celery("collab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _load_schedule(sender: Celery, **kwargs: object) -> None:
    from collab.schedules import BEAT_SCHEDULE

    sender.conf.beat_schedule = BEAT_SCHEDULE


@worker_shutdown.connect
def _exit_without_finalizing(sender: Any = None, **kwargs: object) -> None:
    """Ends a worker the moment its warm shutdown is done.

    By then every task has finished and every message was acknowledged, and the embedded beat
    (``-B``) has been told to stop; what is left is Python's own finalisation, which
    garbage-collects the few hundred thousand objects of a Django and Celery process. On a busy
    two-core server that took ten seconds and more (30 s once, past systemd's patience), so a
    SIGTERM seemed ignored. So: wait for the embedded beat to save its schedule, close the
    database connections and the logs, and leave with the worker's exit code.
    """
    beat = getattr(sender, "beat", None)
    if isinstance(beat, Process):
        beat.join(timeout=10)
    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(getattr(sender, "exitcode", 0) or 0)
