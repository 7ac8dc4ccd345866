"""The item timeline at Wednesday 2026-09-30 10:00 in Shanghai: the template's item with
milestones 10-08 and 10-15, across National Day (10-01..10-07) and the make-up Saturday 10-10."""

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from collab.dashboards.prepared import STAND_IN_NOW
from collab.dashboards.tests.support import at, raw_task
from collab.dashboards.timeline import (
    MAX_DAYS,
    Timeline,
    _tasks_of,
    _tasks_statement,
    build_timeline,
    timeline_milestones,
    timeline_tasks,
)
from collab.org.calendar import calendar_for, day_label
from collab.org.models import CalendarOverride
from collab.testing import Org, client_for, make_item
from requests_app.models import CollaborationItem, ItemStatus
from tasks_app.models import TaskStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-09-30 10:00"), tick=False):
        yield


@pytest.fixture
def item(org: Org) -> CollaborationItem:
    item = make_item(org)
    # Straight to execution (its tasks are written here, without the breakdown).
    CollaborationItem.objects.filter(pk=item.pk).update(status=ItemStatus.EXECUTING)
    item.refresh_from_db()
    raw_task(
        org, item, name="提交测试计划", deadline=date(2026, 10, 9), created="2026-09-29 10:00", percent=40
    )
    raw_task(org, item, name="逾期任务", deadline=date(2026, 9, 29), created="2026-09-28 10:00")
    raw_task(
        org,
        item,
        name="已完成",
        deadline=date(2026, 9, 29),
        created="2026-09-28 10:00",
        status=TaskStatus.DONE,
    )
    return item


def chart(item: CollaborationItem) -> Timeline:
    return build_timeline(item, timeline_tasks(item), timeline_milestones(item), calendar_for(None))


def test_the_span_covers_the_work_and_today_with_a_margin(item: CollaborationItem) -> None:
    timeline = chart(item)
    # Earliest: the late task assigned 09-28; latest: the milestone 10-15; two days either side.
    assert (timeline.start, timeline.end, timeline.columns) == (date(2026, 9, 26), date(2026, 10, 17), 22)
    assert timeline.today_shown and [d.day for d in timeline.days if d.today] == [date(2026, 9, 30)]


def test_days_off_are_shaded_and_the_make_up_saturday_works(item: CollaborationItem) -> None:
    with translation.override("en"):
        days = {d.day: d for d in chart(item).days}
    off = sorted(day for day, d in days.items() if not d.working)
    assert off == [
        date(2026, 9, 26),  # Mid-Autumn Festival
        date(2026, 9, 27),
        *(date(2026, 10, n) for n in range(1, 8)),  # National Day
        date(2026, 10, 11),
        date(2026, 10, 17),
    ]
    assert days[date(2026, 10, 10)].working and days[date(2026, 10, 10)].makeup
    assert days[date(2026, 10, 10)].label == "make-up workday for National Day"
    assert days[date(2026, 10, 1)].label == "National Day"


def test_a_company_day_off_is_shaded_too(item: CollaborationItem) -> None:
    CalendarOverride.objects.create(date=date(2026, 10, 9), is_workday=False, note="司庆")
    days = {d.day: d for d in chart(item).days}
    assert not days[date(2026, 10, 9)].working


def test_the_day_grid_is_drawn_again_when_what_decides_it_changes(org: Org, item: CollaborationItem) -> None:
    """The grid is kept for the same days, calendar and language: an override saved after a
    first view shows on the next, and each language has its own labels."""
    url = reverse("dashboards:timeline", args=[item.pk])
    client = client_for(org.coordinator)

    def header(day: str, language: str) -> str:
        body = client.get(url, headers={"accept-language": language}).content.decode()
        found = re.search(rf'<div class="tl-day[^"]*"[^>]*title="{day} [^"]*"[^>]*data-day="{day}"', body)
        assert found
        return found.group(0)

    for _ in range(2):
        assert header("2026-10-09", "en") == (
            '<div class="tl-day" style="grid-column: 15" title="2026-10-09 working day" data-day="2026-10-09"'
        )
    override = CalendarOverride.objects.create(date=date(2026, 10, 9), is_workday=False, note="司庆")
    assert 'class="tl-day off"' in header("2026-10-09", "en") and "company day off" in header(
        "2026-10-09", "en"
    )
    assert "公司休息日" in header("2026-10-09", "zh-hans")
    override.delete()
    assert header("2026-10-09", "en").startswith('<div class="tl-day" ')
    with translation.override("en"):
        assert chart(item).grid is chart(item).grid  # the same days: drawn once


def test_bars_run_from_assignment_to_deadline_and_late_ones_are_marked(item: CollaborationItem) -> None:
    bars = {b.task.name: b for b in chart(item).bars}
    plan = bars["提交测试计划"]
    # Column 1 holds the labels; 09-26 is column 2, so 09-29 is 5 and 10-09 is 15 (exclusive 16).
    assert (plan.start_column, plan.end_column, plan.late) == (5, 16, False)
    assert bars["逾期任务"].late and not bars["已完成"].late and bars["已完成"].done
    # Due 09-29 (column 5), late today 09-30: the overrun covers column 6.
    assert bars["逾期任务"].overrun == (6, 7) and plan.overrun is None and bars["已完成"].overrun is None


def test_a_bar_starts_on_the_day_it_was_assigned_in_the_companys_time_zone(
    org: Org, item: CollaborationItem
) -> None:
    # 00:30 in Shanghai is still 09-28 in UTC: the bar starts 09-29 all the same.
    raw_task(org, item, name="半夜分配", deadline=date(2026, 10, 9), created="2026-09-29 00:30")
    timeline = chart(item)
    bar = next(b for b in timeline.bars if b.task.name == "半夜分配")
    assert timeline.days[bar.start_column - 2].day == date(2026, 9, 29)


def test_each_day_is_labelled_as_the_calendar_names_it(org: Org, item: CollaborationItem) -> None:
    """The labels are worked out once per kind of day: the same words as for each day alone,
    company overrides included."""
    CalendarOverride.objects.create(date=date(2026, 10, 9), is_workday=False, note="司庆")
    CalendarOverride.objects.create(date=date(2026, 10, 11), is_workday=True, note="加班")
    raw_task(org, item, name="明年", deadline=date(2027, 6, 1))
    calendar = calendar_for(None)
    with translation.override("en"):
        days = chart(item).days
        assert days[-1].day == date(2027, 6, 3)  # into a year without a published schedule
        assert [d.label for d in days] == [day_label(calendar.day_kind(d.day)) for d in days]
        labels = {d.day: d.label for d in days}
    assert (
        labels[date(2026, 10, 9)] == "company day off" and labels[date(2026, 10, 11)] == "extra working day"
    )
    assert labels[date(2026, 10, 10)] == "make-up workday for National Day"


def test_milestones_sit_on_their_dates(item: CollaborationItem) -> None:
    marks = [(m.milestone.name, m.column) for m in chart(item).milestones]
    assert marks == [("需求确认", 14), ("测试完成", 21)]


def test_a_long_item_is_drawn_densely_and_cut_at_a_year(org: Org, item: CollaborationItem) -> None:
    raw_task(org, item, name="明年", deadline=date(2028, 3, 1))
    timeline = chart(item)
    assert timeline.dense and timeline.columns == MAX_DAYS
    assert next(b for b in timeline.bars if b.task.name == "明年").clipped


def test_the_page_for_a_participant_and_not_for_an_outsider(org: Org, item: CollaborationItem) -> None:
    url = reverse("dashboards:timeline", args=[item.pk])
    response = client_for(org.coordinator).get(url, headers={"accept-language": "en"})
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'class="tl-day makeup"[^>]*data-day="2026-10-10"', body)
    assert 'class="tl-row tl-task late"' in body and "Weekend or public holiday" in body
    assert client_for(org.outsider).get(url).status_code == 404


def test_the_rows_written_without_the_template_engine_escape_and_translate(
    org: Org, item: CollaborationItem
) -> None:
    task = raw_task(
        org, item, name='<b onclick="x">加粗</b>', deadline=date(2026, 9, 28), created="2026-09-27 10:00"
    )
    body = client_for(org.coordinator).get(reverse("dashboards:timeline", args=[item.pk])).content.decode()
    assert '<b onclick="x">' not in body
    assert "&lt;b onclick=&quot;x&quot;&gt;加粗&lt;/b&gt;" in body
    link = reverse("tasks_app:task_detail", args=[item.pk, task.pk])
    assert (
        f'<div class="tl-row tl-task late" data-task="{task.pk}"><div class="tl-label"><a href="{link}">'
        in body
    )
    assert '<span class="tag danger">滞后</span>' in body and 'data-label="责任人"' in body
    assert re.search(r'<span class="off" style="grid-column: \d+"></span>', body)


def test_the_page_takes_the_same_queries_for_few_or_many_tasks(org: Org, item: CollaborationItem) -> None:
    client = client_for(org.coordinator)
    url = reverse("dashboards:timeline", args=[item.pk])

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for n in range(15):
        raw_task(
            org,
            item,
            name=f"任务{n}",
            deadline=date(2026, 10, 12),
            owner=org.collaborator,
            department=org.rnd,
        )
    assert count() == few


def test_the_tasks_statement_is_the_querysets_own_and_reads_what_the_orm_reads(
    org: Org, item: CollaborationItem
) -> None:
    """Compiled once for a stand-in item: for the real one, the SQL the ORM compiles and its rows."""
    statement = _tasks_statement()
    assert statement is _tasks_statement()
    sql, params = _tasks_of(item.pk).query.get_compiler(connection=connection).as_sql()
    assert (statement.statement.sql, statement.statement.filled(connection, item.pk, STAND_IN_NOW)) == (
        sql,
        list(params),
    )
    rows = [tuple(row) for row in statement.tuples(item.pk, STAND_IN_NOW)]
    assert len(rows) == 3 and rows == list(_tasks_of(item.pk))


def test_the_timeline_prints_on_a_landscape_page() -> None:
    css = (Path(settings.BASE_DIR) / "static" / "css" / "collab.css").read_text()
    assert ".timeline-page { page: timeline; }" in css
    assert "@page timeline { size: A4 landscape;" in css
