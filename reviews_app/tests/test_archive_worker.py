"""A real Celery worker, on the configured broker, builds the archive the coordinator requested:
progress climbs to 100, the ZIP is stored, the item is closed."""

import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from collab.testing import Worker, celery_worker, make_org
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, ArchiveStatus
from reviews_app.tests.test_archive_support import ready_item


@pytest.fixture
def archive_worker(transactional_db: Any) -> Iterator[Worker]:
    # Registered through reviews_app.tasks once its import line is in; named here so the test
    # does not depend on it.
    with celery_worker(sys.executable, dict(os.environ), "--include", "reviews_app.archive_tasks") as worker:
        yield worker


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
        assert archive_worker.poll() is None
        time.sleep(0.2)
    else:
        pytest.fail("the archive was not built within 120 s")

    assert archive.status == ArchiveStatus.READY, archive.error
    assert archive.progress == 100 and 100 in seen
    assert archive.file and archive.file.storage.exists(archive.file.name)
    assert CollaborationItem.objects.get(pk=item.pk).status == ItemStatus.CLOSED
    assert Archive.objects.filter(item=item).count() == 1
