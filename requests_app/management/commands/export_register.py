from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from requests_app.models import CollaborationItem, ItemStatus
from requests_app.register import write_register_xlsx
from requests_app.selectors import SORTS


class Command(BaseCommand):
    help = "Exports the whole communication register (every submitted item) to an Excel file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", required=True, help="Path of the .xlsx file to write.")
        parser.add_argument("--language", default="zh-hans", choices=["zh-hans", "en"])
        parser.add_argument("--status", choices=[s for s in ItemStatus.values if s != ItemStatus.DRAFT])

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError(f"{output} must end in .xlsx")
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        items = CollaborationItem.objects.exclude(status=ItemStatus.DRAFT)
        if options["status"]:
            items = items.filter(status=options["status"])
        with translation.override(options["language"]):
            count = write_register_xlsx(items.order_by(*SORTS["number"]), output)
        self.stdout.write(self.style.SUCCESS(f"Wrote {count} items to {output}"))
