from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.html import escape, format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collab.lib.numbers import parse_whole_number
from collab.lib.workdays import is_supported_calendar
from collab.org.calendar import (
    calendar_for,
    official_calendar_for,
    unknown_day_suffix,
    working_hours_label,
    working_periods,
    year_warning,
)
from collab.org.calendar_admin import month_view, notice_import_view, notice_note, year_sources
from collab.org.models import CalendarOverride, Department, Person, Region

# The year view shows years the holiday data can speak about, with room either side.
YEARS = range(1950, 2101)


class RegionForm(forms.ModelForm):
    work_week = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Working weekdays"),
        choices=[(str(day + 1), WEEKDAYS[day]) for day in range(7)],
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "The weekdays its offices work. A day outside them is a day off unless the official "
            "schedule makes it a make-up workday."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["work_week"] = list(self.instance.work_week if self.instance.pk else "12345")

    def clean_work_week(self) -> str:
        return "".join(sorted(set(self.cleaned_data["work_week"])))

    class Meta:
        model = Region
        fields = [
            "code",
            "name",
            "timezone",
            "holiday_calendar",
            "workday_start",
            "lunch_start",
            "lunch_end",
            "workday_end",
            "work_week",
        ]

    def clean_holiday_calendar(self) -> str:
        code = self.cleaned_data["holiday_calendar"].strip().upper()
        if not is_supported_calendar(code):
            raise forms.ValidationError(
                _(
                    "%(code)s is not a holiday calendar Collab knows; use an ISO country code "
                    "such as CN, HK, DE or DE-BY."
                ),
                params={"code": code},
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        times = [cleaned.get(name) for name in ("workday_start", "lunch_start", "lunch_end", "workday_end")]
        if None in times:
            return cleaned  # a field error is already shown
        start, lunch_start, lunch_end, end = times
        if not start <= lunch_start <= lunch_end <= end:  # type: ignore[operator]
            raise forms.ValidationError(
                _(
                    "The working day must start before the lunch break, and the lunch break must "
                    "end before the working day ends."
                )
            )
        if start == lunch_start and lunch_end == end:
            raise forms.ValidationError(_("The working hours leave no working time outside the lunch break."))
        return cleaned


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    """Regions with their holiday calendar, time zone and working hours, and a year view to check them."""

    form = RegionForm
    list_display = ["code", "name", "timezone", "holiday_calendar", "working_hours", "calendar_link"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "timezone", "holiday_calendar"]}),
        (
            gettext_lazy("Working hours"),
            {
                "fields": [("workday_start", "workday_end"), ("lunch_start", "lunch_end"), "work_week"],
                "description": gettext_lazy(
                    "In the region's time zone. Deadlines in working hours count only this time."
                ),
            },
        ),
    ]

    @admin.display(description=gettext_lazy("working hours"))
    def working_hours(self, region: Region) -> str:
        return working_hours_label(working_periods(region))

    @admin.display(description=gettext_lazy("calendar"))
    def calendar_link(self, region: Region) -> str:
        year = timezone.localdate().year
        url = reverse("admin:org_region_calendar", args=[region.pk, year])
        return format_html('<a href="{}">{}</a>', url, _("Calendar %(year)s") % {"year": year})

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path(
                "calendar/<int:year>/",
                view(self.default_calendar_view),
                name="org_region_default_calendar",
            ),
            path("calendar/notice/", view(self.notice_view), name="org_region_notice"),
            path(
                "<path:object_id>/calendar/<int:year>/",
                view(self.calendar_view),
                name="org_region_calendar",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        year = timezone.localdate().year
        context = {
            "default_calendar_url": reverse("admin:org_region_default_calendar", args=[year]),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> Any:
        context = dict(extra_context or {})
        region = self.get_object(request, unquote(object_id))
        if region is not None:
            this_year = timezone.localdate().year
            years = [this_year, this_year + 1]
            calendar = calendar_for(region)
            context["calendar_links"] = [
                (year, reverse("admin:org_region_calendar", args=[region.pk, year])) for year in years
            ]
            context["calendar_warnings"] = [
                warning for year in years if (warning := year_warning(calendar, year)) is not None
            ]
        return super().change_view(request, object_id, form_url, extra_context=context)

    def calendar_view(self, request: HttpRequest, object_id: str, year: int) -> HttpResponse:
        region = self.get_object(request, unquote(object_id))
        if region is None:
            raise Http404(_("There is no such region."))
        if not self.has_view_permission(request, region):
            raise PermissionDenied
        return self._year_view(request, region, year)

    def notice_view(self, request: HttpRequest) -> HttpResponse:
        """Import the State Council's notice: paste or upload, preview the year, confirm."""
        if not request.user.has_perm("org.add_holidaynotice"):
            raise PermissionDenied
        return notice_import_view(request, {**self.admin_site.each_context(request), "opts": self.opts})

    def default_calendar_view(self, request: HttpRequest, year: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._year_view(request, None, year)

    def _year_view(self, request: HttpRequest, region: Region | None, year: int) -> HttpResponse:
        """Per month: the days as a grid, the counts, and the days worth a note, overrides marked."""
        if year not in YEARS:
            raise Http404(
                _("Collab shows calendars from %(first)s to %(last)s.")
                % {"first": YEARS[0], "last": YEARS[-1]}
            )
        calendar = calendar_for(region)
        name = region.name if region is not None else _("Company default")

        def url(pk: int | None, for_year: int) -> str:
            if pk is None:
                return reverse("admin:org_region_default_calendar", args=[for_year])
            return reverse("admin:org_region_calendar", args=[pk, for_year])

        pk = region.pk if region is not None else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Working-day calendar %(year)s: %(region)s") % {"year": year, "region": name},
            "region": region,
            "year": year,
            "calendar": calendar,
            "calendar_code": calendar.country + (f"-{calendar.subdivision}" if calendar.subdivision else ""),
            "working_hours": working_hours_label(calendar.periods),
            "unknown_warning": year_warning(calendar, year),
            "notice_note": notice_note(calendar, year) if calendar.is_china else None,
            "year_sources": year_sources(calendar, year),
            "notice_url": reverse("admin:org_region_notice") if calendar.is_china else None,
            "months": [month_view(calendar, year, month) for month in range(1, 13)],
            "weekdays": [WEEKDAYS_ABBR[day] for day in range(7)],
            "previous_url": url(pk, year - 1) if year - 1 in YEARS else None,
            "next_url": url(pk, year + 1) if year + 1 in YEARS else None,
            "other_calendars": [(_("Company default"), url(None, year), region is None)]
            + [
                (other.name, url(other.pk, year), other.pk == pk)
                for other in Region.objects.only("pk", "name")
            ],
        }
        return TemplateResponse(request, "admin/org/region/calendar_year.html", context)


class OverrideYearFilter(admin.SimpleListFilter):
    title = gettext_lazy("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarOverride.objects.dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        value = self.value()
        if (year := parse_whole_number(value)) is not None and 1 <= year <= 9999:
            return queryset.filter(date__year=year)
        return queryset


class OverrideRegionFilter(admin.RelatedFieldListFilter):
    """The region filter, with company-wide overrides (no region) named as such instead of "-"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_value_display = escape(_("Company-wide"))


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    """Company decisions about single dates: extra days off and extra workdays, per region or for all."""

    list_display = ["date", "weekday", "region_or_all", "is_workday", "note", "official"]
    list_filter = [("region", OverrideRegionFilter), OverrideYearFilter, "is_workday"]
    list_select_related = ["region"]
    search_fields = ["note"]
    date_hierarchy = "date"

    @admin.display(description=gettext_lazy("weekday"))
    def weekday(self, override: CalendarOverride) -> str:
        return str(WEEKDAYS[override.date.weekday()])

    @admin.display(description=gettext_lazy("region"), ordering="region__name")
    def region_or_all(self, override: CalendarOverride) -> str:
        return override.region.name if override.region is not None else _("Company-wide")

    @admin.display(description=gettext_lazy("official calendar"))
    def official(self, override: CalendarOverride) -> str:
        """What the day would be without overrides, so a redundant or surprising one shows."""
        return unknown_day_suffix(official_calendar_for(override.region).day_kind(override.date))


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "head", "region", "active"]
    list_select_related = ["parent", "head", "region"]
    list_filter = ["active"]
    search_fields = ["name"]
    autocomplete_fields = ["head", "parent", "confirmation_delegates"]


class PersonInline(admin.StackedInline):
    model = Person
    can_delete = False
    autocomplete_fields = ["department"]
    fk_name = "user"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PersonUserAdmin(UserAdmin):
    """Users with their Collab profile (department, position, IM ids, language) on one page."""

    inlines = [PersonInline]
    list_display = ["username", "last_name", "first_name", "person_department", "is_active", "is_staff"]
    list_select_related = ["person__department"]
    list_filter = ["is_active", "is_staff", "person__department"]

    @admin.display(description=Department._meta.verbose_name)
    def person_department(self, user):
        person = getattr(user, "person", None)
        return person.department if person else ""
