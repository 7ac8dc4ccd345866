from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from collab.audit.services import audit_record
from collab.lib.holiday_notice import Notice, parse_notice
from collab.org.models import HolidayNotice, HolidayNoticeDay, Person


@transaction.atomic
def person_set_language(*, actor: Any, language: str) -> None:
    """Remembers the interface language a person chose, for pages and for notifications."""
    person = Person.objects.select_for_update().filter(user=actor).first()
    if person is None or person.language == language:
        return
    old = person.language
    Person.objects.filter(pk=person.pk).update(language=language)
    audit_record(
        actor=actor, action="person.language_changed", target=person, changes={"language": [old, language]}
    )


class NoticeRefused(Exception):
    """A notice that cannot be stored; the message says why, in the reader's language."""


def holiday_notice_read(*, text: str, year: int | None = None) -> tuple[Notice, int]:
    """The notice ``text`` parsed, and its year; refused when nothing of it can be stored."""
    notice = parse_notice(text, year)
    if notice.year is None:
        raise NoticeRefused(
            _(
                "The year of the notice was not found: paste it with its title "
                "(国务院办公厅关于YYYY年部分节假日安排的通知) or give the year."
            )
        )
    if not notice.days:
        raise NoticeRefused(
            _(
                "No holiday line was read from the text. Paste the numbered lines of the notice, "
                "e.g. 一、元旦：…"
            )
        )
    return notice, notice.year


@transaction.atomic
def holiday_notice_confirm(*, actor: Any, text: str, year: int | None = None) -> HolidayNotice:
    """Stores the notice as the official schedule of its year, replacing an earlier import.

    Refused while a numbered line could not be read: a half-read notice would silently drop a
    holiday. Writes one audit row with what was stored.
    """
    notice, year = holiday_notice_read(text=text, year=year)
    if notice.problems:
        raise NoticeRefused(
            ngettext(
                "%(count)d line of the notice could not be read: correct it or remove it, then import again.",
                "%(count)d lines of the notice could not be read: correct them or remove them, then "
                "import again.",
                len(notice.problems),
            )
            % {"count": len(notice.problems)}
        )
    if notice.missing:
        raise NoticeRefused(
            _(
                "The notice leaves statutory holidays as working days (%(days)s): a line is missing. "
                "Paste the whole notice."
            )
            % {"days": ", ".join(f"{day:%Y-%m-%d}" for day in sorted(notice.missing))}
        )
    stored, created = HolidayNotice.objects.select_for_update().update_or_create(
        year=year, defaults={"text": text, "imported_by": actor, "imported_at": timezone.now()}
    )
    stored.days.all().delete()
    HolidayNoticeDay.objects.bulk_create(
        HolidayNoticeDay(notice=stored, date=day, is_workday=value.is_workday, holiday=value.holiday)
        for day, value in sorted(notice.days.items())
    )
    audit_record(
        actor=actor,
        action="holiday_notice.confirmed",
        target=stored,
        changes={
            "year": year,
            "days_off": sorted(
                f"{day:%Y-%m-%d}" for day, value in notice.days.items() if not value.is_workday
            ),
            "workdays": sorted(f"{day:%Y-%m-%d}" for day, value in notice.days.items() if value.is_workday),
            "replaced": not created,
        },
    )
    return stored
