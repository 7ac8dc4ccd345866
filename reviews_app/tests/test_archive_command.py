"""``manage.py archive_item``: building an archive from the command line, with and without --close."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from collab.testing import Org
from requests_app.models import ItemStatus
from reviews_app.models import Archive, ArchiveStatus
from reviews_app.tests.test_archive_support import TOPIC, attach, ready_item, record_retro, started_item

pytestmark = pytest.mark.django_db


def run(*args: Any) -> str:
    out = io.StringIO()
    call_command("archive_item", *args, stdout=out)
    return out.getvalue()


def test_it_archives_a_ready_item_and_closes_it_with_close(org: Org, tmp_path: Path) -> None:
    item = ready_item(org)
    output = run(item.number, "--output", str(tmp_path), "--close")

    name = f"协作流程-{item.number}-{TOPIC}.zip"
    written = tmp_path / name
    assert written.is_file()
    lines = output.splitlines()
    progress = [line for line in lines if line.startswith("[")]
    assert progress[0].startswith("[  0%]") and progress[-1] == f"[100%] {name}"
    assert any("06-协作流程优化记录/协作流程优化记录.pdf" in line for line in progress)
    assert f"Wrote {written}" in output and "The item is archived and read-only now." in output

    root = f"协作流程-{item.number}-{TOPIC}/"
    with zipfile.ZipFile(written) as bundle:
        manifest = json.loads(bundle.read(root + "manifest.json"))
        assert len(manifest["files"]) == 19 and root + "清单.txt" in bundle.namelist()
    archive = Archive.objects.get(item=item)
    assert archive.status == ArchiveStatus.READY and archive.requested_by == org.coordinator
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED

    # Built again for an archived item: the item stays closed, nothing breaks.
    again = run(item.number, "--output", str(tmp_path), "--close", "--user", "requester")
    assert "The item is archived already" in again
    assert Archive.objects.filter(item=item, status=ArchiveStatus.READY).count() == 2


def test_without_close_it_builds_a_snapshot_of_an_open_item(org: Org, tmp_path: Path) -> None:
    item = started_item(org)  # no deliverable, no retrospective yet
    attach(org, item, "需求背景.docx", b"background")
    output = run(item.number, "--output", str(tmp_path), "--language", "en")

    assert "Note: The retrospective is not recorded yet." in output
    assert 'Note: Task "提交测试计划" has no deliverable accepted and signed by both sides yet.' in output
    assert "The item stays open (use --close to close it)." in output
    root = f"协作流程-{item.number}-{TOPIC}/"
    with zipfile.ZipFile(tmp_path / f"协作流程-{item.number}-{TOPIC}.zip") as bundle:
        names = {n[len(root) :] for n in bundle.namelist()}
        manifest = json.loads(bundle.read(root + "manifest.json"))
    assert "01-协作需求确认表/背景资料/需求背景.docx" in names
    assert "03-任务分解与分配表/任务分解与分配表.xlsx" in names
    assert not any(n.startswith("05-") or n.startswith("06-") for n in names)
    assert "The retrospective is not recorded yet." in manifest["notes"]
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING


def test_close_refuses_an_item_that_is_not_ready(org: Org, tmp_path: Path) -> None:
    item = started_item(org)
    record_retro(org, item)
    with pytest.raises(CommandError) as refused:
        run(item.number, "--output", str(tmp_path), "--close", "--language", "en")
    assert "The item cannot be archived yet:" in str(refused.value)
    assert "has no deliverable accepted and signed" in str(refused.value)
    assert not list(tmp_path.iterdir()) and not Archive.objects.exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING


def test_clear_errors_for_an_unknown_number_a_missing_folder_or_user(org: Org, tmp_path: Path) -> None:
    item = started_item(org)
    with pytest.raises(CommandError, match="No collaboration item has the number 19990101"):
        run("19990101", "--output", str(tmp_path))
    with pytest.raises(CommandError, match="does not exist"):
        run(item.number, "--output", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="No active user is named nobody"):
        run(item.number, "--output", str(tmp_path), "--user", "nobody")
    assert not Archive.objects.exists()
