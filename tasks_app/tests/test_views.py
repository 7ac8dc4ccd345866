"""The task sheet's pages: who may do what, what bad input does (nothing), and what they cost."""

import html
import io
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from collab.notify.models import Notification
from collab.org.models import Person, Region
from collab.testing import Org, client_for, make_item
from requests_app.models import CollaborationItem, ItemStatus, Todo
from tasks_app import services
from tasks_app.models import DepartmentExemption, Task
from tasks_app.tests.support import cover_everything, task_data, todos

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en"}


def text(response: Any) -> str:
    """The page as a person reads it (entities such as &quot; decoded)."""
    return html.unescape(response.content.decode())


def form_post(org: Org, **overrides: Any) -> dict[str, Any]:
    """What the browser posts for the template's first assignment."""
    data: dict[str, Any] = {
        "name": "提交测试计划",
        "department": org.qa.pk,
        "owner": org.owner.pk,
        "collaborators": [org.collaborator.pk],
        "delivery_standard": "测试用例覆盖率≥95%",
        "deadline": "2026-10-09",
        "receiver": org.receiver.pk,
    }
    data.update(overrides)
    return data


@pytest.fixture
def planned(org: Org, item: CollaborationItem) -> dict[str, Any]:
    """An item in planning with one task, one open to-do and one exemption, and their URLs."""
    task = services.task_create(
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org),
        source_todo_id=todos(item)["提交测试计划"].pk,
    )
    exemption = services.department_exempt(
        actor=org.coordinator, item_id=item.pk, department_id=org.rnd.pk, reason="只需知会"
    )
    todo = todos(item)["完成功能修复"]
    pk = item.pk
    return {
        "item": item,
        "task": task,
        "todo": todo,
        "exemption": exemption,
        "get": {
            "sheet": reverse("tasks_app:task_sheet", args=[pk]),
            "print": reverse("tasks_app:task_sheet_print", args=[pk]),
            "export": reverse("tasks_app:task_sheet_export", args=[pk]),
        },
        "form": {
            "create": reverse("tasks_app:task_create", args=[pk]),
            "edit": reverse("tasks_app:task_edit", args=[pk, task.pk]),
        },
        "post": {
            "drop": reverse("tasks_app:todo_drop", args=[pk, todo.pk]),
            "exempt": reverse("tasks_app:department_exempt", args=[pk]),
            "unexempt": reverse("tasks_app:exemption_remove", args=[pk, exemption.pk]),
            "start": reverse("tasks_app:start_execution", args=[pk]),
        },
    }


def snapshot() -> tuple[Any, ...]:
    """The stage's rows, to show that a refused request changed nothing."""
    return (
        list(Task.objects.order_by("pk").values_list("pk", "name", "version", "deadline")),
        list(Todo.objects.order_by("pk").values_list("pk", "dropped_at")),
        list(DepartmentExemption.objects.order_by("pk").values_list("pk", "reason")),
        list(CollaborationItem.objects.order_by("pk").values_list("pk", "status", "version")),
    )


# --- access ------------------------------------------------------------------------------------


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(planned: dict[str, Any]) -> None:
    urls = {**planned["get"], **planned["form"], **planned["post"]}
    urls["check"] = reverse("tasks_app:check_task_field")
    before = snapshot()
    for name, url in urls.items():
        method = Client().get if name in planned["get"] or name in planned["form"] else Client().post
        response = method(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    assert snapshot() == before


def test_an_outsider_gets_404_everywhere(org: Org, planned: dict[str, Any]) -> None:
    client = client_for(org.outsider)
    before = snapshot()
    for name, url in {**planned["get"], **planned["form"]}.items():
        assert client.get(url).status_code == 404, name
    for name, url in {**planned["form"], **planned["post"]}.items():
        assert client.post(url, {"reason": "x", "department": org.qa.pk}).status_code == 404, name
    assert snapshot() == before


def test_a_participant_reads_but_gets_403_on_every_write(org: Org, planned: dict[str, Any]) -> None:
    client = client_for(org.qa_head)
    before = snapshot()
    for name, url in planned["get"].items():
        assert client.get(url).status_code == 200, name
    for name, url in planned["form"].items():
        assert client.get(url).status_code == 403, name
        assert client.post(url, form_post(org, name="改名")).status_code == 403, name
    for name, url in planned["post"].items():
        assert client.post(url, {"reason": "x", "department": org.qa.pk}).status_code == 403, name
    assert snapshot() == before


def test_a_task_owner_outside_the_item_can_read_the_sheet(org: Org, item: CollaborationItem) -> None:
    services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org, receiver_id=org.outsider.pk)
    )
    response = client_for(org.outsider).get(reverse("tasks_app:task_sheet", args=[item.pk]))
    assert response.status_code == 200 and "提交测试计划" in text(response)


def test_post_only_actions_refuse_get(org: Org, planned: dict[str, Any]) -> None:
    client = client_for(org.coordinator)
    for name, url in planned["post"].items():
        assert client.get(url).status_code == 405, name
    assert client.get(reverse("tasks_app:check_task_field")).status_code == 405
    for name, url in planned["get"].items():
        assert client.post(url).status_code == 405, name


# --- the sheet ---------------------------------------------------------------------------------


def test_the_sheet_shows_tasks_open_todos_departments_and_gaps(org: Org, planned: dict[str, Any]) -> None:
    response = client_for(org.coordinator).get(planned["get"]["sheet"], headers=EN)
    body = text(response)
    for expected in ("提交测试计划", "测试部", "吴杰", "孙磊", "测试用例覆盖率≥95%", "2026-10-09", "钱多"):
        assert expected in body, expected
    assert 'The to-do "完成功能修复" has neither become a task nor been dropped with a reason.' in body
    assert f"?todo={planned['todo'].pk}" in body  # "make a task" from the open to-do
    assert planned["post"]["drop"] in body and planned["post"]["unexempt"] in body
    assert "只需知会" in body
    assert planned["post"]["start"] in body
    task = planned["task"]  # each task's name opens the task's page
    assert (
        f'<a href="{reverse("tasks_app:task_detail", args=[task.item_id, task.pk])}">{task.name}</a>' in body
    )


def test_a_participant_sees_the_sheet_without_its_buttons(org: Org, planned: dict[str, Any]) -> None:
    body = text(client_for(org.collaborator).get(planned["get"]["sheet"]))
    assert "提交测试计划" in body
    for url in (*planned["post"].values(), *planned["form"].values()):
        assert url not in body


def test_before_consensus_the_sheet_says_what_is_missing(org: Org) -> None:
    item = make_item(org)
    client = client_for(org.coordinator)
    body = text(client.get(reverse("tasks_app:task_sheet", args=[item.pk]), headers=EN))
    assert "confirmed by every participating department" in body
    assert reverse("tasks_app:task_create", args=[item.pk]) not in body
    response = client.get(reverse("tasks_app:task_create", args=[item.pk]))
    assert response.status_code == 302 and not Task.objects.exists()


def test_a_deadline_on_a_day_off_is_marked_on_the_sheet(org: Org, item: CollaborationItem) -> None:
    services.task_create(
        actor=org.coordinator, item_id=item.pk, data=task_data(org, deadline=date(2026, 10, 1))
    )
    body = text(client_for(org.coordinator).get(reverse("tasks_app:task_sheet", args=[item.pk]), headers=EN))
    assert "National Day" in body


def _count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def test_the_sheet_and_its_export_take_the_same_queries_for_2_or_12_tasks(
    org: Org, item: CollaborationItem
) -> None:
    client = client_for(org.coordinator)
    urls = [
        reverse("tasks_app:task_sheet", args=[item.pk]),
        reverse("tasks_app:task_sheet_export", args=[item.pk]),
        reverse("tasks_app:task_sheet_print", args=[item.pk]),
    ]
    cover_everything(org, item)
    small = [_count_queries(client, url) for url in urls]
    for n in range(10):
        services.task_create(
            actor=org.coordinator,
            item_id=item.pk,
            data=task_data(org, name=f"任务{n}", collaborator_ids=[org.collaborator.pk, org.qa_head.pk]),
        )
    large = [_count_queries(client, url) for url in urls]
    assert small == large
    # The sheet: + 1 query per owner region for its calendar (one region here).
    assert large[0] <= 15 and large[1] <= 7 and large[2] <= 9


def as_day(value: Any) -> Any:
    """Excel hands dates back as datetimes at midnight."""
    return value.date() if isinstance(value, datetime) else value


def test_the_excel_export_holds_the_sheet(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org, name="=HYPERLINK(1)"))
    response = client_for(org.qa_head).get(reverse("tasks_app:task_sheet_export", args=[item.pk]), headers=EN)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert item.number and item.number in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = [[as_day(cell.value) for cell in row] for row in sheet.iter_rows()]
    assert item.topic in rows[0][0]
    assert rows[2] == [
        "No.",
        "Task",
        "Department",
        "Owner",
        "Collaborators",
        "Delivery standard",
        "Deadline",
        "Receiver",
    ]
    assert rows[3] == [
        1,
        "提交测试计划",
        "测试部",
        "吴杰",
        "孙磊",
        "测试用例覆盖率≥95%",
        date(2026, 10, 9),
        "钱多",
    ]
    deadline = sheet.cell(row=4, column=7)
    assert deadline.is_date and deadline.number_format == 'yyyy"年"m"月"d"日"'
    assert sheet.cell(row=4, column=1).data_type == "n" and sheet.freeze_panes == "A4"
    assert rows[4][1] == "=HYPERLINK(1)" and sheet.cell(row=5, column=2).data_type == "s"
    assert rows[5][:3] == [3, "完成功能修复", "研发部"]
    assert len(rows) == 6


def test_the_printable_sheet_lists_every_task(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    body = text(client_for(org.collaborator).get(reverse("tasks_app:task_sheet_print", args=[item.pk])))
    for expected in (
        "任务分解与分配表",
        item.number or "",
        "提交测试计划",
        "完成功能修复",
        "P0、P1缺陷修复率100%",
    ):
        assert expected in body, expected


# --- creating and editing tasks ----------------------------------------------------------------


def test_the_coordinator_assigns_a_task_and_its_people_are_told(org: Org, item: CollaborationItem) -> None:
    response = client_for(org.coordinator).post(
        reverse("tasks_app:task_create", args=[item.pk]), form_post(org)
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "tasks_app:task_sheet", args=[item.pk]
    )
    task = Task.objects.get()
    assert (task.name, task.owner, task.deadline) == ("提交测试计划", org.owner, date(2026, 10, 9))
    assert list(task.collaborators.all()) == [org.collaborator]
    item.refresh_from_db()
    assert item.status == ItemStatus.PLANNED
    assert set(
        Notification.objects.filter(kind="task.assigned").values_list("recipient__username", flat=True)
    ) == {
        "owner",
        "collaborator",
        "receiver",
    }


def test_make_a_task_prefills_the_form_from_the_todo(org: Org, item: CollaborationItem) -> None:
    todo = todos(item)["提交测试计划"]
    client = client_for(org.coordinator)
    url = reverse("tasks_app:task_create", args=[item.pk])
    form = client.get(url, {"todo": todo.pk}).context["form"]
    assert form.initial["name"] == "提交测试计划"
    assert form.initial["owner"] == org.owner.pk
    assert form.initial["deadline"] == date(2026, 10, 5)
    assert form.initial["department"] == org.qa.pk
    posted = form_post(org, todo=todo.pk, deadline="2026-10-05")
    asked = client.post(url, posted)  # 2026-10-05 is in the National Day holiday
    assert "2026-10-08" in text(asked) and not Task.objects.exists()
    response = client.post(url, {**posted, "day_off": "keep", "day_off_seen": "deadline=2026-10-05"})
    assert response.status_code == 302
    assert Task.objects.get().source_todo == todo
    # The to-do is no longer open: making a second task from it is refused.
    again = client.get(url, {"todo": todo.pk})
    assert again.status_code == 302 and Task.objects.count() == 1


def test_a_vague_standard_is_named_and_nothing_is_saved(org: Org, item: CollaborationItem) -> None:
    response = client_for(org.coordinator).post(
        reverse("tasks_app:task_create", args=[item.pk]), form_post(org, delivery_standard="尽快完成测试计划")
    )
    assert response.status_code == 200
    assert "尽快" in response.context["form"].errors["delivery_standard"][0]
    assert not Task.objects.exists()
    item.refresh_from_db()
    assert item.status == ItemStatus.CONSENSUS


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"deadline": "下周"}, "deadline"),
        ({"deadline": ""}, "deadline"),
        ({"owner": ""}, "owner"),
        ({"receiver": ""}, "receiver"),
        ({"delivery_standard": ""}, "delivery_standard"),
        ({"department": "999999"}, "department"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(
    org: Org, item: CollaborationItem, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(org.coordinator).post(
        reverse("tasks_app:task_create", args=[item.pk]), form_post(org, **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Task.objects.exists()


def test_the_owner_listed_as_a_collaborator_is_explained(org: Org, item: CollaborationItem) -> None:
    response = client_for(org.coordinator).post(
        reverse("tasks_app:task_create", args=[item.pk]),
        form_post(org, collaborators=[org.collaborator.pk, org.owner.pk]),
    )
    assert "collaborators" in response.context["form"].errors
    assert not Task.objects.exists()


def test_a_department_outside_the_item_is_not_offered(org: Org, item: CollaborationItem) -> None:
    response = client_for(org.coordinator).post(
        reverse("tasks_app:task_create", args=[item.pk]), form_post(org, department=org.finance.pk)
    )
    assert "department" in response.context["form"].errors and not Task.objects.exists()


def test_a_deadline_on_national_day_is_asked_about_before_saving(org: Org, item: CollaborationItem) -> None:
    client = client_for(org.coordinator)
    url = reverse("tasks_app:task_create", args=[item.pk])
    asked = client.post(url, form_post(org, deadline="2026-10-01"), headers=EN)
    assert (
        'Task "提交测试计划", deadline: 2026-10-01 (Thursday) is not a working day (National Day). Keep it, '
        "or move it to the next working day, 2026-10-08 (Thursday)?"
    ) in text(asked)
    assert not Task.objects.exists()
    answer = {
        "day_off": "move",
        "day_off_seen": "deadline=2026-10-01",
        "day_off_move": "deadline=2026-10-01>2026-10-08",  # the day the question named
    }
    client.post(url, {**form_post(org, deadline="2026-10-01"), **answer}, headers=EN)
    assert Task.objects.get().deadline == date(2026, 10, 8)


def test_a_deadline_on_national_day_is_questioned_when_the_form_comes_back(
    org: Org, item: CollaborationItem
) -> None:
    response = client_for(org.coordinator).post(
        reverse("tasks_app:task_create", args=[item.pk]),
        form_post(org, deadline="2026-10-01", delivery_standard="ASAP"),
        headers=EN,
    )
    body = text(response)
    assert '"ASAP" is vague' in body
    assert "2026-10-01 is not a working day (National Day)" in body
    assert not Task.objects.exists()


def test_the_deadline_is_checked_while_the_person_picks_it(org: Org) -> None:
    client = client_for(org.coordinator)
    url = reverse("tasks_app:check_task_field")
    holiday = client.post(url, {"field": "deadline", "deadline": "2026-10-01"}, headers=EN)
    assert "2026-10-01 is not a working day (National Day)" in text(holiday)
    makeup = client.post(url, {"field": "deadline", "deadline": "2026-10-10"}, headers=EN)
    assert text(makeup).strip() == ""
    nonsense = client.post(url, {"field": "deadline", "deadline": "2026-02-30"})
    assert text(nonsense).strip() == ""
    vague = client.post(url, {"field": "delivery_standard", "delivery_standard": "尽快完成"})
    assert "尽快" in text(vague)


def test_a_deadline_is_judged_in_the_owners_region(org: Org) -> None:
    berlin = Region.objects.create(code="de", name="Berlin", timezone="Europe/Berlin", holiday_calendar="DE")
    Person.objects.filter(user=org.owner).update(region=berlin)
    client = client_for(org.coordinator)
    url = reverse("tasks_app:check_task_field")
    owner = str(org.owner.pk)
    # National Day is a working day in Berlin; Christmas Day is not.
    national_day = client.post(
        url, {"field": "deadline", "deadline": "2026-10-01", "owner": owner}, headers=EN
    )
    assert text(national_day).strip() == ""
    christmas = client.post(url, {"field": "deadline", "deadline": "2026-12-25", "owner": owner}, headers=EN)
    assert "2026-12-25 is not a working day (Christmas Day)" in text(christmas)
    # Without an owner chosen yet: the company calendar.
    company = client.post(url, {"field": "deadline", "deadline": "2026-10-01"}, headers=EN)
    assert "National Day" in text(company)


def test_the_day_off_question_uses_the_owners_calendar_like_the_hint(
    org: Org, item: CollaborationItem
) -> None:
    """The hint under the field and the question before saving never disagree: both judge the
    deadline in the owner's region (Berlin here), not the company's (China)."""
    berlin = Region.objects.create(code="de", name="Berlin", timezone="Europe/Berlin", holiday_calendar="DE")
    Person.objects.filter(user=org.owner).update(region=berlin)
    client = client_for(org.coordinator)
    url = reverse("tasks_app:task_create", args=[item.pk])
    # National Day: a working day in Berlin, so no question, and the task is saved as it is.
    response = client.post(url, form_post(org, deadline="2026-10-05"), headers=EN)
    assert response.status_code == 302
    assert Task.objects.get().deadline == date(2026, 10, 5)
    Task.objects.all().delete()
    # Christmas Day: a working day in China, a holiday in Berlin: asked, with Berlin's next
    # working day (26 December is a holiday there too, then a weekend).
    asked = client.post(url, form_post(org, deadline="2026-12-25"), headers=EN)
    assert (
        "2026-12-25 (Friday) is not a working day (Christmas Day). Keep it, or move it to the next "
        "working day, 2026-12-28 (Monday)?"
    ) in text(asked)
    assert not Task.objects.exists()
    hint = client.post(
        reverse("tasks_app:check_task_field"),
        {"field": "deadline", "deadline": "2026-12-25", "owner": str(org.owner.pk)},
        headers=EN,
    )
    assert "2026-12-25 is not a working day (Christmas Day)" in text(hint)
    # "Move" takes the day the question named, from Berlin's calendar.
    moved = {**form_post(org, deadline="2026-12-25"), "day_off": "move"}
    moved["day_off_seen"] = asked.context["days_off"][0].token
    moved["day_off_move"] = asked.context["days_off"][0].move_token
    assert client.post(url, moved, headers=EN).status_code == 302
    assert Task.objects.get().deadline == date(2026, 12, 28)


def test_the_coordinator_edits_a_task(org: Org, planned: dict[str, Any]) -> None:
    task = planned["task"]
    client = client_for(org.coordinator)
    form = client.get(planned["form"]["edit"]).context["form"]
    assert form.initial["collaborators"] == [org.collaborator.pk]
    response = client.post(
        planned["form"]["edit"], form_post(org, deadline="2026-10-12", version=task.version)
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.deadline, task.version) == (date(2026, 10, 12), 2)


def test_a_stale_edit_is_refused_and_loses_nothing(org: Org, planned: dict[str, Any]) -> None:
    task = planned["task"]
    client = client_for(org.coordinator)
    client.post(planned["form"]["edit"], form_post(org, name="协调人先改", version=task.version))
    response = client.post(planned["form"]["edit"], form_post(org, name="发起人后改", version=task.version))
    assert response.status_code == 200 and "发起人后改" in text(response)
    task.refresh_from_db()
    assert task.name == "协调人先改"


def test_an_edit_of_a_task_of_another_item_is_404(org: Org, planned: dict[str, Any]) -> None:
    other = make_item(org, topic="另一个事项")
    url = reverse("tasks_app:task_edit", args=[other.pk, planned["task"].pk])
    assert client_for(org.coordinator).get(url).status_code == 404


# --- to-dos, departments and the start of execution --------------------------------------------


def test_dropping_a_todo_without_a_reason_changes_nothing(org: Org, planned: dict[str, Any]) -> None:
    client = client_for(org.coordinator)
    before = snapshot()
    response = client.post(planned["post"]["drop"], {"reason": "  "}, follow=True)
    assert response.status_code == 200 and len(list(response.context["messages"])) == 1
    assert snapshot() == before
    client.post(planned["post"]["drop"], {"reason": "会上已解决"})
    planned["todo"].refresh_from_db()
    assert planned["todo"].dropped_reason == "会上已解决"


def test_exempting_a_department_without_a_reason_changes_nothing(org: Org, planned: dict[str, Any]) -> None:
    client = client_for(org.coordinator)
    client.post(planned["post"]["unexempt"])
    before = snapshot()
    for data in (
        {"department": org.rnd.pk, "reason": ""},
        {"department": "x", "reason": "y"},
        {"reason": "y"},
    ):
        client.post(planned["post"]["exempt"], data)
    client.post(planned["post"]["exempt"], {"department": org.finance.pk, "reason": "不参与"})
    assert snapshot() == before
    client.post(planned["post"]["exempt"], {"department": org.rnd.pk, "reason": "只需知会"})
    assert DepartmentExemption.objects.get().department == org.rnd


def test_start_execution_shows_the_gaps_then_starts(org: Org, planned: dict[str, Any]) -> None:
    item = planned["item"]
    client = client_for(org.coordinator)
    item.refresh_from_db()
    response = client.post(planned["post"]["start"], {"version": item.version}, headers=EN, follow=True)
    assert 'The to-do "完成功能修复" has neither become a task' in text(response)
    item.refresh_from_db()
    assert item.status == ItemStatus.PLANNED
    client.post(planned["post"]["drop"], {"reason": "并入测试计划"})
    stale = client.post(planned["post"]["start"], {"version": item.version - 1})
    assert stale.status_code == 302
    item.refresh_from_db()
    assert item.status == ItemStatus.PLANNED
    client.post(planned["post"]["start"], {"version": item.version})
    item.refresh_from_db()
    assert item.status == ItemStatus.EXECUTING
