import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from requests_app.models import CollaborationItem, ItemStatus
from requests_app.services import ItemError
from reviews_app.archive_readiness import archive_problems
from reviews_app.archive_services import archive_snapshot
from reviews_app.models import ArchiveStatus


class Command(BaseCommand):
    help = (
        "Builds the archive of one collaboration item now, in this process, printing its progress, "
        "and copies the ZIP (协作流程-<编号>-<主题>.zip) into --output. The archive is also stored and "
        "listed on the item's archive page. Without --close the item's status is left alone: an open "
        "item is archived as a snapshot of where it stands (what is still missing is printed as notes), "
        "and an archived item is simply built again. With --close the item must be ready (every task "
        "delivered and signed, the retrospective recorded) and is closed at the end, as when its "
        "coordinator builds the archive in the browser."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="The item's register number, e.g. 20261001.")
        parser.add_argument("--output", required=True, help="An existing folder to write the ZIP into.")
        parser.add_argument(
            "--close",
            action="store_true",
            help="Close the item at the end (it must be ready to archive); without it, its status stays.",
        )
        parser.add_argument(
            "--user",
            help="Username recorded as the one who requested the archive (default: the item's coordinator).",
        )
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of the documents' labels (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if not output.is_dir():
            raise CommandError(f"The folder {output} does not exist.")
        number = options["number"]
        item = CollaborationItem.objects.select_related("coordinator").filter(number=number).first()
        if item is None:
            raise CommandError(f"No collaboration item has the number {number}.")
        actor: Any = item.coordinator
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user is named {options['user']}.")
        close = options["close"]
        if close and item.status == ItemStatus.CLOSED:
            self.stdout.write("The item is archived already: building its archive again.")
            close = False
        with translation.override(options["language"]):
            if not options["close"] and item.status != ItemStatus.CLOSED:
                for problem in archive_problems(item):
                    self.stdout.write(f"Note: {problem}")
                self.stdout.write("The item stays open (use --close to close it).")
            try:
                archive = archive_snapshot(
                    actor=actor,
                    item_id=item.pk,
                    close=close,
                    language=options["language"],
                    on_progress=lambda percent, step: self.stdout.write(f"[{percent:3d}%] {step}"),
                )
            except ItemError as error:
                problems = [m for ms in error.problems.values() for m in ms]
                raise CommandError("\n".join([error.message, *problems])) from error
        if archive.status != ArchiveStatus.READY:
            raise CommandError(f"The archive could not be built: {archive.error}")
        target = output / archive.file_name
        with archive.file.storage.open(str(archive.file.name), "rb") as source, target.open("wb") as copy:
            shutil.copyfileobj(source, copy, 1024 * 1024)
        self.stdout.write(self.style.SUCCESS(f"Wrote {target} (SHA-256 {archive.sha256})"))
        item.refresh_from_db()
        if close and item.status == ItemStatus.CLOSED:
            self.stdout.write("The item is archived and read-only now.")
