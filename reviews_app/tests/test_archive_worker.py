"""A real Celery worker, on the configured broker, builds the archive the coordinator requested:
progress climbs to 100, the ZIP is stored, the item is closed."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from collab.celery import app
from collab.testing import database_url, make_org
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, ArchiveStatus
from reviews_app.tests.test_archive_support import ready_item

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()[-4000:]


@pytest.fixture
def archive_worker(transactional_db: Any, tmp_path: Path) -> Iterator[Worker]:
    app.conf.task_always_eager = False
    app.control.purge()  # leftovers of earlier runs would only slow this one down
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "COLLAB_VAR_DIR": str(settings.VAR_DIR),
        # The worker stores the ZIP where this test's storage reads it.
        "COLLAB_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    # A file, not a pipe: the console e-mails of the setup's notifications would fill a pipe
    # nobody reads until the end, and the worker would block writing to it.
    log = (tmp_path / "worker.log").open("w")
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
            # Registered through reviews_app.tasks once its import line is in; named here so the
            # test does not depend on it.
            "--include",
            "reviews_app.archive_tasks",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield Worker(process, tmp_path / "worker.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        app.conf.task_always_eager = True


def test_the_worker_builds_the_archive_and_closes_the_item(archive_worker: Worker) -> None:
    org = make_org()
    item = ready_item(org)
    archive = archive_request(actor=org.coordinator, item_id=item.pk)  # enqueued after its commit

    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        archive.refresh_from_db()
        seen.add(archive.progress)
        if archive.status in (ArchiveStatus.READY, ArchiveStatus.FAILED):
            break
        assert archive_worker.process.poll() is None, archive_worker.output()
        time.sleep(0.2)
    else:
        pytest.fail("the archive was not built within 120 s:\n" + archive_worker.output())

    assert archive.status == ArchiveStatus.READY, archive.error
    assert archive.progress == 100 and 100 in seen
    assert archive.file and archive.file.storage.exists(archive.file.name)
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    assert Archive.objects.filter(item=item).count() == 1
