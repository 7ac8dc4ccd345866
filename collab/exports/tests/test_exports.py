"""Background exports: past the threshold the register's export button starts one; its page shows
progress, then the download link, to the person who asked only; failures say why and can be
tried again; the sweep recovers lost work and removes files past their time."""

import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from collab.audit.models import AuditEntry
from collab.exports.kinds import ExportKind, register_export_kind
from collab.exports.models import Export, ExportStatus
from collab.exports.services import export_request
from collab.exports.sweep import MAX_BUILD_ATTEMPTS, exports_sweep
from collab.exports.tasks import sweep_exports_task
from collab.notify.models import Notification
from collab.schedules import BEAT_SCHEDULE
from collab.testing import Org, client_for, make_item

pytestmark = pytest.mark.django_db


def _actions(export: Export) -> list[str]:
    kind = ContentType.objects.get_for_model(Export)
    return list(
        AuditEntry.objects.filter(target_type=kind, target_id=str(export.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def _ask(client: Any, capture: Any, **params: str) -> Export:
    with capture(execute=True):
        response = client.get(reverse("requests_app:register_export"), params)
    export = Export.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == reverse("exports:export", args=[export.pk])
    return export


def test_past_the_threshold_the_register_is_written_in_the_background(
    org: Org, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 2
    items = [make_item(org, topic=f"上线准备{n}") for n in range(3)]
    client = client_for(org.owner)
    export = _ask(client, django_capture_on_commit_callbacks, q="上线准备")
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.rows_total == 3 and export.percent == 100
    assert export.file_name.startswith("沟通记录表") or export.file_name.endswith(".xlsx")
    page = client.get(reverse("exports:export", args=[export.pk])).content.decode()
    assert reverse("exports:download", args=[export.pk]) in page and "下载Excel文件" in page
    download = client.get(reverse("exports:download", args=[export.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "沟通事项编号" and sorted(r[0] for r in rows[1:]) == sorted(i.number for i in items)
    assert sheet.freeze_panes == "A2"
    assert _actions(export) == ["export.requested", "export.built"]


def test_the_person_who_asked_is_told_when_the_file_is_ready(
    org: Org, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 0
    make_item(org)
    client = client_for(org.owner)
    export = _ask(client, django_capture_on_commit_callbacks)
    export.refresh_from_db()
    told = Notification.objects.get(recipient=org.owner, kind="export.ready")
    assert told.url == reverse("exports:export", args=[export.pk])
    page = client.get(reverse("notify:list")).content.decode()
    assert f"您的Excel导出“{export.file_name}”已生成" in page and "共1行。请在" in page
    english = client.get(reverse("notify:list"), headers={"accept-language": "en"}).content.decode()
    assert f"Your Excel export &quot;{export.file_name}&quot; is ready" in english
    assert "1 rows. Download it before" in english
    # Nobody else is told.
    assert Notification.objects.filter(kind="export.ready").count() == 1


def test_under_the_threshold_the_file_streams_at_once(org: Org, settings: Any) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 2
    make_item(org)
    make_item(org)
    response = client_for(org.owner).get(reverse("requests_app:register_export"))
    assert response.streaming and not Export.objects.exists()


def test_only_the_person_who_asked_sees_and_downloads_it(
    org: Org, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 0
    make_item(org)
    export = _ask(client_for(org.owner), django_capture_on_commit_callbacks)
    for person in (org.coordinator, org.requester, org.outsider):
        client = client_for(person)
        for name in ("exports:export", "exports:status", "exports:download"):
            assert client.get(reverse(name, args=[export.pk])).status_code == 404
        assert client.post(reverse("exports:again", args=[export.pk])).status_code == 404
    assert client_for(org.owner).get(reverse("exports:download", args=[export.pk])).status_code == 200


def test_while_it_is_written_the_page_polls_and_counts_rows(org: Org) -> None:
    make_item(org)
    export = export_request(actor=org.owner, kind="register", query="", file_name="r.xlsx")  # not yet sent
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.BUILDING, rows_total=200, rows_done=50)
    client = client_for(org.owner)
    status = client.get(reverse("exports:status", args=[export.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in status and "已写入50行，共200行。" in status and 'value="25"' in status
    english = client.get(reverse("exports:status", args=[export.pk]), headers={"accept-language": "en"})
    assert "50 of 200 rows written." in english.content.decode()
    assert reverse("exports:download", args=[export.pk]) not in status
    assert client.get(reverse("exports:download", args=[export.pk])).status_code == 404


def _broken(person: Any, query: str) -> Any:
    raise RuntimeError("the disk is full")


def test_a_failure_says_so_and_can_be_tried_again(org: Org, django_capture_on_commit_callbacks: Any) -> None:
    register_export_kind("broken-for-test", ExportKind(book=_broken))
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        export = export_request(actor=org.owner, kind="broken-for-test", query="", file_name="坏.xlsx")
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and not export.file
    assert export.error == "导出文件未能生成：RuntimeError"
    assert _actions(export) == ["export.requested", "export.failed"]
    told = Notification.objects.get(recipient=org.owner, kind="export.failed")
    assert told.url == reverse("exports:export", args=[export.pk])
    client = client_for(org.owner)
    inbox = client.get(reverse("notify:list")).content.decode()
    assert "您的Excel导出“坏.xlsx”未能生成" in inbox and "导出文件未能生成：RuntimeError" in inbox
    page = client.get(reverse("exports:export", args=[export.pk])).content.decode()
    assert "导出文件未能生成：RuntimeError" in page and reverse("exports:again", args=[export.pk]) in page
    register_export_kind("broken-for-test", ExportKind(book=lambda person, query: (_FakeBook(), 0)))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("exports:again", args=[export.pk]))
    again = Export.objects.latest("pk")
    assert again.pk != export.pk and response["Location"] == reverse("exports:export", args=[again.pk])
    assert again.status == ExportStatus.READY and again.file_name == "坏.xlsx"


class _FakeBook:
    """A workbook of no rows (the writer itself is tested in collab/lib)."""

    row_count = 0

    def stream(self) -> Any:
        yield b"PK\x05\x06" + bytes(18)


def test_the_sweep_requeues_lost_work_and_removes_old_files(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    make_item(org)
    with django_capture_on_commit_callbacks(execute=True):
        done = export_request(actor=org.owner, kind="register", query="", file_name="r.xlsx")
    done.refresh_from_db()
    stored = done.file.name
    assert done.status == ExportStatus.READY and done.file.storage.exists(stored)
    lost = export_request(actor=org.owner, kind="register", query="", file_name="lost.xlsx")  # never sent
    dead = export_request(actor=org.owner, kind="register", query="", file_name="dead.xlsx")
    long_ago = timezone.now() - timedelta(hours=1)
    Export.objects.filter(pk=dead.pk).update(
        status=ExportStatus.BUILDING, heartbeat_at=long_ago, build_attempts=MAX_BUILD_ATTEMPTS
    )
    Export.objects.filter(pk=lost.pk).update(requested_at=long_ago)
    later = timezone.now() + timedelta(hours=25)
    with django_capture_on_commit_callbacks(execute=True):
        counts = exports_sweep(now=later)
    assert counts == {"failed": 1, "requeued": 0, "sent": 1, "expired": 1}
    done.refresh_from_db()
    assert done.status == ExportStatus.EXPIRED and not done.file and not done.file.storage.exists(stored)
    assert _actions(done)[-1] == "export.expired"
    assert Export.objects.get(pk=dead.pk).status == ExportStatus.FAILED
    assert Export.objects.get(pk=lost.pk).status == ExportStatus.READY  # sent again and written
    page = client_for(org.owner).get(reverse("exports:export", args=[done.pk])).content.decode()
    assert "再次导出" in page


def test_a_build_whose_worker_died_is_queued_again(org: Org) -> None:
    make_item(org)
    export = export_request(actor=org.owner, kind="register", query="", file_name="r.xlsx")
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.BUILDING, heartbeat_at=timezone.now() - timedelta(minutes=10), build_attempts=1
    )
    assert BEAT_SCHEDULE["exports-sweep"]["task"] == sweep_exports_task.name
    assert sweep_exports_task.delay().get()["requeued"] == 1  # what beat sends every two minutes
    assert Export.objects.get(pk=export.pk).status == ExportStatus.QUEUED
