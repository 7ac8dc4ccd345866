"""Test setup for stage 5: an item in execution and deliverables at each step of their life.

The item is the template's example (tasks_app.tests.support.executing_item), started Tue
2026-09-29 10:00 in Shanghai. Its task "提交测试计划" is owned by QA's owner (吴杰) and received
by Product's receiver (钱多), whose department head is the requester (张敏).
"""

import struct
import zlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from collab.testing import PASSWORD, Org
from requests_app.models import CollaborationItem
from reviews_app import delivery_services as services
from reviews_app.models import Deliverable, DeliverableFile, DeliverableVersion, Signature
from tasks_app.models import Task
from tasks_app.tests.support import executing_item

SHANGHAI = ZoneInfo("Asia/Shanghai")
EN = {"accept-language": "en"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def started_item(org: Org) -> CollaborationItem:
    with time_machine.travel(at("2026-09-29 10:00"), tick=False):
        return executing_item(org)


def plan_task(item: CollaborationItem) -> Task:
    return Task.objects.get(item=item, name="提交测试计划")


def upload(name: str = "测试报告.pdf", content: bytes = b"%PDF-1.4 test report v1") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def submit(org: Org, task: Task, *, name: str = "测试报告", files: list[Any] | None = None) -> Deliverable:
    return services.deliverable_submit(
        actor=org.owner,
        task_id=task.pk,
        data=services.DeliverableData(name=name, note="覆盖全部核心用例"),
        uploads=files if files is not None else [upload()],
    )


def latest(deliverable: Deliverable) -> DeliverableVersion:
    return DeliverableVersion.objects.filter(deliverable=deliverable).order_by("-number")[0]


def accept(org: Org, deliverable: Deliverable) -> DeliverableVersion:
    return services.deliverable_accept(
        actor=org.receiver, deliverable_id=deliverable.pk, version_number=latest(deliverable).number
    )


def request_changes(
    org: Org, deliverable: Deliverable, comments: str = "第3章用例结果描述不清晰,需补充截图"
) -> DeliverableVersion:
    return services.deliverable_request_changes(
        actor=org.receiver,
        deliverable_id=deliverable.pk,
        version_number=latest(deliverable).number,
        comments=comments,
    )


def revise(
    org: Org, deliverable: Deliverable, content: bytes = b"%PDF-1.4 test report v2"
) -> DeliverableVersion:
    return services.deliverable_revise(
        actor=org.owner,
        deliverable_id=deliverable.pk,
        note="第3章补充了截图",
        uploads=[upload("测试报告v2.pdf", content)],
    )


def sign(user: Any, deliverable: Deliverable, role: str, **overrides: Any) -> Signature:
    values: dict[str, Any] = {"password": PASSWORD, "ip_address": "10.0.0.8", "drawing": ""}
    values.update(overrides)
    return services.deliverable_sign(actor=user, deliverable_id=deliverable.pk, role=role, **values)


def signed(org: Org, task: Task) -> Deliverable:
    """A deliverable accepted at its first version and signed by both sides."""
    deliverable = submit(org, task)
    accept(org, deliverable)
    sign(org.owner, deliverable, "deliverer", drawing=png_data_url())
    sign(org.receiver, deliverable, "receiver")
    deliverable.refresh_from_db()
    return deliverable


def png_data_url(width: int = 40, height: int = 16) -> str:
    """A real (white) PNG as the signature pad would post it."""
    import base64

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def snapshot() -> tuple[Any, ...]:
    """The stage's rows, to show that a refused request changed nothing."""
    return (
        list(Deliverable.objects.order_by("pk").values_list("pk", "status", "version", "locked_at")),
        list(
            DeliverableVersion.objects.order_by("pk").values_list(
                "pk", "number", "decision", "comments", "note"
            )
        ),
        list(DeliverableFile.objects.order_by("pk").values_list("pk", "sha256")),
        list(Signature.objects.order_by("pk").values_list("pk", "role", "signer_id")),
        list(Task.objects.order_by("pk").values_list("pk", "status", "percent_done")),
    )
