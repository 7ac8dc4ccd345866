"""Backup and restore of a whole instance: every table and every uploaded file.

The database is dumped at Django's level (one JSON object per row, every model including the
many-to-many tables, primary keys kept), not with pg_dump:
- the same backup restores into SQLite or PostgreSQL, so a pilot on one laptop moves to the
  company's PostgreSQL with `backup` and `restore`, and no database client tools (of the server's
  exact version) are needed on the application server;
- it round-trips exactly: times keep their microseconds (Django's JSON encoder would cut them to
  milliseconds, and a signed form's digests cover its times), ids stay the same, sequences are
  reset after loading.
The backup folder holds `database.jsonl`, `media/` (a copy of MEDIA_ROOT) and `manifest.json`
with the SHA-256 of each file and the migrations the database was at. Restore checks every hash
and the migrations before it changes anything, then replaces the whole database in one
transaction.
"""

import datetime
import decimal
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.core.serializers.python import Serializer as PythonSerializer
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
DATABASE_FILE = "database.jsonl"
MANIFEST_FILE = "manifest.json"
MEDIA_DIR = "media"
BATCH = 1000
# Rows that `migrate` itself writes into a new database: their presence does not make it "used".
MIGRATE_MADE = {"contenttypes.contenttype", "auth.permission"}


class BackupError(Exception):
    """A backup or restore refused, with the reason in words."""


@dataclass(frozen=True)
class BackupSummary:
    rows: int
    files: int


class _RowSerializer(PythonSerializer):
    """Rows without their many-to-many lists: the link tables are dumped as models of their own,
    so their ids survive too."""

    def handle_m2m_field(self, obj: Any, field: Any) -> None:
        return None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()  # full precision, unlike DjangoJSONEncoder
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a backup")


def _models() -> list[type[models.Model]]:
    """Every table Django manages, link tables included, in a stable order."""
    found = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]
    return sorted(found, key=lambda model: model._meta.label_lower)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _migrations() -> list[list[str]]:
    recorder = MigrationRecorder(connection)
    return sorted([app, name] for app, name in recorder.applied_migrations())


def _files_under(root: Path) -> Iterator[Path]:
    if root.exists():
        yield from sorted(path for path in root.rglob("*") if path.is_file())


def backup_create(*, output: Path) -> BackupSummary:
    """Writes a backup of the database and MEDIA_ROOT into ``output`` (new or empty).

    1. Dump each model's rows, ordered by primary key, as JSON lines, inside one transaction so
       the dump is one consistent moment while people keep working (PostgreSQL: a REPEATABLE
       READ snapshot; SQLite: one read transaction).
    2. Copy every uploaded file.
    3. Write the manifest last: a folder without one is an interrupted backup.
    """
    if output.exists() and any(output.iterdir()):
        raise BackupError(f"{output} is not empty: give a new or empty folder.")
    output.mkdir(parents=True, exist_ok=True)
    rows = 0
    outermost = not connection.in_atomic_block
    with transaction.atomic(), (output / DATABASE_FILE).open("w", encoding="utf-8") as dump:
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for model in _models():
            queryset = model._default_manager.order_by("pk")
            for start in range(0, queryset.count(), BATCH):
                serializer = _RowSerializer()
                for row in serializer.serialize(queryset[start : start + BATCH]):
                    dump.write(json.dumps(row, default=_encode, ensure_ascii=False) + "\n")
                    rows += 1
        migrations = _migrations()
    media_root = Path(settings.MEDIA_ROOT)
    files = {DATABASE_FILE: _sha256(output / DATABASE_FILE)}
    for source in _files_under(media_root):
        relative = source.relative_to(media_root).as_posix()
        target = output / MEDIA_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        files[f"{MEDIA_DIR}/{relative}"] = _sha256(target)
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "rows": rows,
        "migrations": migrations,
        "files": files,
    }
    (output / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return BackupSummary(rows=rows, files=len(files) - 1)


def _read_manifest(source: Path) -> dict[str, Any]:
    manifest_path = source / MANIFEST_FILE
    if not manifest_path.is_file():
        raise BackupError(
            f"{source} has no {MANIFEST_FILE}: it is not a backup, or the backup was interrupted."
        )
    manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"This backup's format {manifest.get('format')!r} is not one this version reads.")
    return manifest


def backup_verify(*, source: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is there with its recorded SHA-256 and no other
    file is: a changed, missing or added file refuses the whole backup."""
    manifest = _read_manifest(source)
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"The backup is incomplete: {name} is missing.")
        if _sha256(path) != expected:
            raise BackupError(f"The backup is damaged: {name} does not match its SHA-256 in the manifest.")
    listed = set(manifest["files"])
    extra = [
        path.relative_to(source).as_posix()
        for path in _files_under(source)
        if path.name != MANIFEST_FILE and path.relative_to(source).as_posix() not in listed
    ]
    if extra:
        raise BackupError(f"The backup holds files its manifest does not list: {', '.join(extra[:5])}.")
    return manifest


def database_in_use() -> list[str]:
    """Models with rows beyond what `migrate` writes into a new database."""
    return [
        model._meta.label_lower
        for model in _models()
        if model._meta.label_lower not in MIGRATE_MADE and model._default_manager.exists()
    ]


def _rows(path: Path) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as dump:
        for line in dump:
            batch.append(json.loads(line))
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


def backup_restore(*, source: Path, force: bool = False) -> BackupSummary:
    """Replaces the database and MEDIA_ROOT with the backup in ``source``.

    1. Verify every file's SHA-256 and that this database is at the backup's migrations.
    2. Refuse a database or media folder in use, unless ``force``.
    3. In one transaction: empty every table, load every row (foreign keys are checked at the
       end, so the order does not matter), check the constraints, reset the id sequences.
    4. Replace MEDIA_ROOT's files with the backup's (copied beside it first, swapped in after
       the database committed).
    """
    manifest = backup_verify(source=source)
    here = _migrations()
    if here != manifest["migrations"]:
        missing = {tuple(m) for m in manifest["migrations"]} - {tuple(m) for m in here}
        raise BackupError(
            "This database is not at the migrations the backup was taken at: "
            + (
                f"run `manage.py migrate` first ({len(missing)} missing)."
                if missing
                else "it is newer; restore with the version of Collab that made the backup, then upgrade."
            )
        )
    media_root = Path(settings.MEDIA_ROOT)
    if not force:
        used = database_in_use()
        if used:
            raise BackupError(
                f"The database already holds data ({', '.join(used[:3])}…): restore into an empty "
                "database, or give --force to replace everything in it."
            )
        if any(_files_under(media_root)):
            raise BackupError(
                f"{media_root} already holds files: restore into an empty instance, "
                "or give --force to replace them."
            )
    staged = media_root.with_name(f"{media_root.name}.restoring")
    if staged.exists():
        shutil.rmtree(staged)
    copied = 0
    for name in manifest["files"]:
        if name.startswith(f"{MEDIA_DIR}/"):
            target = staged / name.removeprefix(f"{MEDIA_DIR}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, target)
            copied += 1
    staged.mkdir(parents=True, exist_ok=True)
    loaded = 0
    all_models = _models()
    with transaction.atomic():
        connection.ops.execute_sql_flush(
            sql_flush(no_style(), connection, reset_sequences=False, allow_cascade=True)
        )
        for batch in _rows(source / DATABASE_FILE):
            for deserialized in serializers.deserialize("python", batch):
                deserialized.save()
                loaded += 1
        connection.check_constraints(table_names=[model._meta.db_table for model in all_models])
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), all_models):
                cursor.execute(statement)
    if media_root.exists():
        shutil.rmtree(media_root)
    staged.rename(media_root)
    return BackupSummary(rows=loaded, files=copied)
