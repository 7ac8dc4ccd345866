"""Management figures worked out by hand, at Tuesday 2026-10-20 12:00 in Shanghai; the default
period is the last 90 days, 2026-07-23 to 2026-10-20."""

from collections.abc import Iterator
from datetime import date
from io import BytesIO
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from collab.dashboards.management import ROW_FIGURES, Period, figures
from collab.dashboards.tests.support import alert, at, raw_item, raw_task, report, version
from collab.exports.models import Export, ExportStatus
from collab.testing import Org, client_for
from requests_app.models import ItemStatus, Scenario
from tasks_app.models import AlertKind, Task, TaskStatus

pytestmark = pytest.mark.django_db
DONE = TaskStatus.DONE


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(at("2026-10-20 12:00"), tick=False):
        yield


@pytest.fixture
def staff(org: Org) -> Client:
    org.outsider.is_staff = True
    org.outsider.save()
    return client_for(org.outsider)


def period() -> Period:
    return Period.default(date(2026, 10, 20))


def test_the_default_period_is_the_last_90_days() -> None:
    assert period() == Period(start=date(2026, 7, 23), end=date(2026, 10, 20))
    assert period().start_at == at("2026-07-23 00:00") and period().end_at == at("2026-10-21 00:00")


def deliveries(org: Org) -> dict[str, Task]:
    """Tasks done (both sides signed) at the given times, and some that are not done."""
    item = raw_item(org)
    tasks = {}

    def done_task(name: str, deadline: date, done: str | None, *, status: str = DONE) -> None:
        task = raw_task(org, item, name=name, deadline=deadline, status=status, percent=100)
        if done is not None:
            Task.objects.filter(pk=task.pk).update(done_at=at(done))
        tasks[name] = task

    done_task("late evening, on time", date(2026, 10, 9), "2026-10-09 23:30")
    # 00:30 in Shanghai is still 10-09 in UTC: the company's date decides.
    done_task("after midnight, late", date(2026, 10, 9), "2026-10-10 00:30")
    done_task("signed late", date(2026, 10, 12), "2026-10-13 10:00")
    done_task("signed on time", date(2026, 10, 12), "2026-10-10 10:00")
    done_task("before the holiday", date(2026, 10, 8), "2026-09-30 15:00")
    # A report saying "done" does not make a task done: only the signatures do.
    task = tasks["under review"] = raw_task(org, item, name="under review", status=TaskStatus.DELIVERED)
    report(task, "2026-10-08 10:00", status=TaskStatus.IN_PROGRESS, percent=100)
    done_task("still in progress", date(2026, 10, 8), None, status=TaskStatus.IN_PROGRESS)
    done_task("before the period", date(2026, 6, 1), "2026-06-01 10:00")
    return tasks


def test_on_time_delivery_rate(org: Org) -> None:
    deliveries(org)
    delivery = figures(period()).delivery
    # Counted: the first five; on time: late evening, signed on time, before the holiday.
    assert (delivery.hits, delivery.total, delivery.rate) == (3, 5, 60)


def test_the_rows_behind_the_delivery_rate(org: Org) -> None:
    deliveries(org)
    late = ROW_FIGURES["deliveries"].rows(period(), {"on_time": "0"})
    on_time = ROW_FIGURES["deliveries"].rows(period(), {"on_time": "1"})
    assert sorted(t.name for t in late) == ["after midnight, late", "signed late"]
    assert sorted(t.name for t in on_time) == [
        "before the holiday",
        "late evening, on time",
        "signed on time",
    ]
    signed = next(t for t in on_time if t.name == "signed on time")
    assert signed.done_at == at("2026-10-10 10:00")


def reviews(org: Org) -> None:
    task = raw_task(org, raw_item(org))
    # Due 1 working day after Wednesday 09-30 15:00, i.e. Thursday 10-08 15:00 after National Day.
    version(
        task,
        receiver=org.owner,
        submitted="2026-09-30 15:00",
        due="2026-10-08 15:00",
        reviewed="2026-10-08 10:00",
    )
    version(
        task,
        receiver=org.owner,
        submitted="2026-09-30 15:00",
        due="2026-10-08 15:00",
        reviewed="2026-10-08 16:00",
    )
    version(task, receiver=org.receiver, submitted="2026-10-16 10:00", due="2026-10-19 10:00")  # overdue
    version(
        task, receiver=org.receiver, submitted="2026-10-20 10:00", due="2026-10-21 10:00"
    )  # still running
    version(
        task,
        receiver=org.receiver,
        submitted="2026-10-20 10:00",
        due="2026-10-21 10:00",
        reviewed="2026-10-20 11:00",
    )


def test_review_turnaround_across_national_day(org: Org) -> None:
    reviews(org)
    turnaround = figures(period()).turnaround
    assert (turnaround.on_time, turnaround.total, turnaround.rate) == (2, 4, 50)
    late = ROW_FIGURES["reviews"].rows(period(), {"on_time": "0"})
    assert sorted(f"{v.review_due_at:%m-%d %H:%M}" for v in late) == ["10-08 07:00", "10-19 02:00"]  # UTC


def test_escalations_per_department(org: Org) -> None:
    item = raw_item(org)
    qa_task = raw_task(org, item)
    rnd_task = raw_task(org, item, owner=org.collaborator, department=org.rnd)
    alert(qa_task, kind=AlertKind.OVERDUE, step=1, due="2026-10-09 09:00", sent="2026-10-09 09:00")
    alert(qa_task, kind=AlertKind.OVERDUE, step=2, due="2026-10-12 09:00", sent="2026-10-12 09:00")
    alert(rnd_task, kind=AlertKind.REPORT_MISSING, step=1, due="2026-10-12 09:00", sent="2026-10-12 09:00")
    alert(rnd_task, kind=AlertKind.REPORT_MISSING, step=0, due="2026-10-09 09:00", sent="2026-10-09 09:00")
    alert(rnd_task, kind=AlertKind.REPORT_MISSING, step=2, due="2026-10-21 09:00")  # not sent
    alert(qa_task, kind=AlertKind.OVERDUE, step=1, due="2026-06-01 09:00", sent="2026-06-01 09:00")

    result = figures(period())
    assert [(e.name, e.count) for e in result.escalations] == [("测试部", 2), ("研发部", 1)]
    assert result.escalation_total == 3
    assert ROW_FIGURES["escalations"].rows(period(), {"department": str(org.rnd.pk)}).count() == 1


def test_items_by_stage_and_scenario(org: Org) -> None:
    raw_item(org, submitted="2026-09-20 10:00")
    raw_item(org, submitted="2026-10-01 10:00")
    raw_item(org, status=ItemStatus.SUBMITTED, scenario=Scenario.EMERGENCY, submitted="2026-10-19 10:00")
    raw_item(org, status=ItemStatus.CLOSED, scenario=Scenario.ROUTINE_SYNC, submitted="2026-07-23 00:00")
    raw_item(org, submitted="2026-07-22 23:59")  # the day before the period
    raw_item(org, status=ItemStatus.DRAFT)

    result = figures(period())
    cells = {(row.status, scenario): n for row in result.stage_rows for scenario, n in row.cells if n}
    assert cells == {
        (ItemStatus.EXECUTING, Scenario.CROSS_DEPARTMENT): 2,
        (ItemStatus.SUBMITTED, Scenario.EMERGENCY): 1,
        (ItemStatus.CLOSED, Scenario.ROUTINE_SYNC): 1,
    }
    assert result.item_total == 4
    rows = ROW_FIGURES["items"].rows(period(), {"status": "executing", "scenario": "cross_department"})
    assert rows.count() == 2


def test_the_page_links_every_figure_to_its_rows(org: Org, staff: Client) -> None:
    deliveries(org)
    body = staff.get(reverse("dashboards:management"), headers={"accept-language": "en"}).content.decode()
    query = "?start=2026-07-23&amp;end=2026-10-20"
    for slug in ROW_FIGURES:
        assert reverse("dashboards:figure_rows", args=[slug]) + query in body
    assert "60%" in body and "3 of 5 finished tasks" in body
    assert reverse("dashboards:management_export") + query in body


def test_a_rows_page_lists_the_rows_and_exports_them(org: Org, staff: Client) -> None:
    deliveries(org)
    url = reverse("dashboards:figure_rows", args=["deliveries"])
    response = staff.get(url, {"on_time": "0"}, headers={"accept-language": "en"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "after midnight, late" in body and "late evening, on time" not in body and "Late only" in body

    export = staff.get(reverse("dashboards:figure_rows_export", args=["deliveries"]), {"on_time": "0"})
    sheet = load_workbook(BytesIO(b"".join(export.streaming_content))).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "2026-07-23" in values[0][0] and "2026-10-20" in values[0][0]
    assert sorted(r[1] for r in values[3:]) == ["after midnight, late", "signed late"]


def test_exports_write_user_text_as_text(org: Org, staff: Client) -> None:
    raw_item(org, topic='=HYPERLINK("http://evil.example","点我")', submitted="2026-10-01 10:00")
    export = staff.get(reverse("dashboards:figure_rows_export", args=["items"]))
    sheet = load_workbook(BytesIO(b"".join(export.streaming_content))).active
    cell = next(row[1] for row in sheet.iter_rows(min_row=4) if row[1].value)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_the_figures_export_has_a_sheet_per_figure(org: Org, staff: Client) -> None:
    deliveries(org)
    reviews(org)
    export = staff.get(reverse("dashboards:management_export"), headers={"accept-language": "en"})
    assert export["Content-Disposition"].startswith("attachment")
    book = load_workbook(BytesIO(b"".join(export.streaming_content)))
    assert book.sheetnames == ["Summary", "By stage and scenario", "Escalations per department"]
    summary = {row[0].value: row[1] for row in book["Summary"].iter_rows(min_row=4)}
    # Rates are percentages and counts numbers, so Excel can calculate with them.
    rate, turnaround = summary["On-time delivery rate"], summary["Review turnaround"]
    assert (rate.value, turnaround.value) == (0.6, 0.5)
    assert rate.data_type == "n" and rate.number_format == "0%"
    assert summary["Items submitted"].data_type == "n"
    assert summary["Items submitted"].number_format == "#,##0"
    assert book["Summary"].freeze_panes == "A4"
    stages = list(book["By stage and scenario"].iter_rows(min_row=2, values_only=True))
    assert all(isinstance(count, int) for row in stages for count in row[1:])


def test_a_chosen_period_changes_the_figures(org: Org, staff: Client) -> None:
    deliveries(org)
    response = staff.get(reverse("dashboards:management"), {"start": "2026-10-10", "end": "2026-10-13"})
    delivery = response.context["figures"].delivery
    # after midnight (10-10), signed late (10-13), signed on time (10-10).
    assert (delivery.hits, delivery.total) == (1, 3)


def test_only_staff_see_the_management_pages(org: Org) -> None:
    client = client_for(org.qa_head)
    for url in [
        reverse("dashboards:management"),
        reverse("dashboards:management_export"),
        reverse("dashboards:figure_rows", args=["items"]),
        reverse("dashboards:figure_rows_export", args=["items"]),
    ]:
        assert client.get(url).status_code == 403, url


def test_an_unknown_figure_is_not_found(staff: Client) -> None:
    assert staff.get(reverse("dashboards:figure_rows", args=["salaries"])).status_code == 404


def test_many_rows_are_exported_in_the_background_for_the_staff_member(
    org: Org, staff: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.COLLAB_EXPORT_BACKGROUND_ROWS = 1
    deliveries(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.get(reverse("dashboards:figure_rows_export", args=["deliveries"]), {"on_time": "0"})
    export = Export.objects.get()
    assert response["Location"] == reverse("exports:export", args=[export.pk])
    assert export.status == ExportStatus.READY and export.kind == "figure-deliveries", export.error
    download = staff.get(reverse("exports:download", args=[export.pk]))
    values = [list(r) for r in load_workbook(BytesIO(b"".join(download.streaming_content))).active.values]
    assert sorted(r[1] for r in values[3:]) == ["after midnight, late", "signed late"]
    assert client_for(org.coordinator).get(reverse("exports:export", args=[export.pk])).status_code == 404
