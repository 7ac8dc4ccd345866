"""Upgrading a database whose history and notifications hold texts rendered when written.

The real migrations run (Django's MigrationExecutor): back to before the message-id columns,
then forward. Nothing is lost: every rendered text stays. A row that is a system message word
for word gets its message id, so an English reader reads "事项已归档，只读。" in English; what a
person wrote stays as written.
"""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from collab.audit.models import AuditEntry
from collab.notify.models import Notification
from collab.testing import make_item, make_org
from requests_app.history import history_rows
from requests_app.models import RequirementChange

BEFORE = [
    ("audit", "0001_initial"),
    ("notify", "0004_encrypt_robot_credentials"),
    ("requests_app", "0009_form_drafts"),
]


def migrate(targets: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_old_rows_keep_their_text_and_system_messages_get_their_ids(transactional_db: Any) -> None:
    org = make_org()
    item = make_item(org)
    target = {"target_type": ContentType.objects.get_for_model(item), "target_id": str(item.pk)}
    closed = AuditEntry.objects.create(
        action="item.status_changed",
        changes={"status": ["executing", "closed"]},
        note="协作流程-20261001-Q3产品上线测试.zip",
        **target,
    )
    built = AuditEntry.objects.create(action="archive.built", note="事项已归档，只读。", **target)
    objected = AuditEntry.objects.create(action="minutes.objected", note="修复排期需要再议", **target)
    reason = "2026年12月2日会议商定：测试延后3天"
    change = RequirementChange.objects.create(
        item=item, actor=org.coordinator, reason=reason, changes={}, version=item.version
    )
    asked = Notification.objects.create(
        recipient=org.qa_head,
        kind="minutes.confirmation_requested",
        title="请确认“Q3产品上线测试”的会议纪要（第2版）",
        body="请代表本部门书面确认，或说明理由提出异议。",
    )
    risk = Notification.objects.create(recipient=org.coordinator, kind="task.problem", title="接口不稳定")
    try:
        migrate(BEFORE)  # the columns go; the rows stay as an old version wrote them
    finally:
        migrate()

    for row in (closed, built, objected, change, asked, risk):
        row.refresh_from_db()
    # Nothing lost.
    assert (built.note, objected.note, change.reason) == ("事项已归档，只读。", "修复排期需要再议", reason)
    assert asked.title == "请确认“Q3产品上线测试”的会议纪要（第2版）"
    # What a person wrote, and a file name, stay as written.
    assert (objected.note_text, closed.note_text, risk.title_text) == (None, None, None)
    with translation.override("en"):
        assert built.note_display == "The item is archived and read-only."
        assert objected.note_display == "修复排期需要再议"
        assert change.reason_display == "Agreed in the meeting of Dec. 2, 2026: 测试延后3天"
        assert asked.display_title == 'Please confirm the minutes of "Q3产品上线测试" (version 2)'
        assert asked.display_body == "Confirm them in writing for your department, or object with a reason."
        assert risk.display_title == "接口不稳定"
        # The old archive step says what happened.
        [row] = history_rows([closed])
        assert (row.action, row.note) == ("built the archive and closed the item", closed.note)
    with translation.override("zh-hans"):
        assert built.note_display == "事项已归档，只读。"
        assert change.reason_display == reason
        assert asked.display_title == "请确认“Q3产品上线测试”的会议纪要（第2版）"
