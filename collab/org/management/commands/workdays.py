"""Checks the working-day calendar from the command line, as deadlines will compute it.

manage.py workdays add 2026-09-30T15:00 1 --region cn-east   → 2026-10-08T15:00:00+08:00
manage.py workdays add 2026-09-30T15:00 4 --hours            → 4 working hours later
manage.py workdays check 2026-10-10 --region cn-east         → a make-up workday, for which holiday
manage.py workdays import-notice notice-2027.txt               → stores the State Council's notice
"""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _

from collab.lib.workdays import Calendar
from collab.org.calendar import calendar_for, describe_day, holiday_label, year_warning
from collab.org.models import Region
from collab.org.services import NoticeRefused, holiday_notice_confirm, holiday_notice_read


class Command(BaseCommand):
    help = "Adds working days to a moment, or says what kind of day a date is, in a region's calendar."

    def add_arguments(self, parser: Any) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Prints the moment N working days (or hours) after a moment.")
        add.add_argument(
            "moment", help="ISO moment, e.g. 2026-09-30T15:00 (naive: in the region's time zone)."
        )
        add.add_argument("amount", help="Working days (a whole number; negative goes back).")
        add.add_argument("--hours", action="store_true", help="Count working hours instead of days.")
        check = actions.add_parser("check", help="Says whether a date is a working day and why.")
        check.add_argument("date", help="ISO date, e.g. 2026-10-10.")
        notice = actions.add_parser(
            "import-notice", help="Stores the State Council's holiday notice of a year from a text file."
        )
        notice.add_argument("file", help="The notice as UTF-8 or GB18030 text.")
        notice.add_argument("--year", type=int, help="The year, when the text has no title naming it.")
        notice.add_argument("--dry-run", action="store_true", help="Only show what would be stored.")
        for sub in (add, check, notice):
            sub.add_argument("--language", default=settings.LANGUAGE_CODE, choices=dict(settings.LANGUAGES))
        for sub in (add, check):
            sub.add_argument("--region", help="Region code; without it, the company default calendar.")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            if options["action"] == "import-notice":
                self._import_notice(options["file"], options["year"], dry_run=options["dry_run"])
                return
            calendar = calendar_for(_region(options["region"]))
            if options["action"] == "add":
                self._add(calendar, options["moment"], options["amount"], hours=options["hours"])
            else:
                self._check(calendar, options["date"])

    def _add(self, calendar: Calendar, moment_text: str, amount_text: str, *, hours: bool) -> None:
        moment = _moment(calendar, moment_text)
        amount = _amount(amount_text, hours=hours)
        try:
            if isinstance(amount, timedelta):
                result = calendar.add_working_hours(moment, amount)
            else:
                result = calendar.add_working_days(moment, amount)
        except OverflowError as error:  # past date.max
            raise CommandError(_("The result lies beyond the year 9999.")) from error
        except ValueError as error:  # a calendar without working days (every day overridden off)
            raise CommandError(str(error)) from error
        self.stdout.write(result.isoformat())
        first, last = sorted([moment.astimezone(calendar.tz).year, result.year])
        for year in range(first, last + 1):
            warning = year_warning(calendar, year)
            if warning is not None:
                self.stderr.write(warning)

    def _check(self, calendar: Calendar, date_text: str) -> None:
        try:
            day = date.fromisoformat(date_text)
        except ValueError as error:
            raise CommandError(
                _("%(value)s is not a date in ISO format, e.g. 2026-10-10.") % {"value": date_text}
            ) from error
        for line in describe_day(calendar.day_kind(day)):
            self.stdout.write(line)

    def _import_notice(self, path: str, year: int | None, *, dry_run: bool) -> None:
        """Lists every day read and every line not read; stores the notice unless a line failed."""
        text = _read_text(path)
        try:
            notice, year = holiday_notice_read(text=text, year=year)
        except NoticeRefused as refused:
            raise CommandError(str(refused)) from refused
        for day, value in sorted(notice.days.items()):
            label = _("make-up workday") if value.is_workday else _("day off")
            self.stdout.write(
                f"{day:%Y-%m-%d} {WEEKDAYS[day.weekday()]}: {label}, {holiday_label(value.holiday)}"
            )
        for problem in notice.problems:
            self.stderr.write(_("Not read: %(line)s") % {"line": problem.line})
        for day, key in sorted(notice.missing.items()):
            self.stderr.write(
                _("Not given off: %(date)s %(holiday)s")
                % {"date": f"{day:%Y-%m-%d}", "holiday": holiday_label(key)}
            )
        if dry_run:
            return
        try:
            holiday_notice_confirm(actor=None, text=text, year=year)
        except NoticeRefused as refused:
            raise CommandError(str(refused)) from refused
        self.stdout.write(
            _("The State Council's notice of %(year)s is stored as that year's official schedule.")
            % {"year": year}
        )


def _read_text(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        message = _("%(path)s cannot be read: %(error)s") % {"path": path, "error": error.strerror}
        raise CommandError(message) from error
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CommandError(_("The file is not text in UTF-8 or GB18030."))


def _region(code: str | None) -> Region | None:
    if code is None:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        codes = ", ".join(Region.objects.values_list("code", flat=True)) or "-"
        raise CommandError(
            _("There is no region with the code %(code)s. Known codes: %(codes)s.")
            % {"code": code, "codes": codes}
        )
    return region


def _moment(calendar: Calendar, text: str) -> datetime:
    """The moment ``text`` names; without a time zone, a wall-clock time in the calendar's."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(
            _("%(value)s is not a moment in ISO format, e.g. 2026-09-30T15:00 or 2026-09-30T15:00+08:00.")
            % {"value": text}
        ) from error
    if moment.tzinfo is None:
        return calendar.at(moment.date(), moment.time())
    return moment


def _amount(text: str, *, hours: bool) -> int | timedelta:
    """Whole working days, or working hours (fractions allowed) as a timedelta."""
    try:
        if not hours:
            return int(text)
        return timedelta(hours=float(text))
    except (ValueError, OverflowError) as error:  # "x", "nan", "1e30"
        message = (
            _("%(value)s is not a number of working hours, e.g. 4 or 1.5.")
            if hours
            else _("%(value)s is not a whole number of working days, e.g. 1 or -2.")
        )
        raise CommandError(message % {"value": text}) from error
