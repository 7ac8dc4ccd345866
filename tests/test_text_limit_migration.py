"""Upgrading a database that holds a text longer than its new maximum: the migration cuts it to
the maximum, keeps the full text in a file it names, and the check is in place afterwards.

Without the cut, PostgreSQL refused to add the check and SQLite to copy the row into the rebuilt
table, and the upgrade stopped half-way. The real migrations run here (Django's
MigrationExecutor): back to before the limits, an over-long row written the way an old version
stored it, then forward to the latest state.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from collab.testing import make_org
from tasks_app.models import Task
from tasks_app.tests.support import executing_item

BEFORE = [("tasks_app", "0003_dashboard_indexes")]
LONG = "按计划完成上线测试。" * 600  # 6000 characters; the maximum is 4000


def migrate(targets: list[tuple[str, str]] | None = None) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_an_over_long_text_is_cut_and_kept_when_the_limit_arrives(
    transactional_db: Any, settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.VAR_DIR = tmp_path
    org = make_org()
    task = Task.objects.filter(item=executing_item(org)).order_by("pk").first()
    assert task is not None
    try:
        migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tasks_app_task SET delivery_standard = %s WHERE id = %s", [LONG, task.pk])
    finally:
        migrate()  # the latest state again, whatever happened

    task.refresh_from_db()
    assert task.delivery_standard == LONG[:4000]
    [record] = (tmp_path / "trimmed-texts").glob("tasks_app-*.json")
    assert json.loads(record.read_text(encoding="utf-8")) == [
        {"model": "tasks_app.task", "id": task.pk, "field": "delivery_standard", "text": LONG}
    ]
    assert f"Cut 1 texts of tasks_app to their maximum length; the full texts are in {record}" in (
        capsys.readouterr().out
    )
    # The database's own check is there: an over-long text written around the forms is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=task.pk).update(delivery_standard=LONG)
