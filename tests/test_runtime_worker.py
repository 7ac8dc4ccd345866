"""A Celery worker started from requirements.txt alone (no test packages) on Redis delivers a
notification the application queued: a runtime package that only the test requirements bring in
(kombu's Redis transport needed `packaging`) fails here instead of in a company's server room.

scripts/test builds that environment (COLLAB_RUNTIME_PYTHON) for its PostgreSQL/Redis pass; CI
always runs that pass, so there the test never skips.
"""

import os
import sys
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


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (the embedded beat), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_with_embedded_beat_stops_promptly_on_sigterm(transactional_db: Any, tmp_path: Path) -> None:
    """As ./scripts/start runs it (worker -B); systemd and the start script stop it with SIGTERM.
    It once took more than 30 s: Python's finalisation garbage-collected the whole process after
    the warm shutdown was done (collab/celery.py now leaves once it is)."""
    schedule = tmp_path / "celerybeat-schedule"
    with celery_worker(sys.executable, dict(os.environ), "-B", "--schedule", str(schedule)) as worker:
        deadline = time.monotonic() + 120
        while "beat: Starting..." not in worker.output() or "ready." not in worker.output():
            assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        beat = children(worker.pid)
        assert beat, "no embedded beat process"
        started = time.monotonic()
        assert worker.stop(timeout=60) == 0
        took = time.monotonic() - started
        assert took < 15, f"the worker took {took:.1f} s to stop"
        assert "beat: Shutting down" in worker.output(20000)
    assert not [pid for pid in beat if alive(pid)], "the embedded beat outlived its worker"
