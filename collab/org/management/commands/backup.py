"""manage.py backup --output DIR: the database, every uploaded file and a SHA-256 manifest."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from collab.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Backs up the database and the uploaded files into a new or empty folder, with a SHA-256 manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", required=True, type=Path, help="a new or empty folder")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_create(output=options["output"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Backed up {summary.rows} rows and {summary.files} files into {options['output']}")
