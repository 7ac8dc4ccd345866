"""Backup and restore: a played item with its files, backed up, restored into an empty database
and media folder, comes back identical, table by table and file by file; a damaged backup or a
database in use is refused before anything changes."""

import hashlib
import re
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from collab.testing import make_org
from reviews_app.tests.test_archive_support import ready_item


def every_table() -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (our table names)
            tables[table] = sorted(cursor.fetchall(), key=repr)
    return tables


def every_file() -> dict[str, str]:
    root = Path(settings.MEDIA_ROOT)
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_played_instance_comes_back_identical(transactional_db: Any, tmp_path: Path) -> None:
    ready_item(make_org())  # tasks, two deliverable versions, signatures, files, retrospective
    tables, files = every_table(), every_file()
    assert len(files) >= 4 and sum(map(len, tables.values())) > 100
    backup = tmp_path / "backup"
    assert "Backed up" in run("backup", "--output", str(backup))
    assert (backup / "manifest.json").is_file() and (backup / "database.jsonl").is_file()

    # An empty instance: a freshly flushed database (migrate's own rows only) and no files.
    call_command("flush", "--noinput", verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)
    assert every_table() != tables

    assert f"and {len(files)} files" in run("restore", str(backup))
    restored = every_table()
    assert [name for name in tables if restored[name] != tables[name]] == []
    assert restored == tables and every_file() == files

    # Now in use: refused without --force, and nothing changes.
    with pytest.raises(CommandError, match="The database already holds data"):
        run("restore", str(backup))
    assert run("restore", str(backup), "--force").startswith("Restored")
    assert every_table() == tables


def test_a_damaged_or_incomplete_backup_is_refused(transactional_db: Any, tmp_path: Path) -> None:
    make_org()
    Path(settings.MEDIA_ROOT, "attachments").mkdir(parents=True)
    Path(settings.MEDIA_ROOT, "attachments", "需求说明.txt").write_text("v1")
    backup = tmp_path / "backup"
    run("backup", "--output", str(backup))
    with pytest.raises(CommandError, match="is not empty"):
        run("backup", "--output", str(backup))
    tables = every_table()

    (backup / "media" / "attachments" / "需求说明.txt").write_text("v2")
    with pytest.raises(
        CommandError, match=re.escape("damaged: media/attachments/需求说明.txt does not match its SHA-256")
    ):
        run("restore", str(backup), "--force")
    (backup / "media" / "attachments" / "需求说明.txt").unlink()
    with pytest.raises(
        CommandError, match=re.escape("incomplete: media/attachments/需求说明.txt is missing")
    ):
        run("restore", str(backup), "--force")
    (backup / "manifest.json").unlink()
    with pytest.raises(CommandError, match=re.escape("has no manifest.json")):
        run("restore", str(backup), "--force")
    assert every_table() == tables
