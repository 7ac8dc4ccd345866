"""A real worker killed (SIGKILL) in the middle of building an archive: a second worker builds it
after the short lease runs out, and the item is archived. Nothing is faked: the build is slow
because the item carries a real 16 MB attachment (a zipped recording: random bytes, which do not
compress), the worker is a real Celery process, and the sweep that finds the abandoned build is
the beat task itself, sent through the broker to the new worker (beat sends it every two minutes;
the test sends it once the lease has run out instead of waiting for beat's clock).

The lease is ``COLLAB_ARCHIVE_LEASE_SECONDS`` (five minutes by default), four seconds here.
"""

import hashlib
import os
import sys
import time
import zipfile
from typing import Any

import pytest
from django.utils import timezone

from collab.celery import app
from collab.testing import Worker, celery_worker, make_org
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, ArchiveStatus
from reviews_app.tests.test_archive_support import attach, ready_item

LEASE_SECONDS = 4
RECORDING = "验收会议录像.zip"


def worker_env() -> dict[str, str]:
    return dict(os.environ) | {"COLLAB_ARCHIVE_LEASE_SECONDS": str(LEASE_SECONDS)}


def wait_until(condition: Any, worker: Worker, seconds: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert worker.poll() is None, "the worker stopped"
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds} s")
        time.sleep(every)


def test_a_build_whose_worker_is_killed_is_finished_by_the_next_worker(transactional_db: Any) -> None:
    org = make_org()
    item = ready_item(org)
    recording = os.urandom(16 * 1024 * 1024)
    attach(org, item, name=RECORDING, content=recording)

    with celery_worker(sys.executable, worker_env()) as first:
        archive = archive_request(actor=org.coordinator, item_id=item.pk)

        def copying_the_recording() -> bool:
            archive.refresh_from_db()
            return archive.status == ArchiveStatus.BUILDING and archive.step.endswith(RECORDING)

        wait_until(copying_the_recording, first, 120, "the first worker did not start copying the recording")
        first.kill()
        killed_at = time.monotonic()

    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.BUILDING and archive.build_attempts == 1
    assert not archive.file
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.EXECUTING

    # No purge: whatever the dead worker left on the broker stays there, as after a real crash.
    with celery_worker(sys.executable, worker_env(), purge=False) as second:
        heartbeat = archive.heartbeat_at
        assert heartbeat is not None
        lapsed = heartbeat.timestamp() + LEASE_SECONDS + 0.5 - timezone.now().timestamp()
        time.sleep(max(lapsed, 0))
        app.send_task("reviews_app.requeue_archives")  # what beat sends

        def finished() -> bool:
            archive.refresh_from_db()
            return archive.status in (ArchiveStatus.READY, ArchiveStatus.FAILED)

        wait_until(finished, second, 120, "the second worker did not finish the archive", every=0.3)

    assert archive.status == ArchiveStatus.READY, archive.error
    assert archive.build_attempts == 2 and archive.progress == 100
    # Built well within the lease's scale, not "building" for an hour.
    assert time.monotonic() - killed_at < 180
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    assert Archive.objects.filter(item=item).count() == 1
    with archive.file.open("rb") as stored, zipfile.ZipFile(stored) as bundle:
        [name] = [n for n in bundle.namelist() if n.endswith(RECORDING)]
        assert hashlib.sha256(bundle.read(name)).digest() == hashlib.sha256(recording).digest()
