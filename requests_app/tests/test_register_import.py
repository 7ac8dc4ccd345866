"""Importing an existing Excel register: per-row problems, idempotence, numbers, and the round trip."""

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation
from openpyxl import Workbook, load_workbook

from collab.testing import Org, client_for, make_item, requirement
from requests_app import services
from requests_app.models import CollaborationItem, ItemStatus
from requests_app.register import write_register_xlsx
from requests_app.register_import import read_register, register_import
from requests_app.selectors import SORTS
from reviews_app.models import Deliverable
from tasks_app.models import Task
from tasks_app.tests.support import executing_item

pytestmark = pytest.mark.django_db

HEADER = ["沟通事项编号", "事项主题", "发起部门/人", "参与部门/人", "需求描述(目标、范围、时间)", "沟通方式",
          "关键结论/任务分配", "责任人", "截止时间", "当前状态", "备注"]  # fmt: skip


def export() -> bytes:
    stream = io.BytesIO()
    with translation.override("zh-hans"):
        items = CollaborationItem.objects.exclude(status=ItemStatus.DRAFT)
        write_register_xlsx(items.order_by(*SORTS["number"]), stream)
    return stream.getvalue()


def cells(data: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def delete_every_item() -> None:
    Deliverable.objects.all().delete()
    Task.objects.all().delete()
    CollaborationItem.objects.all().delete()


def test_export_then_import_into_an_empty_register_then_export_gives_the_same_cells(org: Org) -> None:
    executing_item(org)  # meetings, tasks, owners: every column filled
    make_item(org, topic="=年度预算(含公式样的文字)", remarks="")
    first = export()
    delete_every_item()

    with translation.override("zh-hans"):
        reading = read_register(io.BytesIO(first))
        assert reading.all_problems == []
        created = register_import(actor=org.coordinator, reading=reading)

    assert len(created) == 2
    assert cells(export()) == cells(first)
    # Imported again: nothing new.
    again = read_register(io.BytesIO(first))
    assert again.new_rows == [] and len(again.rows) == 2
    assert register_import(actor=org.coordinator, reading=again) == []


def test_imported_numbers_stay_and_the_month_continues_after_them(org: Org) -> None:
    book = workbook(
        [
            [
                "20261007",
                "历史事项",
                "产品部/张敏",
                "研发部",
                "目标:上线",
                "",
                "",
                "",
                "2026-10-20",
                "进行中",
                "",
            ]
        ]
    )
    reading = read_register(book)
    [item] = register_import(actor=org.coordinator, reading=reading)

    assert item.number == "20261007" and item.imported_at is not None
    assert item.requester == org.requester
    assert item.status == ItemStatus.SUBMITTED
    draft = services.item_create_draft(actor=org.requester, data=requirement(org))
    with time_machine.travel(datetime(2026, 10, 21, 10, 0, tzinfo=UTC)):
        submitted = services.item_submit(actor=org.requester, item_id=draft.pk, version=draft.version)
    assert submitted.number == "20261008"


def workbook(
    rows: list[list[Any]], *, title: str = "", merge: str = "", header: list[str] = HEADER
) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])
        sheet.append([])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    return stream


def test_usual_variations_are_read_and_every_problem_is_named_per_row(org: Org) -> None:
    book = workbook(
        [
            [
                "20231001",
                "Q3产品上线测试",
                "产品部*经理",
                "研发部、测试部(测试经理)",
                "目标:保证Q3产品功能稳定上线;范围:核心功能模块测试;时间:10月1日-10月15日",
                "线上研讨会",
                "1.测试部经理10月5日前提交测试计划",
                "测试部*经理",
                "2023年10月15日",
                "已完成",
                "",
            ],
            [
                "20231002",
                "同一发起部门(合并单元格)",
                None,
                "研发部",
                "目标:x",
                "",
                "",
                "",
                date(2023, 10, 20),
                "进行中",
                "",
            ],
            ["", "没有编号", "产品部", "", "", "", "", "", "", "", ""],
            ["20231002", "编号重复", "产品部", "", "", "", "", "", "", "", ""],
            ["20231004", "未知部门", "市场部/赵六", "研发部、法务部", "", "", "", "", "下周", "", ""],
        ],
        title="2023年协作沟通记录表",
        merge="C4:C5",  # the requester cell merged over the first two items
    )

    with translation.override("zh-hans"):
        reading = read_register(book)
        problems = reading.all_problems

    assert problems == [
        "第 6 行：缺少沟通事项编号。",
        "第 7 行：沟通事项编号 20231002 已在第 5 行出现。",
        "第 8 行：没有名为“市场部”的部门。",
        "第 8 行：没有名为“法务部”的部门。",
        "第 8 行：截止时间“下周”不是日期。",
    ]
    first, second = reading.rows[0], reading.rows[1]
    assert first.department == org.product and first.requester == org.requester  # the head: 经理 is no name
    assert [(d.name, role) for d, role in first.participations] == [("研发部", ""), ("测试部", "测试经理")]
    assert first.goal == "保证Q3产品功能稳定上线" and first.scope == "核心功能模块测试"
    assert [when for _n, when in first.milestones] == [date(2023, 10, 1), date(2023, 10, 15)]
    assert first.finished
    assert second.department == org.product  # from the merged cell
    with pytest.raises(ValueError):
        register_import(actor=org.coordinator, reading=reading)
    assert not CollaborationItem.objects.exists()


def test_the_command_dry_runs_then_imports(org: Org, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "register.xlsx"
    path.write_bytes(
        workbook(
            [["20231001", "历史事项", "产品部", "", "目标:上线", "", "", "", "2023-10-15", "已完成", ""]]
        ).getvalue()
    )
    org.coordinator.is_superuser = True
    org.coordinator.save()

    call_command("import_register", str(path), "--dry-run")
    assert "1 items would be imported" in capsys.readouterr().out
    assert not CollaborationItem.objects.exists()

    call_command("import_register", str(path))
    item = CollaborationItem.objects.get()
    # The requesting department's head coordinates, not the admin who ran the import.
    assert item.status == ItemStatus.CLOSED and item.coordinator == org.requester

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([["2023100", "坏编号", "产品部", "", "", "", "", "", "", "", ""]]).getvalue())
    with pytest.raises(CommandError, match="1 problems"):
        call_command("import_register", str(bad))


def test_an_admin_checks_then_imports_a_register_on_its_page(org: Org, django_user_model: Any) -> None:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(admin)
    url = "/register/import/"
    upload = workbook(
        [["20231001", "历史事项", "产品部", "", "目标:上线", "", "", "", "2023-10-15", "进行中", ""]]
    )
    upload.name = "register.xlsx"

    checked = client.post(url, {"workbook": upload})

    page = checked.content.decode()
    assert "1 个待导入事项" in page or "待导入" in page
    assert not CollaborationItem.objects.exists()
    token = checked.context["token"]
    imported = client.post(url, {"token": token})
    assert imported.status_code == 302
    assert CollaborationItem.objects.get().number == "20231001"
    assert client_for(org.owner).get(url).status_code == 403


def test_imported_items_open_like_any_other(org: Org) -> None:
    book = workbook(
        [
            [
                "20231001",
                "已完成的历史事项",
                "产品部/张敏",
                "研发部",
                "目标:上线",
                "线上研讨会",
                "",
                "",
                "2023-10-15",
                "已完成",
                "",
            ],
            [
                "20231002",
                "进行中的历史事项",
                "产品部/张敏",
                "研发部",
                "目标:上线",
                "",
                "",
                "",
                "2023-10-20",
                "进行中",
                "",
            ],
        ]
    )
    finished, running = register_import(actor=org.coordinator, reading=read_register(book))
    client = client_for(org.requester)

    for item in (finished, running):
        assert client.get(f"/items/{item.pk}/").status_code == 200
    assert client_for(org.collaborator).get(f"/items/{running.pk}/").status_code == 200  # R&D takes part
    assert client_for(org.outsider).get(f"/items/{running.pk}/").status_code == 404
    register = client.get("/register/").content.decode()
    assert "已完成的历史事项" in register and "进行中的历史事项" in register


def test_the_coordinator_comes_from_the_sheet_else_the_department_head_else_the_admin_with_a_warning(
    org: Org, django_user_model: Any
) -> None:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(admin)

    def line(number: str, department: str, coordinator: str) -> list[str]:
        return [
            number,
            "历史事项",
            department,
            "",
            "目标:上线",
            "",
            "",
            "",
            "2023-10-15",
            "进行中",
            "",
            coordinator,
        ]

    upload = workbook(
        [
            line("20231001", "产品部", "项目管理办公室/李娜"),  # the sheet names 李娜
            line("20231002", "测试部", ""),  # 测试部's head, 王芳
            line("20231003", "研发部", ""),  # 研发部 has no head
        ],
        header=[*HEADER, "协调人"],  # the template's 11 columns plus the company's own
    )
    upload.name = "register.xlsx"

    checked = client.post("/register/import/", {"workbook": upload})

    page = checked.content.decode()
    warnings = page.split("导入前请核对")[1].split("</ul>")[0]
    assert "第 4 行：未写明协调人，且研发部没有负责人：导入后由您担任协调人。" in warnings
    assert "第 2 行" not in warnings and "第 3 行" not in warnings
    assert [r.coordinator_name for r in checked.context["reading"].rows] == ["李娜", "王芳", ""]
    assert not CollaborationItem.objects.exists()

    client.post("/register/import/", {"token": checked.context["token"]})

    coordinators = dict(CollaborationItem.objects.values_list("number", "coordinator"))
    assert coordinators == {"20231001": org.coordinator.pk, "20231002": org.qa_head.pk, "20231003": admin.pk}


def test_a_coordinator_the_sheet_names_who_is_not_here_is_a_problem_of_that_row(org: Org) -> None:
    row = [
        "20231001",
        "历史事项",
        "产品部",
        "",
        "目标:上线",
        "",
        "",
        "",
        "2023-10-15",
        "进行中",
        "",
        "周杰伦",
    ]

    with translation.override("zh-hans"):
        reading = read_register(workbook([row], header=[*HEADER, "协调人"]))

    assert reading.all_problems == ["第 2 行：没有名为“周杰伦”的在职人员可担任协调人。"]
