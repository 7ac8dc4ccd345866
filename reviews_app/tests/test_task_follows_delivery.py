"""A task's status follows stage 5, and every figure, light and list that says "done" reads it.

Submitting a deliverable makes the task "delivered, under review"; a request for changes sends it
back to work; the second signature on its acceptance form makes it done, and no progress report
reopens it. A fully signed item reads all its tasks done in the management figures.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from collab.dashboards.management import Period, figures
from collab.testing import Org, assert_refused, client_for
from requests_app.models import CollaborationItem
from reviews_app.tests.delivery_support import (
    accept,
    plan_task,
    request_changes,
    revise,
    sign,
    started_item,
    submit,
)
from reviews_app.tests.test_archive_support import ready_item
from tasks_app import tracking_services
from tasks_app.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def status_of(task: Task) -> tuple[str, int]:
    task.refresh_from_db()
    return task.status, task.percent_done


def report(org: Org, task: Task, status: str = "in_progress", percent: int = 10) -> None:
    tracking_services.progress_report(
        actor=org.owner, task_id=task.pk, data=tracking_services.ReportData(status, percent, "继续推进")
    )


def test_the_task_follows_its_deliverable_from_review_to_done(org: Org) -> None:
    task = plan_task(started_item(org))
    deliverable = submit(org, task)
    assert status_of(task)[0] == TaskStatus.DELIVERED
    request_changes(org, deliverable)
    assert status_of(task)[0] == TaskStatus.IN_PROGRESS
    revise(org, deliverable)
    assert status_of(task)[0] == TaskStatus.DELIVERED
    accept(org, deliverable)
    sign(org.owner, deliverable, "deliverer")
    assert status_of(task)[0] == TaskStatus.DELIVERED  # one signature is not done
    sign(org.receiver, deliverable, "receiver")
    assert status_of(task) == (TaskStatus.DONE, 100)
    assert task.done_at is not None


def test_the_task_page_shows_delivered_under_review(org: Org) -> None:
    item = started_item(org)
    task = plan_task(item)
    submit(org, task)
    page = client_for(org.owner).get(
        reverse("tasks_app:progress", args=[item.pk]), headers={"accept-language": "en"}
    )
    assert "Delivered, under review" in page.content.decode()


def test_a_report_under_review_keeps_the_review_status(org: Org) -> None:
    task = plan_task(started_item(org))
    submit(org, task)
    report(org, task, "in_progress", 40)  # recorded, but the review decides the task's status
    assert status_of(task)[0] == TaskStatus.DELIVERED
    assert task.reports.count() == 1


def test_no_report_reopens_a_done_task(org: Org) -> None:
    task = plan_task(started_item(org))
    deliverable = submit(org, task)
    accept(org, deliverable)
    sign(org.owner, deliverable, "deliverer")
    sign(org.receiver, deliverable, "receiver")
    assert_refused(
        lambda: report(org, task),
        _("This task is done: both sides signed its acceptance form, so no report can reopen it."),
    )
    assert status_of(task) == (TaskStatus.DONE, 100) and task.reports.count() == 0


def test_a_report_cannot_say_done(org: Org) -> None:
    task = plan_task(started_item(org))
    refusal = assert_refused(lambda: report(org, task, "done", 100), _("The report is not complete."))
    assert list(refusal.problems) == ["status"]
    page = client_for(org.owner).get(reverse("tasks_app:task_report", args=[task.item_id, task.pk]))
    assert 'value="done"' not in page.content.decode() and 'value="delivered"' not in page.content.decode()


def test_a_fully_signed_item_reads_all_tasks_completed_in_the_management_figures(org: Org) -> None:
    item: CollaborationItem = ready_item(org)
    today = timezone.localdate()
    delivery = figures(Period(start=today - timedelta(days=1), end=today)).delivery
    assert delivery.total == Task.objects.filter(item=item).count() == 2
    assert set(Task.objects.filter(item=item).values_list("status", flat=True)) == {TaskStatus.DONE}
