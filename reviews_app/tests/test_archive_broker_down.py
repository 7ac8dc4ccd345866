"""The broker is down: actions still answer and save; the work is done once it is back.

The broker is really unreachable (a closed port), then a real worker on the configured broker
builds what was asked meanwhile, after the periodic sweep sent it again. A worker that stops
renewing its lease mid-build (killed) leaves the archive to the sweep, not "building" for an hour.
"""

import logging
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu import pools

from collab.audit.models import AuditEntry
from collab.celery import app
from collab.notify.models import Delivery
from collab.testing import celery_worker, client_for, make_org
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.archive_builder import build_lease
from reviews_app.archive_sweep import MAX_BUILD_ATTEMPTS, archives_requeue
from reviews_app.models import Archive, ArchiveStatus
from reviews_app.tests.test_archive_support import ready_item


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _reset_producers() -> None:
    """Forgets pooled broker connections, so the next message connects to the broker URL now set."""
    pools.reset()
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None


@contextmanager
def broker_down() -> Iterator[None]:
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (the Redis pass).
    configured, environment = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    closed = f"redis://127.0.0.1:{closed_port()}/0"
    app.conf.task_always_eager = False
    app.conf.broker_url = closed
    if environment is not None:
        os.environ["CELERY_BROKER_URL"] = closed
    _reset_producers()
    try:
        yield
    finally:
        app.conf.broker_url = configured
        if environment is not None:
            os.environ["CELERY_BROKER_URL"] = environment
        _reset_producers()
        app.conf.task_always_eager = True


def wait_for(archive: Archive, worker: Any, seconds: int = 300) -> Archive:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        archive.refresh_from_db()
        if archive.status in (ArchiveStatus.READY, ArchiveStatus.FAILED):
            return archive
        assert worker.poll() is None
        time.sleep(0.3)
    pytest.fail("the archive was not built in time")


def test_a_request_while_the_broker_is_down_answers_and_is_built_when_it_is_back(
    transactional_db: Any, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    org = make_org()
    item = ready_item(org)
    coordinator = client_for(org.coordinator)
    with broker_down(), caplog.at_level(logging.WARNING, logger="collab.queueing"):
        started = time.monotonic()
        response = coordinator.post(reverse("reviews_app:archive_build", args=[item.pk]), {"confirm": "yes"})
        assert response.status_code == 302
        assert time.monotonic() - started < 15
    archive = Archive.objects.get(item=item)
    assert archive.status == ArchiveStatus.QUEUED
    assert AuditEntry.objects.filter(action="archive.requested").count() == 1
    assert "the periodic sweep will send it again" in caplog.text

    with celery_worker(sys.executable, {"COLLAB_MEDIA_ROOT": str(settings.MEDIA_ROOT)}) as worker:
        assert archives_requeue(now=timezone.now() + timedelta(minutes=3))["sent"] == 1
        archive = wait_for(archive, worker)
    assert archive.status == ArchiveStatus.READY, archive.error
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    # The requester is told; that notice waits in the outbox like every other.
    assert Delivery.objects.exists()


def test_a_build_whose_worker_died_is_queued_again_and_fails_after_three_tries(db: Any) -> None:
    org = make_org()
    item = ready_item(org)
    archive = Archive.objects.create(
        item=item,
        requested_by=org.coordinator,
        status=ArchiveStatus.BUILDING,
        heartbeat_at=timezone.now(),
        build_attempts=1,
    )
    with broker_down():  # the sweep itself must not fail while the broker is away
        assert archives_requeue(now=timezone.now() + build_lease() - timedelta(seconds=5)) == {
            "failed": 0,
            "requeued": 0,
            "sent": 0,
        }
        assert archives_requeue(now=timezone.now() + build_lease() + timedelta(seconds=5)) == {
            "failed": 0,
            "requeued": 1,
            "sent": 1,
        }
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.QUEUED
    Archive.objects.filter(pk=archive.pk).update(
        status=ArchiveStatus.BUILDING, build_attempts=MAX_BUILD_ATTEMPTS
    )
    with broker_down():
        archives_requeue(now=timezone.now() + build_lease() + timedelta(seconds=5))
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.FAILED
    assert archive.error == "生成过程未完成即中止（后台任务被中断）。"
    # The coordinator may ask again at once instead of waiting an hour.
    assert (
        client_for(org.coordinator)
        .post(reverse("reviews_app:archive_build", args=[item.pk]), {"confirm": "yes"})
        .status_code
        == 302
    )
