"""manage.py restore DIR [--force]: puts a backup back, after checking every file's SHA-256."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collab.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restores a backup made by `manage.py backup` into this (migrated, empty) database and media "
        "folder. --force replaces whatever they hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="the backup folder")
        parser.add_argument("--force", action="store_true", help="replace the data already here")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_restore(source=options["source"], force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored {summary.rows} rows and {summary.files} files from {options['source']}")
