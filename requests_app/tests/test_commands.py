from datetime import date, datetime
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from collab.org.models import Department
from requests_app.models import CollaborationItem

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_the_templates_example_and_can_run_twice() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    item = CollaborationItem.objects.get(number="20231001")
    assert item.topic == "Q3产品上线测试"
    assert item.requesting_department.name == "产品部"
    assert sorted(p.department.name for p in item.participations.all()) == sorted(
        ["研发部", "测试部", "运营部"]
    )
    assert item.status == "executing"
    assert [t.name for t in item.tasks.order_by("deadline")] == ["提交测试计划", "完成功能修复"]
    assert CollaborationItem.objects.count() == 1
    assert Department.objects.filter(name="产品部").count() == 1
    assert "zhang" in out.getvalue() and "collab123" in out.getvalue()


def test_export_register_writes_the_register(tmp_path: Path) -> None:
    call_command("seed_demo", stdout=StringIO())
    target = tmp_path / "register.xlsx"
    call_command("export_register", output=str(target), stdout=StringIO())
    rows = list(openpyxl.load_workbook(target).active.iter_rows(values_only=True))
    assert rows[0][0] == "沟通事项编号"
    assert rows[1][:2] == ("20231001", "Q3产品上线测试")
    # The template's own example row, column by column.
    assert tuple(v.date() if isinstance(v, datetime) else v for v in rows[1][2:]) == (
        "产品部/张敏",
        "研发部、测试部、运营部",
        "目标：确保Q3新功能稳定上线,覆盖90%用户需求；范围：核心功能模块测试；时间：2023-10-01至2023-10-15",
        "线上研讨会",
        "1.测试部王芳10月5日前提交测试计划；2.研发部孙磊10月10日前完成功能修复",
        "测试部/王芳、研发部/孙磊",
        date(2023, 10, 15),  # a date cell
        "进行中",
        "需运营部提供用户场景",
    )


def test_export_register_explains_a_bad_path(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_register", output=str(tmp_path / "missing" / "r.xlsx"))
    with pytest.raises(CommandError, match=r"\.xlsx"):
        call_command("export_register", output=str(tmp_path / "r.csv"))
