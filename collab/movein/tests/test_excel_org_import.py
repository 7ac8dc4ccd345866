"""Departments and people from an Excel workbook: the template, the preview, per-row problems, applying."""

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from collab.org.models import Department, DirectorySource, Person, SyncRun, display_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(django_user_model: Any) -> Client:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(admin)
    return client


def workbook(departments: list[list[Any]], people: list[list[Any]], *, title: str = "") -> io.BytesIO:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "部门"
    if title:  # a title row above the header, as companies often add
        first.append([title])
    first.append(["部门编号", "部门名称", "上级部门编号", "负责人工号"])
    for row in departments:
        first.append(row)
    second = book.create_sheet("人员")
    second.append(["User ID", "Name", "Department ID", "E-mail", "Mobile phone", "Position"])
    for row in people:
        second.append(row)
    stream = io.BytesIO()
    book.save(stream)
    stream.seek(0)
    stream.name = "org.xlsx"
    return stream


def upload(client: Client, source: DirectorySource, stream: io.BytesIO) -> Any:
    return client.post(reverse("admin:org_directorysource_import", args=[source.pk]), {"workbook": stream})


def test_the_template_downloads_with_chinese_headers_and_reads_back(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:org_directorysource_template"))

    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert [c.value for c in book.worksheets[0][1]] == ["部门编号", "部门名称", "上级部门编号", "负责人工号"]
    assert [c.value for c in book.worksheets[1][1]][:3] == ["工号", "姓名", "部门编号"]


def test_a_workbook_is_previewed_then_applied(admin_client: Client) -> None:
    source = DirectorySource.objects.create(kind="excel", name="花名册")
    stream = workbook(
        [
            ["D01", "北京分公司", "", "U001"],
            ["D02", "综合部", "D01", 1002],
            ["D03", "上海分公司", "", ""],
            ["D04", "综合部", "D03", ""],
        ],
        [
            ["U001", "张敏", "D01", "zhang@example.com", "", "总经理"],
            [1002, "李雷", "D02", "", "", ""],
            ["U003", "王芳", "D04", "", "", ""],
        ],
        title="2026年组织架构",
    )

    response = upload(admin_client, source, stream)

    run = SyncRun.objects.get()
    assert response.url == reverse("admin:org_directorysource_run", args=[run.pk])
    assert not Department.objects.exists()
    page = admin_client.get(response.url).content.decode()
    assert "李雷" in page and "应用这些变更" in page

    applied = admin_client.post(reverse("admin:org_directorysource_apply_run", args=[run.pk]))

    assert applied.status_code == 302
    office = Department.objects.get(name="综合部", parent__name="北京分公司")
    assert office.head is not None and display_name(office.head) == "李雷"
    assert Person.objects.get(source_user_id="1002").user.username == "1002"
    assert Department.objects.filter(name="综合部").count() == 2


def test_every_problem_is_named_by_sheet_and_row_and_nothing_changes(admin_client: Client) -> None:
    source = DirectorySource.objects.create(kind="excel", name="花名册")
    stream = workbook(
        [
            ["D01", "总部", "", "U404"],
            ["D01", "重复", "", ""],
            ["D02", "", "", ""],
            ["D03", "研发部", "D99", ""],
        ],
        [
            ["U001", "张敏", "D77", "not-an-email", "", ""],
            ["", "无工号", "D01", "", "", ""],
            ["U001", "张敏", "D01", "", "", ""],
        ],
    )

    response = upload(admin_client, source, stream)

    assert response.status_code == 400
    page = response.content.decode()
    for problem in [
        "工作表 部门，第 2 行：没有工号为 U404 的人员。",
        "工作表 部门，第 3 行：部门编号 D01 已在第 2 行出现。",
        "工作表 部门，第 4 行：缺少部门名称。",
        "工作表 部门，第 5 行：没有编号为 D99 的部门。",
        "工作表 人员，第 2 行：没有编号为 D77 的部门。",
        "工作表 人员，第 2 行：not-an-email 不是有效的电子邮件地址。",
        "工作表 人员，第 3 行：缺少工号。",
        "工作表 人员，第 4 行：工号 U001 已在第 2 行出现。",
    ]:
        assert problem in page, problem
    assert page.index("第 2 行：没有工号为 U404") < page.index("第 3 行：部门编号 D01")
    assert not Department.objects.exists()
    assert not SyncRun.objects.exists()


def test_a_file_that_is_not_a_workbook_is_refused(admin_client: Client) -> None:
    source = DirectorySource.objects.create(kind="excel", name="花名册")
    stream = io.BytesIO(b"name,department\n")
    stream.name = "org.xlsx"

    response = upload(admin_client, source, stream)

    assert response.status_code == 400
    assert "不是 Excel 工作簿" in response.content.decode()


def test_a_department_left_out_of_the_next_workbook_is_shown_as_removed_and_deactivated(
    admin_client: Client,
) -> None:
    source = DirectorySource.objects.create(kind="excel", name="花名册")
    departments = [["D01", "北京分公司", "", ""], ["D02", "综合部", "D01", ""], ["D03", "研发部", "D01", ""]]
    people = [["U001", "张敏", "D02", "", "", ""]]
    upload(admin_client, source, workbook(departments, people))
    admin_client.post(reverse("admin:org_directorysource_apply_run", args=[SyncRun.objects.get().pk]))
    office = Department.objects.get(name="综合部")

    response = upload(admin_client, source, workbook(departments[::2], [["U001", "张敏", "D03", "", "", ""]]))

    page = admin_client.get(response.url).content.decode()
    assert "综合部" in page and "已在源中删除" in page
    assert Department.objects.get(pk=office.pk).active is True  # a preview changes nothing

    admin_client.post(reverse("admin:org_directorysource_apply_run", args=[SyncRun.objects.latest("pk").pk]))

    office.refresh_from_db()
    assert office.active is False and office.external_id == "D02"
    assert Person.objects.get(source_user_id="U001").department == Department.objects.get(name="研发部")
