"""The template's rules for a task, and the warnings a coordinator may overrule."""

from datetime import date

import pytest
from django.utils import translation

from collab.lib.workdays import day_kind
from tasks_app.rules import TaskData, day_kind_warning, task_problems, task_warnings

pytestmark = pytest.mark.django_db  # deadline warnings read the company calendar overrides


def data(**overrides: object) -> TaskData:
    values: dict[str, object] = {
        "name": "设计测试用例",
        "owner_id": 1,
        "delivery_standard": "用例覆盖率≥95%",
        "deadline": date(2026, 10, 9),
        "receiver_id": 2,
        "department_id": 3,
        "collaborator_ids": [4],
    }
    values.update(overrides)
    return TaskData(**values)  # type: ignore[arg-type]


def test_a_task_that_keeps_the_rules_has_no_problems_or_warnings() -> None:
    assert task_problems(data()) == {}
    assert task_warnings(data()) == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"delivery_standard": ""}, "delivery_standard"),
        ({"delivery_standard": "尽快完成"}, "delivery_standard"),
        ({"deadline": None}, "deadline"),
        ({"collaborator_ids": [4, 1]}, "collaborators"),
        ({"receiver_id": 1}, "receiver"),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, object], field: str) -> None:
    assert list(task_problems(data(**overrides))) == [field]


WARNINGS = [
    (date(2026, 10, 1), "2026-10-01 is not a working day (National Day). Is this deadline intended?"),
    (date(2026, 10, 11), "2026-10-11 is not a working day (weekend). Is this deadline intended?"),
    (date(2026, 2, 16), "2026-02-16 is not a working day (Spring Festival). Is this deadline intended?"),
    (date(2026, 1, 1), "2026-01-01 is not a working day (New Year's Day). Is this deadline intended?"),
    (date(2026, 4, 5), "2026-04-05 is not a working day (Qingming Festival). Is this deadline intended?"),
    (date(2026, 5, 1), "2026-05-01 is not a working day (Labour Day). Is this deadline intended?"),
    (date(2026, 6, 19), "2026-06-19 is not a working day (Dragon Boat Festival). Is this deadline intended?"),
    (date(2026, 9, 25), "2026-09-25 is not a working day (Mid-Autumn Festival). Is this deadline intended?"),
    (date(2026, 10, 10), None),  # the make-up Saturday is a working day
    (date(2026, 2, 14), None),
    (date(2026, 9, 16), None),
    (date(2027, 1, 1), "2027-01-01 is not a working day (New Year's Day). Is this deadline intended?"),
    (
        date(2027, 10, 8),
        "The make-up workdays of 2027 are not published yet, so 2027-10-08 was checked against "
        "weekends and statutory holidays only.",
    ),
]


@pytest.mark.parametrize(("day", "warning"), WARNINGS)
def test_a_deadline_on_a_day_off_is_questioned_not_refused(day: date, warning: str | None) -> None:
    with translation.override("en"):
        assert day_kind_warning(day_kind(day)) == warning
        assert task_problems(data(deadline=day)) == {}


def test_a_standard_without_a_figure_is_questioned() -> None:
    with translation.override("en"):
        warnings = task_warnings(data(delivery_standard="测试计划经产品部评审通过"))
    assert list(warnings) == ["delivery_standard"]
    assert "no figure" in warnings["delivery_standard"][0]
