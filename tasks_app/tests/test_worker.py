"""A real Celery worker, on the configured broker (the filesystem broker on SQLite runs, Redis in
the PostgreSQL/Redis pass and CI), picks up the warning sweep and delivers a warning by e-mail."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone

from collab.celery import app
from collab.notify.models import Delivery, Notification
from collab.testing import make_org
from tasks_app.tasks import sweep_alerts_task
from tasks_app.tests.support import executing_item

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db: Any) -> Any:
    app.conf.task_always_eager = False
    app.control.purge()  # leftovers of earlier runs would only slow this one down
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "COLLAB_VAR_DIR": str(settings.VAR_DIR),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "collab",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        app.conf.task_always_eager = True


def test_the_worker_sends_a_due_warning(worker: Any) -> None:
    org = make_org()
    with time_machine.travel(timezone.now() - timedelta(days=15), tick=False):
        executing_item(org)  # its first progress reports came due long ago
    sweep_alerts_task.delay()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        sent = Delivery.objects.filter(notification__kind__startswith="alert.", status="sent")
        if sent.exists():
            break
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.5)
    else:
        worker.terminate()
        pytest.fail("no warning was delivered within 90 s:\n" + worker.communicate(timeout=20)[0][-4000:])
    warned = Notification.objects.filter(kind__startswith="alert.").values_list(
        "recipient__username", flat=True
    )
    assert {"owner", "collaborator"} <= set(warned)
