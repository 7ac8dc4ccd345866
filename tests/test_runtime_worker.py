"""A Celery worker started from requirements.txt alone (no test packages) on Redis delivers a
notification the application queued: a runtime package that only the test requirements bring in
(kombu's Redis transport needed `packaging`) fails here instead of in a company's server room.

scripts/test builds that environment (COLLAB_RUNTIME_PYTHON) for its PostgreSQL/Redis pass; CI
always runs that pass, so there the test never skips.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from collab.notify.models import Delivery
from collab.testing import Worker, celery_worker, make_item, make_org, schedule_meeting
from conftest import require_service

ROOT = Path(__file__).resolve().parent.parent


def runtime_python() -> str:
    """The runtime-only environment's python; in CI it must be there."""
    path = os.environ.get("COLLAB_RUNTIME_PYTHON", "")
    require_service(
        "the runtime-only environment (COLLAB_RUNTIME_PYTHON)", bool(path) and Path(path).exists()
    )
    return path


@pytest.fixture
def runtime_worker(transactional_db: Any) -> Iterator[Worker]:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("runs in the PostgreSQL/Redis pass (CELERY_BROKER_URL=redis://...)")
    python = runtime_python()
    # The worker sees only what a deployment sets: no test settings, no COLLAB_* of this process.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COLLAB_", "DJANGO_", "PYTHON"))}
    with celery_worker(python, env) as worker:
        yield worker


def test_a_runtime_only_worker_on_redis_delivers_a_notification(
    runtime_worker: Worker,
) -> None:
    org = make_org()
    schedule_meeting(org, make_item(org))  # invites the requester: an e-mail enters the outbox
    queued = Delivery.objects.filter(channel="email", notification__recipient=org.requester)
    assert queued.count() == 1
    deadline = time.monotonic() + 60
    while not queued.filter(status="sent").exists():
        if runtime_worker.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the runtime-only worker delivered nothing")
        time.sleep(0.3)
    runtime_worker.stop()
    # The console e-mail backend printed the message the worker sent.
    assert "To: requester@example.com" in runtime_worker.output(20000)
