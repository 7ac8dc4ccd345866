"""Test setup for stage 6 (no tests here): retrospective data and items ready to archive.

The item is the template's example in execution (tasks_app.tests.support.executing_item), with a
background file. "Ready" means both its tasks have a deliverable signed by both sides (the test
plan after one round of changes, so it has two versions) and the retrospective is recorded.
Stage 5's services make the deliverables; tests that need them skip while stage 5 is missing.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from collab.testing import PASSWORD, Org
from requests_app import services as item_services
from requests_app.models import CollaborationItem
from reviews_app.models import Deliverable, Retrospective
from reviews_app.retro_services import MeasureData, RetrospectiveData, retrospective_record
from tasks_app.models import Task
from tasks_app.tests.support import executing_item

EN = {"accept-language": "en"}
TOPIC = "Q3产品上线测试"
ZIP_NAME = f"协作流程-%s-{TOPIC}.zip"


def retro_data(org: Org, **overrides: Any) -> RetrospectiveData:
    """The template's retrospective: fast communication, unsynced changes, a change notice."""
    today = timezone.localdate()
    values: dict[str, Any] = {
        "held_on": today,
        "participant_ids": [org.requester.pk, org.coordinator.pk, org.owner.pk, org.collaborator.pk],
        "highlights": "跨部门沟通高效",
        "shortcomings": "需求变更未及时同步",
        "measures": [
            MeasureData("建立需求变更通知机制", org.coordinator.pk, org.pmo.pk, today + timedelta(days=30)),
            MeasureData(
                "需求确认后3天内完成测试用例评审", org.qa_head.pk, org.qa.pk, today + timedelta(days=14)
            ),
        ],
    }
    values.update(overrides)
    return RetrospectiveData(**values)


def record_retro(org: Org, item: CollaborationItem, **overrides: Any) -> Retrospective:
    return retrospective_record(actor=org.coordinator, item_id=item.pk, data=retro_data(org, **overrides))


def attach(
    org: Org, item: CollaborationItem, name: str = "背景资料:用户场景.pdf", content: bytes = b"%PDF-1.4 bg"
) -> Any:
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return item_services.attachment_add(actor=org.requester, item_id=item.pk, upload=upload)


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def deliver(
    org: Org,
    task: Task,
    deliverer: Any,
    receiver: Any,
    *,
    name: str,
    files: list[tuple[str, bytes]],
    revision: tuple[str, bytes] | None = None,
    sign: bool = True,
) -> Deliverable:
    """Submits a deliverable, optionally goes once round the review loop, accepts and signs it."""
    from reviews_app import delivery_services as delivery

    deliverable = delivery.deliverable_submit(
        actor=deliverer,
        task_id=task.pk,
        data=delivery.DeliverableData(name=name, note="覆盖全部核心用例"),
        uploads=[_upload(n, c) for n, c in files],
    )
    number = 1
    if revision is not None:
        delivery.deliverable_request_changes(
            actor=receiver, deliverable_id=deliverable.pk, version_number=1, comments="第3章需补充截图"
        )
        delivery.deliverable_revise(
            actor=deliverer,
            deliverable_id=deliverable.pk,
            note="第3章补充了截图",
            uploads=[_upload(*revision)],
        )
        number = 2
    if not sign:
        return deliverable
    delivery.deliverable_accept(actor=receiver, deliverable_id=deliverable.pk, version_number=number)
    for user, role in ((deliverer, "deliverer"), (receiver, "receiver")):
        delivery.deliverable_sign(
            actor=user, deliverable_id=deliverable.pk, role=role, password=PASSWORD, ip_address="10.0.0.8"
        )
    deliverable.refresh_from_db()
    return deliverable


def tasks_of(item: CollaborationItem) -> dict[str, Task]:
    return {t.name: t for t in Task.objects.filter(item=item)}


def deliver_everything(org: Org, item: CollaborationItem) -> list[Deliverable]:
    """The test plan (two versions, the first sent back) and the fixes, both signed."""
    tasks = tasks_of(item)
    return [
        deliver(
            org,
            tasks["提交测试计划"],
            org.owner,
            org.receiver,
            name="测试报告",
            files=[("测试报告.pdf", b"%PDF-1.4 report v1"), ("用例清单.xlsx", b"cases v1")],
            revision=("测试报告v2.pdf", b"%PDF-1.4 report v2"),
        ),
        deliver(
            org,
            tasks["完成功能修复"],
            org.collaborator,
            org.owner,
            name="缺陷修复说明",
            files=[("修复说明.docx", b"fixes")],
        ),
    ]


def started_item(org: Org, **overrides: Any) -> CollaborationItem:
    """The template's example, its execution started Tue 2026-09-29 10:00 in Shanghai."""
    with time_machine.travel(datetime(2026, 9, 29, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        return executing_item(org, **overrides)


def ready_item(org: Org, **overrides: Any) -> CollaborationItem:
    """An item in execution with a background file, every deliverable signed, the retrospective
    recorded: ready to archive."""
    item = started_item(org, **overrides)
    attach(org, item)
    deliver_everything(org, item)
    record_retro(org, item)
    item.refresh_from_db()
    return item
