"""A real Celery worker, on the configured broker, writes the register export that the export
button started: progress to the end, a stored workbook that openpyxl reads back."""

import io
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from collab.exports.models import Export, ExportStatus
from collab.testing import Worker, celery_worker, client_for, make_item, make_org


@pytest.fixture
def export_worker(transactional_db: Any) -> Iterator[Worker]:
    with celery_worker(sys.executable, dict(os.environ)) as worker:
        yield worker


def test_the_worker_writes_the_register_the_button_asked_for(export_worker: Worker, settings: Any) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 3
    org = make_org()
    numbers = {make_item(org, topic=f"事项{n}").number for n in range(4)}
    client = client_for(org.owner)
    response = client.get(reverse("requests_app:register_export"))
    export = Export.objects.get()
    assert response["Location"] == reverse("exports:export", args=[export.pk])

    deadline = time.monotonic() + 60
    while export.status not in (ExportStatus.READY, ExportStatus.FAILED):
        assert time.monotonic() < deadline, "the export was not written within 60 s"
        assert export_worker.poll() is None
        time.sleep(0.2)
        export.refresh_from_db()

    assert export.status == ExportStatus.READY, export.error
    assert (export.rows_done, export.rows_total, export.build_attempts) == (4, 4, 1)
    assert export.expires_at is not None and export.expires_at > export.finished_at
    download = client.get(reverse("exports:download", args=[export.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "沟通事项编号" and {r[0] for r in rows[1:]} == numbers
