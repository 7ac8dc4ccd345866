"""The admin's calendar pages beyond the region form: month grids, year sources, notice import.

The year view (``RegionAdmin``) and the notice import share the month grid: the import previews
the year as the notice would make it, with each day that changes marked against the calendar in
force, and lists the lines it could not read before anything is stored.
"""

import calendar as month_calendar
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collab.lib.holiday_notice import (
    NO_DATES,
    NO_YEAR,
    UNKNOWN_HOLIDAY,
    WRONG_COUNT,
    WRONG_WEEKDAY,
    Notice,
    Problem,
)
from collab.lib.workdays import (
    NOTICE,
    OFFICIAL,
    STATUTORY,
    WEEKEND,
    Calendar,
    DayKind,
    NoticeDay,
    is_published,
)
from collab.org.calendar import calendar_for, day_label, holiday_label
from collab.org.models import HolidayNotice
from collab.org.services import NoticeRefused, holiday_notice_confirm, holiday_notice_read

# An uploaded notice is a short text; anything bigger is not one.
MAX_NOTICE_BYTES = 100_000

SOURCE_LABELS = {
    OFFICIAL: gettext_lazy("official schedule"),
    NOTICE: gettext_lazy("from the imported State Council notice"),
    STATUTORY: gettext_lazy("statutory holidays only, make-up workdays unknown"),
}

PROBLEM_REASONS = {
    UNKNOWN_HOLIDAY: gettext_lazy("names no holiday Collab knows"),
    NO_DATES: gettext_lazy("has no date that can be read"),
    WRONG_WEEKDAY: gettext_lazy("gives a weekday that does not match its date"),
    WRONG_COUNT: gettext_lazy('says "共N天" but its range has another number of days'),
    NO_YEAR: gettext_lazy("the year of the notice is unknown"),
}


def css_class(kind: DayKind) -> str:
    if kind.workday:
        css = "makeup" if kind.is_makeup_workday or kind.makeup_for is not None else "workday"
    elif kind.reason == WEEKEND:
        css = "weekend"
    else:
        css = "holiday"
    return f"{css} override" if kind.is_override else css


def month_view(calendar: Calendar, year: int, month: int, compare: Calendar | None = None) -> dict[str, Any]:
    """One month of a year view: the week grid, the counts and the notable days, grouped.

    With ``compare`` (the calendar in force), each day whose kind differs is marked "changed"
    with the label it has now, and listed in ``changes``.
    """
    kinds = [
        calendar.day_kind(day)
        for day in month_calendar.Calendar().itermonthdates(year, month)
        if day.month == month
    ]
    by_day = {kind.day: kind for kind in kinds}
    changed: dict[date, str] = {}
    if compare is not None:
        for kind in kinds:
            before = compare.day_kind(kind.day)
            if (before.workday, before.reason, before.makeup_for) != (
                kind.workday,
                kind.reason,
                kind.makeup_for,
            ):
                changed[kind.day] = day_label(before)
    weeks = [
        [
            {
                "kind": by_day[day],
                "css": css_class(by_day[day]),
                "label": day_label(by_day[day]),
                "changed": changed.get(day),
            }
            if day in by_day
            else None
            for day in week
        ]
        for week in month_calendar.Calendar().monthdatescalendar(year, month)
    ]
    return {
        "name": MONTHS[month],
        "weeks": weeks,
        "workdays": sum(kind.workday for kind in kinds),
        "holidays": sum(kind.is_holiday for kind in kinds),
        "weekends": sum(not kind.workday and kind.reason == WEEKEND for kind in kinds),
        "makeup_days": sum(kind.is_makeup_workday or kind.makeup_for is not None for kind in kinds),
        "overrides": sum(kind.is_override for kind in kinds),
        "notes": _notes(kinds),
        "changes": [
            {"day": day, "now": label, "then": day_label(by_day[day])}
            for day, label in sorted(changed.items())
        ],
    }


def _notes(kinds: list[DayKind]) -> list[dict[str, Any]]:
    """Holidays, make-up workdays and overrides of a month, consecutive equal days grouped."""
    notes: list[dict[str, Any]] = []
    for kind in kinds:
        if not (kind.is_holiday or kind.is_makeup_workday or kind.makeup_for or kind.is_override):
            continue
        label = day_label(kind)
        last = notes[-1] if notes else None
        if (
            last is not None
            and not kind.is_override
            and not last["override"]
            and last["label"] == label
            and last["last"] + timedelta(days=1) == kind.day
        ):
            last["last"] = kind.day
            continue
        notes.append(
            {
                "first": kind.day,
                "last": kind.day,
                "label": label,
                "css": css_class(kind),
                "override": kind.is_override,
                "note": kind.override_note,
                "official": day_label(kind.official) if kind.official is not None else None,
            }
        )
    return notes


def year_sources(calendar: Calendar, year: int) -> list[dict[str, Any]]:
    """The years around ``year`` and where each one's days come from, for the year view."""
    this_year = timezone.localdate().year
    years = sorted({this_year - 1, this_year, this_year + 1, this_year + 2, year})
    return [
        {
            "year": each,
            "current": each == year,
            "source": calendar.year_schedule(each),
            "label": SOURCE_LABELS.get(
                calendar.year_schedule(each), gettext_lazy("no holiday data, work week only")
            ),
        }
        for each in years
    ]


def notice_note(calendar: Calendar, year: int) -> str | None:
    """Says when the library now carries a year an admin imported a notice for, and whether they agree."""
    if not is_published(year) or year not in calendar.notices:
        return None
    # The notice read as if the library lacked the year: every day of the year, compared.
    days = [date(year, 1, 1) + timedelta(days=offset) for offset in range(366)]
    notice = calendar.notices[year]
    differences = [
        day
        for day in days
        if day.year == year and _notice_workday(day, notice.get(day)) != calendar.official_day(day).workday
    ]
    if not differences:
        return _(
            "The notice imported for %(year)s is replaced by the holiday data now carried by Collab; "
            "both agree."
        ) % {"year": year}
    return _(
        "The notice imported for %(year)s is replaced by the holiday data now carried by Collab, "
        "which disagrees on %(days)s. Check the notice; the holiday data counts."
    ) % {"year": year, "days": ", ".join(f"{day:%Y-%m-%d}" for day in sorted(differences))}


def _notice_workday(day: date, named: NoticeDay | None) -> bool:
    return named.is_workday if named is not None else day.weekday() < 5


class NoticeForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Notice text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100}),
        help_text=gettext_lazy("Paste the whole notice, title included, or upload it as a text file."),
    )
    upload = forms.FileField(label=gettext_lazy("or a text file"), required=False)
    year = forms.IntegerField(
        label=gettext_lazy("Year"),
        required=False,
        min_value=2000,
        max_value=2100,
        help_text=gettext_lazy("Only needed when the text has no title naming the year."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("upload")
        if upload is not None:
            if upload.size > MAX_NOTICE_BYTES:
                raise forms.ValidationError(_("The file is too large for a notice (at most 100 KB)."))
            raw = upload.read()
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    cleaned["text"] = raw.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue
            else:
                raise forms.ValidationError(_("The file is not text in UTF-8 or GB18030."))
        if not (cleaned.get("text") or "").strip():
            raise forms.ValidationError(_("Paste the notice or choose a file."))
        return cleaned


def notice_import_view(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """GET: the form. POST "preview": the year as the notice makes it. POST "confirm": store it."""
    form = NoticeForm(request.POST or None, request.FILES or None)
    preview: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        text, year = form.cleaned_data["text"], form.cleaned_data["year"]
        try:
            if "confirm" in request.POST:
                stored = holiday_notice_confirm(actor=request.user, text=text, year=year)
                messages.success(
                    request,
                    _("The State Council's notice of %(year)s is stored as that year's official schedule.")
                    % {"year": stored.year},
                )
                return HttpResponseRedirect(reverse("admin:org_region_default_calendar", args=[stored.year]))
            preview = _preview(*holiday_notice_read(text=text, year=year))
        except NoticeRefused as refused:
            form.add_error(None, str(refused))
    return TemplateResponse(
        request,
        "admin/org/region/notice_import.html",
        {
            **context,
            "title": _("Import the State Council's holiday notice"),
            "form": form,
            "preview": preview,
            "imported": HolidayNotice.objects.select_related("imported_by").order_by("-year")[:5],
            "weekdays": [WEEKDAYS_ABBR[day] for day in range(7)],
        },
    )


def _preview(notice: Notice, year: int) -> dict[str, Any]:
    in_force = calendar_for(None)
    notices = {**in_force.notices, year: notice.days}
    proposed = Calendar(
        in_force.country,
        in_force.tz.key,
        in_force.periods,
        in_force.overrides,
        label=in_force.label,
        work_week=in_force.work_week,
        notices=notices,
    )
    months = [month_view(proposed, year, month, compare=in_force) for month in range(1, 13)]
    return {
        "year": year,
        "published": is_published(year),
        "months": months,
        "changes": sum(len(month["changes"]) for month in months),
        "problems": [_problem(problem) for problem in notice.problems],
        "missing": [
            {"day": day, "holiday": holiday_label(key)} for day, key in sorted(notice.missing.items())
        ],
        "days_off": sum(not value.is_workday for value in notice.days.values()),
        "workdays": sum(value.is_workday for value in notice.days.values()),
    }


def _problem(problem: Problem) -> dict[str, str]:
    return {"line": problem.line, "reason": str(PROBLEM_REASONS[problem.reason]), "detail": problem.detail}
