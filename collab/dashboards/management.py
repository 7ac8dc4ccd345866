"""Company-wide figures for management over a chosen period, the rows behind each, and Excel.

The figures (docs/dashboards.md defines them in prose):

- **Items by stage and scenario**: items submitted in the period, counted by their current
  status and their scenario.
- **On-time delivery rate**: of the tasks done in the period, the share done by their deadline.
  A task is done when both sides sign the acceptance form of one of its deliverables (the same
  status every list and light reads; no progress report makes a task done); it is on time when
  that date in the company time zone is on or before the deadline.
- **Review turnaround**: of the deliverable versions whose review outcome became known in the
  period (reviewed in it, or not reviewed and their deadline passed in it), the share reviewed by
  their deadline (``reviewed_at <= review_due_at``, the deadline being 1 working day after
  submission on the receiver's calendar).
- **Escalations per department**: warnings of step 1 or higher (to the coordinator, then to the
  owner's department head) sent in the period, grouped by the department of the task.

Each figure is one aggregate query; the row lists are paginated querysets; exports are
streamed openpyxl write-only workbooks with typed cells (counts as numbers, rates as
percentages, times as dates).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collab.dashboards.department_selectors import ON_TIME_REVIEW, Turnaround, counted_reviews, turnaround_of
from collab.lib.numbers import parse_whole_number
from collab.lib.xlsx import Percent, XlsxBook, as_text
from collab.org.models import display_name
from requests_app.models import CollaborationItem, ItemStatus, Scenario
from reviews_app.models import DeliverableVersion
from tasks_app.models import Alert, Task, TaskStatus

DEFAULT_PERIOD_DAYS = 90


def company_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """Whole days from ``start`` to ``end`` (both included) in the company time zone."""

    start: date
    end: date

    @classmethod
    def default(cls, today: date | None = None) -> "Period":
        """The last 90 days, today included."""
        today = today or timezone.localdate()
        return cls(start=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end=today)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=company_zone())

    @property
    def end_at(self) -> datetime:
        """The first moment after the period (exclusive bound): the sargable form of a date range."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=company_zone())

    def query(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


# ---------------------------------------------------------------------------------------------
# The querysets behind the figures


def submitted_items(period: Period) -> QuerySet[CollaborationItem]:
    # Index: CollaborationItem.submitted_at (db_index).
    return CollaborationItem.objects.filter(submitted_at__gte=period.start_at, submitted_at__lt=period.end_at)


def delivered_tasks(period: Period) -> QuerySet[Task]:
    """Tasks done in the period (both sides signed their acceptance form then), annotated with
    ``done_on``: that moment's date in the company time zone."""
    # Index: Task.done_at (db_index).
    return Task.objects.filter(
        status=TaskStatus.DONE, done_at__gte=period.start_at, done_at__lt=period.end_at
    ).annotate(done_on=TruncDate("done_at", tzinfo=company_zone()))


ON_TIME_DELIVERY = Q(done_on__lte=F("deadline"))


def reviews_in(period: Period, now: datetime | None = None) -> QuerySet[DeliverableVersion]:
    return counted_reviews(period.start_at, period.end_at, now or timezone.now())


def escalations_in(period: Period) -> QuerySet[Alert]:
    return Alert.objects.filter(step__gte=1, sent_at__gte=period.start_at, sent_at__lt=period.end_at)


# ---------------------------------------------------------------------------------------------
# The figures


@dataclass
class Share:
    total: int
    hits: int

    @property
    def rate(self) -> int | None:
        return round(100 * self.hits / self.total) if self.total else None


@dataclass
class StageRow:
    status: str
    label: str
    cells: list[tuple[str, int]]  # (scenario, count) in Scenario order
    total: int

    @property
    def counts(self) -> list[int]:
        return [count for _scenario, count in self.cells]


@dataclass
class DepartmentCount:
    department_id: int
    name: str
    count: int


@dataclass
class Figures:
    period: Period
    stage_rows: list[StageRow]
    scenarios: list[tuple[str, str]]
    scenario_totals: list[int]
    item_total: int
    delivery: Share
    turnaround: Turnaround
    escalations: list[DepartmentCount]
    escalation_total: int


def figures(period: Period, *, now: datetime | None = None) -> Figures:
    """Every management figure of the period: 4 aggregate queries."""
    counts = {
        (row["status"], row["scenario"]): row["n"]
        for row in submitted_items(period).order_by().values("status", "scenario").annotate(n=Count("pk"))
    }
    scenarios = [(s.value, str(s.label)) for s in Scenario]
    stage_rows = []
    for status in ItemStatus:
        if status == ItemStatus.DRAFT:
            continue  # a draft has no submission time, so never falls in a period
        cells = [(s, counts.get((status.value, s), 0)) for s, _label in scenarios]
        stage_rows.append(
            StageRow(
                status=status.value, label=str(status.label), cells=cells, total=sum(n for _s, n in cells)
            )
        )
    scenario_totals = [sum(row.counts[i] for row in stage_rows) for i in range(len(scenarios))]

    delivery = delivered_tasks(period).aggregate(
        total=Count("pk"), on_time=Count("pk", filter=ON_TIME_DELIVERY)
    )
    escalations = [
        DepartmentCount(
            department_id=row["task__department"], name=row["task__department__name"], count=row["n"]
        )
        for row in escalations_in(period)
        .order_by()
        .values("task__department", "task__department__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "task__department__name")
    ]
    return Figures(
        period=period,
        stage_rows=stage_rows,
        scenarios=scenarios,
        scenario_totals=scenario_totals,
        item_total=sum(scenario_totals),
        delivery=Share(total=delivery["total"], hits=delivery["on_time"]),
        turnaround=turnaround_of(reviews_in(period, now)),
        escalations=escalations,
        escalation_total=sum(e.count for e in escalations),
    )


# ---------------------------------------------------------------------------------------------
# The rows behind each figure: one declaration of columns for the page and the Excel file


@dataclass(frozen=True)
class Column:
    header: Promise
    value: Callable[[Any], Any]  # typed: times, dates and counts stay what they are in Excel
    width: int


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment else None


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _item_number(item: CollaborationItem) -> str:
    return item.number or ""


@dataclass(frozen=True)
class RowFigure:
    """A list page behind a figure: its title, its rows for the filters, its columns."""

    slug: str
    title: Promise
    columns: list[Column]
    rows: Callable[[Period, dict[str, str]], QuerySet[Any]]
    # The item each row belongs to, for the link in the page.
    item_of: Callable[[Any], CollaborationItem]


def _item_rows(period: Period, filters: dict[str, str]) -> QuerySet[CollaborationItem]:
    rows = submitted_items(period)
    if filters.get("status") in ItemStatus.values:
        rows = rows.filter(status=filters["status"])
    if filters.get("scenario") in Scenario.values:
        rows = rows.filter(scenario=filters["scenario"])
    return rows.select_related("requesting_department", "coordinator").order_by("submitted_at", "pk")


def _delivery_rows(period: Period, filters: dict[str, str]) -> QuerySet[Task]:
    rows = delivered_tasks(period)
    if filters.get("on_time") == "1":
        rows = rows.filter(ON_TIME_DELIVERY)
    elif filters.get("on_time") == "0":
        rows = rows.exclude(ON_TIME_DELIVERY)
    return rows.select_related("item", "owner", "department").order_by(F("done_at").asc(), "pk")


def _review_rows(period: Period, filters: dict[str, str]) -> QuerySet[DeliverableVersion]:
    rows = reviews_in(period)
    if filters.get("on_time") == "1":
        rows = rows.filter(ON_TIME_REVIEW)
    elif filters.get("on_time") == "0":
        rows = rows.exclude(ON_TIME_REVIEW)
    return rows.select_related(
        "deliverable__task__item", "deliverable__receiver__person__department"
    ).order_by("review_due_at", "pk")


def _escalation_rows(period: Period, filters: dict[str, str]) -> QuerySet[Alert]:
    rows = escalations_in(period)
    if (department := parse_whole_number(filters.get("department"))) is not None:
        rows = rows.filter(task__department_id=department)
    return rows.select_related("task__item", "task__owner", "task__department").order_by("sent_at", "pk")


def _receiver_department(version: DeliverableVersion) -> str:
    person = getattr(version.deliverable.receiver, "person", None)
    return str(person.department) if person is not None and person.department is not None else ""


ROW_FIGURES: dict[str, RowFigure] = {
    "items": RowFigure(
        slug="items",
        title=gettext_lazy("Items submitted in the period"),
        columns=[
            Column(gettext_lazy("Item number"), _item_number, 12),
            Column(gettext_lazy("Topic"), lambda i: i.topic, 30),
            Column(gettext_lazy("Scenario"), lambda i: str(i.get_scenario_display()), 14),
            Column(gettext_lazy("Status"), lambda i: str(i.get_status_display()), 14),
            Column(gettext_lazy("Requesting department"), lambda i: str(i.requesting_department), 14),
            Column(gettext_lazy("Coordinator"), lambda i: display_name(i.coordinator), 10),
            Column(gettext_lazy("Submitted"), lambda i: _local(i.submitted_at), 16),
        ],
        rows=_item_rows,
        item_of=lambda i: i,
    ),
    "deliveries": RowFigure(
        slug="deliveries",
        title=gettext_lazy("Tasks finished in the period"),
        columns=[
            Column(gettext_lazy("Item number"), lambda t: _item_number(t.item), 12),
            Column(gettext_lazy("Task"), lambda t: t.name, 30),
            Column(gettext_lazy("Owner"), lambda t: display_name(t.owner), 10),
            Column(gettext_lazy("Department"), lambda t: str(t.department), 12),
            Column(gettext_lazy("Deadline"), lambda t: t.deadline, 14),
            Column(gettext_lazy("Done (signed)"), lambda t: _local(t.done_at), 16),
            Column(gettext_lazy("On time"), lambda t: _yes_no(t.done_on <= t.deadline), 8),
        ],
        rows=_delivery_rows,
        item_of=lambda t: t.item,
    ),
    "reviews": RowFigure(
        slug="reviews",
        title=gettext_lazy("Reviews decided or overdue in the period"),
        columns=[
            Column(gettext_lazy("Item number"), lambda v: _item_number(v.deliverable.task.item), 12),
            Column(gettext_lazy("Deliverable"), lambda v: f"{v.deliverable.name} v{v.number}", 30),
            Column(gettext_lazy("Receiver"), lambda v: display_name(v.deliverable.receiver), 10),
            Column(gettext_lazy("Department"), _receiver_department, 12),
            Column(gettext_lazy("Submitted"), lambda v: _local(v.submitted_at), 16),
            Column(gettext_lazy("Review due"), lambda v: _local(v.review_due_at), 16),
            Column(gettext_lazy("Reviewed"), lambda v: _local(v.reviewed_at), 16),
            Column(
                gettext_lazy("On time"),
                lambda v: _yes_no(v.reviewed_at is not None and v.reviewed_at <= v.review_due_at),
                8,
            ),
        ],
        rows=_review_rows,
        item_of=lambda v: v.deliverable.task.item,
    ),
    "escalations": RowFigure(
        slug="escalations",
        title=gettext_lazy("Escalations sent in the period"),
        columns=[
            Column(gettext_lazy("Item number"), lambda a: _item_number(a.task.item), 12),
            Column(gettext_lazy("Task"), lambda a: a.task.name, 30),
            Column(gettext_lazy("Owner"), lambda a: display_name(a.task.owner), 10),
            Column(gettext_lazy("Department"), lambda a: str(a.task.department), 12),
            Column(gettext_lazy("Warning"), lambda a: str(a.get_kind_display()), 16),
            Column(gettext_lazy("Escalation step"), lambda a: a.step, 8),
            Column(gettext_lazy("Sent"), lambda a: _local(a.sent_at), 16),
        ],
        rows=_escalation_rows,
        item_of=lambda a: a.task.item,
    ),
}


# The filters a rows page accepts besides the period, each checked by the figure's queryset.
ROW_FILTERS = ("status", "scenario", "on_time", "department")


def row_filters(params: Any) -> dict[str, str]:
    """The row filters of a request's query (a QueryDict)."""
    return {key: params[key] for key in ROW_FILTERS if params.get(key)}


def row_values(figure: RowFigure, row: Any) -> list[str]:
    """One row as the page shows it."""
    return [as_text(column.value(row)) for column in figure.columns]


def rows_book(figure: RowFigure, period: Period, rows: QuerySet[Any]) -> XlsxBook:
    """The rows behind a figure as one sheet, read in chunks while the file streams."""
    book = XlsxBook(title=str(figure.title))
    book.table(
        sheet_title=str(figure.title),
        headers=[str(c.header) for c in figure.columns],
        rows=([c.value(row) for c in figure.columns] for row in rows.iterator(chunk_size=2000)),
        max_widths=[c.width for c in figure.columns],
        title=_period_title(str(figure.title), period),
    )
    return book


def _period_title(title: str, period: Period) -> str:
    return _("%(title)s, %(start)s to %(end)s") % {
        "title": title,
        "start": f"{period.start:%Y-%m-%d}",
        "end": f"{period.end:%Y-%m-%d}",
    }


def _percent(share: int | None) -> Percent | str:
    return Percent(share / 100) if share is not None else "-"


def figures_book(result: Figures) -> XlsxBook:
    """The management figures as a workbook: the summary, items by stage and scenario,
    escalations per department; counts as numbers, rates as percentages."""
    book = XlsxBook(title=_("Management figures"))
    summary: list[list[Any]] = [
        [_("Items submitted"), result.item_total, ""],
        [
            _("On-time delivery rate"),
            _percent(result.delivery.rate),
            _("%(hits)s of %(total)s finished tasks")
            % {"hits": result.delivery.hits, "total": result.delivery.total},
        ],
        [
            _("Review turnaround"),
            _percent(result.turnaround.rate),
            _("%(hits)s of %(total)s reviews within 1 working day")
            % {"hits": result.turnaround.on_time, "total": result.turnaround.total},
        ],
        [_("Escalations"), result.escalation_total, ""],
    ]
    book.table(
        sheet_title=_("Summary"),
        headers=[_("Figure"), _("Value"), _("Basis")],
        rows=summary,
        max_widths=[24, 10, 40],
        title=_period_title(_("Management figures"), result.period),
    )
    book.table(
        sheet_title=_("By stage and scenario"),
        headers=[_("Stage")] + [label for _value, label in result.scenarios] + [_("Total")],
        rows=[[row.label, *row.counts, row.total] for row in result.stage_rows]
        + [[_("Total"), *result.scenario_totals, result.item_total]],
        max_widths=[24] + [14] * len(result.scenarios) + [8],
    )
    book.table(
        sheet_title=_("Escalations per department"),
        headers=[_("Department"), _("Escalations")],
        rows=[[e.name, e.count] for e in result.escalations],
        max_widths=[24, 12],
    )
    return book
