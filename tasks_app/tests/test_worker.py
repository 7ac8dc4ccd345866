"""A real Celery worker, on the configured broker (the filesystem broker on SQLite runs, Redis in
the PostgreSQL/Redis pass and CI), picks up the warning sweep and delivers a warning by e-mail."""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from collab.notify.models import Delivery, Notification
from collab.testing import celery_worker, make_org
from tasks_app.tasks import sweep_alerts_task
from tasks_app.tests.support import executing_item

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db: Any) -> Any:
    with celery_worker(sys.executable, dict(os.environ)) as process:
        yield process


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
        assert worker.poll() is None
        time.sleep(0.5)
    else:
        pytest.fail("no warning was delivered within 90 s")
    warned = Notification.objects.filter(kind__startswith="alert.").values_list(
        "recipient__username", flat=True
    )
    assert {"owner", "collaborator"} <= set(warned)
