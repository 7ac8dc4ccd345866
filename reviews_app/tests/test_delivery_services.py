"""Submitting a deliverable, the review loop and what a signed deliverable does to its task."""

import hashlib
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import translation

from collab.audit.models import AuditEntry
from collab.notify.models import Notification
from collab.testing import Org, assert_refused
from requests_app.models import CollaborationItem, ItemStatus
from reviews_app import delivery_services as services
from reviews_app.models import Deliverable, DeliverableFile, DeliverableStatus, DeliverableVersion
from reviews_app.tests.delivery_support import (
    accept,
    at,
    latest,
    plan_task,
    request_changes,
    revise,
    sign,
    signed,
    snapshot,
    started_item,
    submit,
    upload,
)
from tasks_app import tracking_services
from tasks_app.models import Alert, Task, TaskStatus
from tasks_app.tests.support import consensus_item, cover_everything, finish_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    return started_item(org)


@pytest.fixture
def task(item: CollaborationItem) -> Task:
    return plan_task(item)


def told(kind: str) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(kind=kind)
        .order_by("pk")
        .values_list("recipient__username", "title", "body")
    )


# --- submitting -----------------------------------------------------------------------------------


def test_the_owner_submits_a_deliverable_to_the_tasks_receiver(org: Org, task: Task) -> None:
    content = b"%PDF-1.4 \xe6\xb5\x8b\xe8\xaf\x95"
    with time_machine.travel(at("2026-09-30 15:00"), tick=False):
        deliverable = submit(org, task, files=[upload("测试报告 第1版.pdf", content)])
    assert (deliverable.deliverer, deliverable.receiver) == (org.owner, org.receiver)
    assert deliverable.acceptance_criteria == "测试用例覆盖率≥95%"  # the task's delivery standard
    assert deliverable.status == DeliverableStatus.IN_REVIEW
    version = DeliverableVersion.objects.get(deliverable=deliverable)
    assert (version.number, version.note, version.submitted_by) == (1, "覆盖全部核心用例", org.owner)
    stored = DeliverableFile.objects.get(version=version)
    assert stored.original_name == "测试报告 第1版.pdf"
    assert (stored.size, stored.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    # A neutral stored name: no user text in paths, the original name only in its column.
    assert stored.file.name == f"deliverables/{deliverable.pk}/{stored.uuid}.pdf"
    assert (settings.MEDIA_ROOT / stored.file.name).read_bytes() == content
    assert AuditEntry.objects.filter(action="deliverable.submitted", target_id=str(task.item_id)).exists()
    [(who, title, body)] = told("deliverable.submitted")
    assert who == "receiver" and "测试报告" in title and "2026-10-08 15:00" in title
    assert "测试用例覆盖率≥95%" in body


@pytest.mark.parametrize(
    ("files", "problem", "message"),
    [
        ([], "uploads", "Attach the deliverable's files."),
        (
            [upload("病毒.exe", b"MZ")],
            None,
            '"病毒.exe" cannot be attached: allowed file types are pdf, doc, docx, xls, xlsx, ppt, pptx, '
            "odt, ods, txt, md, csv, png, jpg, jpeg, gif, zip.",
        ),
        (
            [upload(f"{n}.pdf") for n in range(services.MAX_FILES_PER_VERSION + 1)],
            "uploads",
            f"A version holds at most {services.MAX_FILES_PER_VERSION} files.",
        ),
    ],
)
def test_files_follow_the_attachment_rules(
    org: Org, task: Task, files: list[Any], problem: str | None, message: str, settings: Any
) -> None:
    before = snapshot()
    with translation.override("en"):
        refused = assert_refused(lambda: submit(org, task, files=files), message)
    assert list(refused.problems) == ([problem] if problem else [])
    assert snapshot() == before and not list((settings.MEDIA_ROOT).glob("deliverables/**/*.*"))


def test_a_file_over_the_size_limit_is_refused(org: Org, task: Task, settings: Any) -> None:
    settings.COLLAB_MAX_UPLOAD_MB = 1
    with translation.override("en"):
        assert_refused(
            lambda: submit(org, task, files=[upload("大文件.zip", b"0" * (1024 * 1024 + 1))]),
            '"大文件.zip" is larger than 1 MB.',
        )
    assert not Deliverable.objects.exists()


def test_only_the_tasks_owner_submits(org: Org, task: Task) -> None:
    for person in (org.receiver, org.collaborator, org.coordinator, org.outsider):
        assert_refused(
            lambda person=person: services.deliverable_submit(
                actor=person, task_id=task.pk, data=services.DeliverableData("测试报告"), uploads=[upload()]
            ),
            "只有任务责任人可以提交成果。",
        )
    refused = assert_refused(
        lambda: services.deliverable_submit(
            actor=org.owner, task_id=task.pk, data=services.DeliverableData("  "), uploads=[upload()]
        ),
        "请填写成果名称。",
    )
    assert "name" in refused.problems
    assert not Deliverable.objects.exists()


def test_only_while_the_item_is_executing(org: Org) -> None:
    item = consensus_item(org)
    first, _second = cover_everything(org, item)
    assert_refused(lambda: submit(org, first), "成果只能在事项执行期间提交、审核和签字。")
    finish_tasks(item)
    CollaborationItem.objects.filter(pk=item.pk).update(status=ItemStatus.CLOSED)
    assert_refused(lambda: submit(org, first), "本事项已归档，不能再更改。")
    assert not Deliverable.objects.exists()


# --- the review loop --------------------------------------------------------------------------------


def test_changes_are_requested_revised_and_accepted_with_every_version_kept(org: Org, task: Task) -> None:
    with time_machine.travel(at("2026-09-30 15:00"), tick=False):
        deliverable = submit(org, task)
    with time_machine.travel(at("2026-10-08 10:00"), tick=False):
        request_changes(org, deliverable)
    deliverable.refresh_from_db()
    assert deliverable.status == DeliverableStatus.CHANGES_REQUESTED
    [(who, _title, body)] = told("deliverable.changes_requested")
    assert who == "owner" and "第3章用例结果描述不清晰,需补充截图" in body
    with time_machine.travel(at("2026-10-08 16:00"), tick=False):
        second = revise(org, deliverable)
    # The new version is due one working day after its own submission: Friday 16:00.
    assert second.review_due_at == at("2026-10-09 16:00")
    assert told("deliverable.submitted")[-1][0] == "receiver"
    with time_machine.travel(at("2026-10-09 09:30"), tick=False):
        accept(org, deliverable)
    deliverable.refresh_from_db()
    assert deliverable.status == DeliverableStatus.ACCEPTED
    assert list(
        DeliverableVersion.objects.filter(deliverable=deliverable)
        .order_by("number")
        .values_list("number", "decision", "comments", "reviewed_by")
    ) == [
        (1, "changes_requested", "第3章用例结果描述不清晰,需补充截图", org.receiver.pk),
        (2, "accepted", "", org.receiver.pk),
    ]
    assert [f.original_name for f in DeliverableFile.objects.filter(version__deliverable=deliverable)] == [
        "测试报告.pdf",
        "测试报告v2.pdf",
    ]
    assert told("deliverable.accepted")[-1][0] == "owner"
    assert AuditEntry.objects.filter(action="deliverable.reviewed").count() == 2


def test_changes_need_comments_and_only_the_receiver_reviews(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    before = snapshot()
    refused = assert_refused(
        lambda: request_changes(org, deliverable, comments="  "),
        "请写明需要修改的内容，以便交付方修改。",
    )
    assert "comments" in refused.problems
    for person in (org.owner, org.coordinator, org.requester):
        assert_refused(
            lambda person=person: services.deliverable_accept(
                actor=person, deliverable_id=deliverable.pk, version_number=1
            ),
            "只有接收方可以审核此成果。",
        )
    assert snapshot() == before


def test_a_review_is_of_the_latest_version_and_happens_once(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    request_changes(org, deliverable)
    revise(org, deliverable)
    assert_refused(
        lambda: services.deliverable_accept(
            actor=org.receiver, deliverable_id=deliverable.pk, version_number=1
        ),
        "第1版不是待审核的版本：请刷新页面，审核最新版本。",
    )
    accept(org, deliverable)
    assert_refused(lambda: accept(org, deliverable), "此成果当前不在待审核状态。")
    assert_refused(
        lambda: revise(org, deliverable), "修改版本用于回应修改要求；此成果目前没有待处理的修改要求。"
    )


def test_a_revision_says_what_changed_and_comes_from_the_deliverer(org: Org, task: Task) -> None:
    deliverable = submit(org, task)
    assert_refused(
        lambda: revise(org, deliverable), "修改版本用于回应修改要求；此成果目前没有待处理的修改要求。"
    )
    request_changes(org, deliverable)
    before = snapshot()
    refused = assert_refused(
        lambda: services.deliverable_revise(
            actor=org.owner, deliverable_id=deliverable.pk, note=" ", uploads=[upload()]
        ),
        "请说明与上一版本相比修改了什么，接收方将据此审核。",
    )
    assert "note" in refused.problems
    assert_refused(
        lambda: services.deliverable_revise(
            actor=org.collaborator, deliverable_id=deliverable.pk, note="改好了", uploads=[upload()]
        ),
        "只有交付方可以提交修改版本。",
    )
    assert snapshot() == before


# --- signing completes the task ---------------------------------------------------------------------


def test_both_signatures_lock_the_form_and_complete_the_task(org: Org, task: Task) -> None:
    tracking_services.progress_report(
        actor=org.owner, task_id=task.pk, data=tracking_services.ReportData("in_progress", 80, "报告初稿完成")
    )
    assert Alert.objects.filter(task=task, sent_at=None, cancelled_at=None).exists()
    deliverable = submit(org, task)
    accept(org, deliverable)
    sign(org.owner, deliverable, "deliverer")
    deliverable.refresh_from_db()
    assert deliverable.status == DeliverableStatus.ACCEPTED and deliverable.locked_at is None
    assert told("deliverable.signed")[0][0] == "receiver"
    sign(org.receiver, deliverable, "receiver")
    deliverable.refresh_from_db()
    task.refresh_from_db()
    assert deliverable.status == DeliverableStatus.SIGNED and deliverable.locked_at is not None
    assert (task.status, task.percent_done) == (TaskStatus.DONE, 100)
    assert not Alert.objects.filter(task=task, sent_at=None, cancelled_at=None).exists()
    assert AuditEntry.objects.filter(action="task.delivered").count() == 1
    assert {who for who, _t, _b in told("deliverable.signed")[1:]} == {"owner", "coordinator"}


def test_a_locked_form_refuses_every_service(org: Org, task: Task) -> None:
    deliverable = signed(org, task)
    before = snapshot()
    attempts = [
        lambda: accept(org, deliverable),
        lambda: request_changes(org, deliverable),
        lambda: revise(org, deliverable),
        lambda: sign(org.owner, deliverable, "deliverer"),
        lambda: sign(org.receiver, deliverable, "receiver"),
    ]
    for attempt in attempts:
        with translation.override("en"):
            assert_refused(
                attempt, "This acceptance form is signed by both sides and locked: nothing on it can change."
            )
    assert snapshot() == before
    assert latest(deliverable).number == 1


def test_the_receiver_gets_the_review_request_by_email_after_commit(
    org: Org, task: Task, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        time_machine.travel(at("2026-09-30 15:00"), tick=False),
    ):
        deliverable = submit(org, task)
    [email] = mail.outbox
    assert email.to == ["receiver@example.com"] and "测试报告" in email.subject
    assert f"/items/{task.item_id}/deliverables/{deliverable.pk}/" in email.body
