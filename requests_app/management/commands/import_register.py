from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from requests_app.register_import import read_register, register_import


class Command(BaseCommand):
    help = (
        "Imports an existing communication register (the template's 11 columns) from an Excel file. "
        "Items keep their numbers; numbers imported before are skipped."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="Path of the .xlsx file to read.")
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be imported and every problem."
        )
        parser.add_argument(
            "--as",
            dest="username",
            help=(
                "The admin recorded as importer, and coordinator of rows with neither a coordinator "
                "column nor a department head (default: the first superuser)."
            ),
        )
        parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        users = get_user_model().objects.filter(is_active=True)
        actor = (
            users.filter(username=options["username"]).first()
            if options["username"]
            else users.filter(is_superuser=True).order_by("pk").first()
        )
        if actor is None:
            raise CommandError("No such active user to import as (use --as USERNAME).")
        with translation.override(options["language"]), path.open("rb") as stream:
            reading = read_register(stream)
            problems = reading.all_problems
            for problem in problems:
                self.stderr.write(problem)
            new, skipped = len(reading.new_rows), len(reading.rows) - len(reading.new_rows)
            for warning in reading.all_warnings:  # e.g. no coordinator: the importing admin becomes it
                self.stderr.write(warning)
            if problems:
                raise CommandError(f"{len(problems)} problems: nothing was imported.")
            if options["dry_run"]:
                self.stdout.write(f"Dry run: {new} items would be imported, {skipped} were imported before.")
                return
            created = register_import(actor=actor, reading=reading)
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(created)} items; {skipped} were imported before.")
        )
