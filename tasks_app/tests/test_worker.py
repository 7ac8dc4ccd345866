"""A real Celery worker, on the configured broker (the filesystem broker on SQLite runs, Redis in
the PostgreSQL/Redis pass and CI), picks up the warning sweep and delivers a warning by e-mail."""

import os
import re
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from collab.notify.models import Delivery, Notification
from collab.testing import celery_worker, make_org
from tasks_app.alerts import sweep_parts
from tasks_app.models import Alert
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


def test_the_beats_sweep_shares_the_wave_with_a_second_worker_task(worker: Any) -> None:
    """On PostgreSQL the beat's sweep sends its part and hands the other items' part to the
    broker (``tasks_app.sweep_alerts_part``); either way every due warning goes out once."""
    org = make_org()
    with time_machine.travel(timezone.now() - timedelta(days=15), tick=False):
        items = [executing_item(org) for _ in range(3)]  # ids of both parities
    sweep_alerts_task.delay()
    due = Alert.objects.filter(due_at__lte=timezone.now(), sent_at=None, cancelled_at=None)
    parts = sweep_parts()  # 1 on SQLite
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        finished = len(
            re.findall(r"Task tasks_app\.sweep_alerts\w*\[\S+\] succeeded", worker.output(100_000))
        )
        if not due.exists() and finished >= parts:
            break
        assert worker.poll() is None
        time.sleep(0.5)
    else:
        pytest.fail("the sweep's parts did not send every due warning within 90 s")
    sent = Alert.objects.exclude(sent_at=None)
    assert {alert.task.item_id for alert in sent} == {item.pk for item in items}
    keys = Notification.objects.filter(kind__startswith="alert.").values_list("dedupe_key", flat=True)
    assert Counter(str(key).rsplit(":", 1)[0] for key in keys) == {f"alert:{alert.pk}": 1 for alert in sent}
    assert ("Task tasks_app.sweep_alerts_part[" in worker.output(100_000)) == (parts > 1)
