"""The archive: what refuses it, what the ZIP holds, what building it does to the item.

The archive is opened again in every test that builds one: the file list, the manifest's digests
against the bytes, the PDFs' embedded CJK font and Chinese text, the Excel files.
"""

import hashlib
import io
import json
import zipfile
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from collab.audit.models import AuditEntry
from collab.notify.models import Notification
from collab.testing import Org, assert_refused, client_for
from requests_app import services as item_services
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app import archive_builder, archive_layout
from reviews_app.archive_builder import archive_build
from reviews_app.archive_layout import archive_file_name
from reviews_app.archive_readiness import ARCHIVE_STALE_AFTER, archive_problems
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, ArchiveStatus, Deliverable
from reviews_app.retro_services import retrospective_update
from reviews_app.tests.test_archive_support import (
    EN,
    TOPIC,
    deliver,
    ready_item,
    record_retro,
    retro_data,
    started_item,
    tasks_of,
)
from tasks_app import tracking_services
from tasks_app.models import Problem

pytestmark = pytest.mark.django_db


def pdf_fonts(data: bytes) -> set[str]:
    """The names of the fonts embedded in a PDF (a font file in its descriptor)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptors = [d.get_object()["/FontDescriptor"] for d in font.get("/DescendantFonts", [])]
            if "/FontDescriptor" in font:
                descriptors.append(font["/FontDescriptor"])
            if any(
                k in d.get_object() for d in descriptors for k in ("/FontFile", "/FontFile2", "/FontFile3")
            ):
                names.add(str(font["/BaseFont"]))
    return names


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def build(org: Org, item: CollaborationItem, django_capture_on_commit_callbacks: Any) -> Archive:
    """The coordinator presses the button; the build runs (Celery eager) after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org.coordinator).post(
            reverse("reviews_app:archive_build", args=[item.pk]), {"confirm": "yes"}
        )
    assert response.status_code == 302
    return Archive.objects.get(item=item)


def open_archive(archive: Archive) -> zipfile.ZipFile:
    with archive.file.open("rb") as stored:
        return zipfile.ZipFile(io.BytesIO(stored.read()))


def expected_files(number: str) -> list[str]:
    return [
        "01-协作需求确认表/协作需求确认表.pdf",
        "01-协作需求确认表/协作需求确认表.xlsx",
        "01-协作需求确认表/背景资料/背景资料_用户场景.pdf",
        "02-会议纪要/会议纪要-20260928-1000-v1.pdf",
        "02-会议纪要/会议纪要-20260928-1000-v1.xlsx",
        "03-任务分解与分配表/任务分解与分配表.pdf",
        "03-任务分解与分配表/任务分解与分配表.xlsx",
        "04-进度跟踪记录表/进度跟踪记录表.pdf",
        "04-进度跟踪记录表/进度跟踪记录表.xlsx",
        "05-成果验收表/01-提交测试计划-测试报告/成果验收表.pdf",
        "05-成果验收表/01-提交测试计划-测试报告/成果验收表.xlsx",
        "05-成果验收表/01-提交测试计划-测试报告/v1/测试报告.pdf",
        "05-成果验收表/01-提交测试计划-测试报告/v1/用例清单.xlsx",
        "05-成果验收表/01-提交测试计划-测试报告/v2/测试报告v2.pdf",
        "05-成果验收表/02-完成功能修复-缺陷修复说明/成果验收表.pdf",
        "05-成果验收表/02-完成功能修复-缺陷修复说明/成果验收表.xlsx",
        "05-成果验收表/02-完成功能修复-缺陷修复说明/v1/修复说明.docx",
        "06-协作流程优化记录/协作流程优化记录.pdf",
        "06-协作流程优化记录/协作流程优化记录.xlsx",
    ]


# --- the archive ----------------------------------------------------------------------------------


def test_the_archive_holds_every_form_every_file_and_a_manifest(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    item = ready_item(org)
    archive = build(org, item, django_capture_on_commit_callbacks)

    assert archive.status == ArchiveStatus.READY and archive.progress == 100 and archive.error == ""
    assert archive.file_name == f"协作流程-{item.number}-{TOPIC}.zip" == archive_file_name(item)
    root = f"协作流程-{item.number}-{TOPIC}/"
    bundle = open_archive(archive)
    names = bundle.namelist()
    assert all(name.startswith(root) for name in names)
    assert sorted(n[len(root) :] for n in names) == sorted(
        [*expected_files(item.number), "manifest.json", "清单.txt"]
    )

    # The manifest lists every other file with the SHA-256 and size of its bytes.
    manifest = json.loads(bundle.read(root + "manifest.json"))
    assert manifest["item"]["number"] == item.number and manifest["item"]["topic"] == TOPIC
    assert [row["path"] for row in manifest["files"]] == expected_files(item.number)
    for row in manifest["files"]:
        data = bundle.read(root + row["path"])
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["size"] == len(data), row["path"]
    listing = bundle.read(root + "清单.txt").decode()
    for row in manifest["files"]:
        assert f"{row['sha256']}" in listing and row["path"] in listing
    # Stored files arrive byte for byte.
    assert (
        bundle.read(root + "05-成果验收表/01-提交测试计划-测试报告/v2/测试报告v2.pdf")
        == b"%PDF-1.4 report v2"
    )
    assert bundle.read(root + "01-协作需求确认表/背景资料/背景资料_用户场景.pdf") == b"%PDF-1.4 bg"
    # The whole ZIP's digest is kept with the archive.
    with archive.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == archive.sha256

    # Every PDF embeds a CJK font and carries the Chinese text of its form.
    pdfs = {
        "01-协作需求确认表/协作需求确认表.pdf": ["协作需求确认表", TOPIC, "提供技术支持", "测试经理"],
        "02-会议纪要/会议纪要-20260928-1000-v1.pdf": ["会议纪要", "测试延后3天", "3楼会议室"],
        "03-任务分解与分配表/任务分解与分配表.pdf": [
            "任务分解与分配表",
            "提交测试计划",
            "测试用例覆盖率≥95%",
        ],
        "04-进度跟踪记录表/进度跟踪记录表.pdf": ["进度跟踪记录表", "完成功能修复"],
        "05-成果验收表/01-提交测试计划-测试报告/成果验收表.pdf": [
            "成果验收表",
            "测试报告",
            "第3章需补充截图",
        ],
        "06-协作流程优化记录/协作流程优化记录.pdf": [
            "协作流程优化记录",
            "跨部门沟通高效",
            "需求变更未及时同步",
            "建立需求变更通知机制",
        ],
    }
    for path, texts in pdfs.items():
        data = bundle.read(root + path)
        assert any("CJK" in name for name in pdf_fonts(data)), path
        content = pdf_text(data).replace(" ", "").replace("\n", "")
        for expected in texts:
            assert expected in content, (path, expected)

    # Every Excel file opens again and holds its form's data.
    workbooks = {
        "01-协作需求确认表/协作需求确认表.xlsx": [TOPIC, "提供技术支持", "需求确认"],
        "02-会议纪要/会议纪要-20260928-1000-v1.xlsx": ["测试延后3天"],
        "03-任务分解与分配表/任务分解与分配表.xlsx": ["提交测试计划", "测试用例覆盖率≥95%"],
        "04-进度跟踪记录表/进度跟踪记录表.xlsx": ["完成功能修复"],
        "05-成果验收表/01-提交测试计划-测试报告/成果验收表.xlsx": [
            "测试报告",
            "第3章需补充截图",
            "测试报告v2.pdf",
        ],
        "05-成果验收表/02-完成功能修复-缺陷修复说明/成果验收表.xlsx": ["缺陷修复说明", "修复说明.docx"],
        "06-协作流程优化记录/协作流程优化记录.xlsx": [
            "跨部门沟通高效",
            "建立需求变更通知机制",
            "项目管理办公室",
        ],
    }
    for path, texts in workbooks.items():
        workbook = openpyxl.load_workbook(io.BytesIO(bundle.read(root + path)))
        cells = {str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row if c.value}
        for expected in texts:
            assert any(expected in cell for cell in cells), (path, expected)

    # The item is closed and read-only.
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    assert_refused(
        lambda: item_services.item_change_requirement(
            actor=org.requester,
            item_id=item.pk,
            version=item.version,
            data=item_services.item_requirement_data(item),
            reason="再改一次",
        ),
        "本事项已归档，不能再更改。",
    )
    assert_refused(
        lambda: retrospective_update(
            actor=org.coordinator,
            retrospective_id=item.retrospective.pk,
            data=retro_data(org, highlights="改"),
        ),
        "本事项已归档，不能再更改。",
    )
    actions = set(AuditEntry.objects.filter(target_id=str(item.pk)).values_list("action", flat=True))
    assert {"archive.requested", "archive.built", "item.status_changed"} <= actions
    assert Notification.objects.filter(recipient=org.coordinator, kind="archive.ready").exists()


def test_the_download_serves_the_zip_under_its_chinese_name(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    item = ready_item(org)
    archive = build(org, item, django_capture_on_commit_callbacks)
    url = reverse("reviews_app:archive_download", args=[item.pk, archive.pk])

    response = client_for(org.collaborator).get(url)  # any reader of the item downloads it
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=utf-8''" in disposition
    assert "%E5%8D%8F%E4%BD%9C%E6%B5%81%E7%A8%8B" in disposition  # 协作流程, percent-encoded UTF-8
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == archive.sha256

    assert client_for(org.outsider).get(url).status_code == 404
    # The item is archived: every write request to its pages is refused before any view runs.
    assert client_for(org.coordinator).post(url)["Location"] == reverse(
        "requests_app:item_detail", args=[item.pk]
    )


def test_the_page_shows_the_build_and_polls_only_while_it_runs(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    item = ready_item(org)
    client = client_for(org.coordinator)
    page = reverse("reviews_app:archive", args=[item.pk])
    status = reverse("reviews_app:archive_status", args=[item.pk])
    body = client.get(page, headers=EN).content.decode()
    assert "Everything is in place." in body and reverse("reviews_app:archive_build", args=[item.pk]) in body

    # While queued (no worker yet), the status part polls every 2 s.
    archive_request(actor=org.coordinator, item_id=item.pk)  # its on-commit build is not run here
    queued = client.get(status, headers={**EN, "HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in queued and "<html" not in queued
    assert reverse("reviews_app:archive_build", args=[item.pk]) not in queued

    archive_build(archive_id=Archive.objects.get(item=item).pk)
    done = client.get(status, headers={**EN, "HX-Request": "true"}).content.decode()
    assert "every 2s" not in done
    assert "This item is archived and read-only." in done and "100%" in done
    assert reverse("reviews_app:archive_download", args=[item.pk, Archive.objects.get(item=item).pk]) in done


# --- refusals -------------------------------------------------------------------------------------


def test_without_a_retrospective_the_archive_is_refused_with_what_is_missing(org: Org) -> None:
    item = started_item(org)
    for deliverable_task, deliverer, receiver in (
        ("提交测试计划", org.owner, org.receiver),
        ("完成功能修复", org.collaborator, org.owner),
    ):
        deliver(
            org, tasks_of(item)[deliverable_task], deliverer, receiver, name="成果", files=[("a.pdf", b"a")]
        )

    response = client_for(org.coordinator).post(
        reverse("reviews_app:archive_build", args=[item.pk]), {"confirm": "yes"}, headers=EN, follow=True
    )
    body = response.content.decode()
    assert "The item cannot be archived yet:" in body
    assert "The retrospective is not recorded yet." in body
    assert not Archive.objects.exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING


def test_a_deliverable_not_signed_and_a_task_without_one_are_listed(org: Org) -> None:
    item = started_item(org)
    tasks = tasks_of(item)
    deliver(org, tasks["提交测试计划"], org.owner, org.receiver, name="测试报告", files=[("a.pdf", b"a")])
    deliver(
        org,
        tasks["提交测试计划"],
        org.owner,
        org.receiver,
        name="补充报告",
        files=[("b.pdf", b"b")],
        sign=False,
    )
    record_retro(org, item)

    from django.utils import translation

    with translation.override("en"):
        problems = archive_problems(item)
    assert problems == [
        'Deliverable "补充报告" of task "提交测试计划" is "Waiting for review": it must be accepted and '
        "signed by both sides.",
        'Task "完成功能修复" has no deliverable accepted and signed by both sides yet.',
    ]
    body = client_for(org.coordinator).get(reverse("reviews_app:archive", args=[item.pk]), headers=EN).content
    assert (
        "补充报告" in body.decode()
        and reverse("reviews_app:archive_build", args=[item.pk]) not in body.decode()
    )
    refusal = assert_refused(
        lambda: archive_request(actor=org.coordinator, item_id=item.pk), _("The item cannot be archived yet:")
    )
    assert any("补充报告" in problem for problem in refusal.problems["__all__"])
    assert not Archive.objects.exists()


def test_only_the_coordinator_builds_readers_see_and_outsiders_get_404(org: Org) -> None:
    item = started_item(org)
    urls = {
        "page": reverse("reviews_app:archive", args=[item.pk]),
        "status": reverse("reviews_app:archive_status", args=[item.pk]),
    }
    build_url = reverse("reviews_app:archive_build", args=[item.pk])
    for name, url in urls.items():
        assert client_for(org.outsider).get(url).status_code == 404, name
        assert client_for(org.qa_head).get(url).status_code == 200, name
    assert client_for(org.outsider).post(build_url).status_code == 404
    for reader in (org.requester, org.qa_head, org.owner):
        assert client_for(reader).post(build_url).status_code == 403
    assert client_for(org.coordinator).get(build_url).status_code == 405
    assert not Archive.objects.exists()


# --- failures and races ---------------------------------------------------------------------------


def test_a_failed_build_leaves_the_item_open_and_shows_the_error(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    item = ready_item(org)
    stored = Deliverable.objects.get(name="缺陷修复说明").versions.get().files.get()
    stored.file.storage.delete(stored.file.name)  # a file lost from storage

    archive = build(org, item, django_capture_on_commit_callbacks)
    assert archive.status == ArchiveStatus.FAILED and not archive.file
    assert "修复说明.docx" in archive.error
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING
    body = client_for(org.coordinator).get(reverse("reviews_app:archive", args=[item.pk]), headers=EN).content
    assert "修复说明.docx" in body.decode() and "The item stays open." in body.decode()
    assert Notification.objects.filter(recipient=org.coordinator, kind="archive.failed").exists()
    # A failed build does not block the next one.
    stored.file.storage.save(stored.file.name, io.BytesIO(b"fixes"))
    again = Archive.objects.get(pk=archive_request(actor=org.coordinator, item_id=item.pk).pk)
    archive_build(archive_id=again.pk)
    again.refresh_from_db()
    assert again.status == ArchiveStatus.READY


def test_a_file_changed_behind_the_applications_back_is_not_archived(
    org: Org, django_capture_on_commit_callbacks: Any
) -> None:
    item = ready_item(org)
    stored = Deliverable.objects.get(name="缺陷修复说明").versions.get().files.get()
    with stored.file.storage.open(stored.file.name, "wb") as tampered:
        tampered.write(b"something else")
    archive = build(org, item, django_capture_on_commit_callbacks)
    assert archive.status == ArchiveStatus.FAILED and "SHA-256" in archive.error
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING


def test_an_unexpected_error_fails_the_build_and_reaches_the_worker_log(org: Org) -> None:
    item = ready_item(org)
    archive = archive_request(actor=org.coordinator, item_id=item.pk)
    with (
        mock.patch.object(archive_layout, "render_pdf", side_effect=RuntimeError("pango is gone")),
        pytest.raises(RuntimeError),
    ):
        archive_build(archive_id=archive.pk)
    archive.refresh_from_db()
    assert archive.status == ArchiveStatus.FAILED and "pango is gone" in archive.error
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING


def test_a_build_delivered_twice_runs_once_and_a_second_request_waits(org: Org) -> None:
    item = ready_item(org)
    archive = archive_request(actor=org.coordinator, item_id=item.pk)
    assert_refused(  # one build at a time
        lambda: archive_request(actor=org.coordinator, item_id=item.pk),
        _("The archive of this item is being built already."),
    )
    assert_refused(  # the retrospective is frozen while the archive is built
        lambda: retrospective_update(
            actor=org.coordinator,
            retrospective_id=item.retrospective.pk,
            data=retro_data(org, highlights="改"),
        ),
        _("The archive of this item is being built: the retrospective cannot change now."),
    )
    archive_build(archive_id=archive.pk)
    with mock.patch.object(archive_builder, "archive_plan") as plan:
        archive_build(archive_id=archive.pk)  # the message delivered again
    plan.assert_not_called()
    assert Archive.objects.get().status == ArchiveStatus.READY


def test_a_build_lost_for_an_hour_no_longer_blocks_a_new_one(org: Org) -> None:
    import time_machine
    from django.utils import timezone

    item = ready_item(org)
    with time_machine.travel(timezone.now() - ARCHIVE_STALE_AFTER * 2):
        lost = archive_request(actor=org.coordinator, item_id=item.pk)
    fresh = archive_request(actor=org.coordinator, item_id=item.pk)
    lost.refresh_from_db()
    assert lost.status == ArchiveStatus.FAILED and fresh.status == ArchiveStatus.QUEUED


# --- names ----------------------------------------------------------------------------------------


def test_the_zip_is_named_after_the_template_with_a_safe_topic(org: Org) -> None:
    item = started_item(org, topic='上线/回滚: "预案"')
    assert archive_file_name(item) == f"协作流程-{item.number}-上线_回滚_ _预案_.zip"


# --- archiving checks the whole item ----------------------------------------------------------------


def test_an_open_problem_blocks_archiving_until_the_coordinator_closes_it_with_a_reason(org: Org) -> None:
    item = ready_item(org)
    task = tasks_of(item)["提交测试计划"]
    problem = Problem.objects.create(
        item=item, task=task, description="测试环境不稳定", raised_by=org.owner, owner=org.owner
    )
    with translation.override("en"):
        refusal = assert_refused(
            lambda: archive_request(actor=org.coordinator, item_id=item.pk),
            "The item cannot be archived yet:",
        )
        assert refusal.problems["__all__"] == [
            'The risk "测试环境不稳定" of task "提交测试计划" is still open. Its handler resolves it, or the '
            "coordinator closes it with a reason, on the progress page."
        ]
    tracking_services.problem_resolve(
        actor=org.coordinator, problem_id=problem.pk, resolution="上线后跟进,不影响归档"
    )
    entry = AuditEntry.objects.filter(action="problem.resolved").latest("pk")
    assert entry.actor == org.coordinator and entry.note == "上线后跟进,不影响归档"
    assert archive_problems(item) == []


def test_building_the_archive_asks_to_confirm_what_becomes_read_only(org: Org) -> None:
    item = ready_item(org)
    client = client_for(org.coordinator)
    page = client.get(reverse("reviews_app:archive", args=[item.pk]), headers=EN).content.decode()
    assert 'name="confirm"' in page and "read-only for everyone" in page and "process-improvement log" in page
    response = client.post(reverse("reviews_app:archive_build", args=[item.pk]), headers=EN, follow=True)
    assert "tick the box to confirm that the item becomes read-only" in response.content.decode()
    assert not Archive.objects.exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING
