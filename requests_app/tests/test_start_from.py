"""A new requirement form starts from the scenario's template or from a previous item."""

import html
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from collab.org.calendar import calendar_for
from collab.testing import Org, client_for, make_item, requirement
from requests_app import services
from requests_app.models import SCENARIO_PRESETS, CollaborationItem, ItemStatus, Scenario
from requests_app.rules import MilestoneData, ParticipationData
from requests_app.tests.test_item_views import form_post

pytestmark = pytest.mark.django_db

# Monday 28 September 2026, 10:00 in Shanghai: National Day (1-7 October) lies three working
# days ahead, and Sunday 27 September was a make-up workday.
BEFORE_NATIONAL_DAY = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
NEW = reverse("requests_app:item_create")


def rows(formset: Any) -> list[dict[str, Any]]:
    return [form.initial for form in formset.forms]


def test_the_template_prefills_own_department_usual_departments_and_milestones_in_working_days(
    org: Org,
) -> None:
    make_item(org)  # Product's earlier cross-department item: R&D and QA took part
    with time_machine.travel(BEFORE_NATIONAL_DAY, tick=False):
        response = client_for(org.requester).get(NEW, {"scenario": Scenario.CROSS_DEPARTMENT})
    editor = response.context["editor"]
    assert editor.form.initial["scenario"] == Scenario.CROSS_DEPARTMENT
    assert editor.form.initial["requesting_department"] == org.product
    assert editor.form.initial["coordinator"] == org.requester
    assert rows(editor.participations) == [{"department": org.rnd.pk}, {"department": org.qa.pk}]
    # 3, 10 and 20 working days after Monday 28 September, National Day and its make-up
    # Saturday (10 October) counted as the calendar says.
    assert rows(editor.milestones) == [
        {"name": "需求在共识会上确认", "due_date": date(2026, 10, 8)},
        {"name": "方案经各部门评审", "due_date": date(2026, 10, 16)},
        {"name": "成果验收并签字", "due_date": date(2026, 10, 30)},
    ]
    page = html.unescape(response.content.decode())
    assert 'value="2026-10-08"' in page and 'value="需求在共识会上确认"' in page


def test_each_scenario_has_template_milestones_that_pass_the_wording_rules(org: Org) -> None:
    client = client_for(org.requester)
    for scenario in Scenario.values:
        start = client.get(NEW, {"scenario": scenario}).context["editor"]
        calendar = calendar_for(org.region)
        dates = [row["due_date"] for row in rows(start.milestones)]
        assert len(dates) == len(SCENARIO_PRESETS[scenario].milestones) >= 2
        assert all(calendar.is_working_day(d) for d in dates) and dates == sorted(dates)
        # Filling in only what the template leaves open submits the form.
        posted = form_post(
            org,
            scenario=scenario,
            **{"participations-TOTAL_FORMS": "1", "participations-1-department": ""},
            **{"milestones-TOTAL_FORMS": str(len(dates))},
            **{f"milestones-{i}-name": row["name"] for i, row in enumerate(rows(start.milestones))},
            **{
                f"milestones-{i}-due_date": f"{row['due_date']:%Y-%m-%d}"
                for i, row in enumerate(rows(start.milestones))
            },
        )
        response = client.post(NEW, posted)
        assert response.status_code == 302, response.context["editor"].milestones.non_form_errors()
    assert CollaborationItem.objects.filter(status=ItemStatus.SUBMITTED).count() == 4


def test_without_earlier_items_the_template_names_no_department(org: Org) -> None:
    response = client_for(org.requester).get(NEW, {"scenario": Scenario.EMERGENCY})
    editor = response.context["editor"]
    assert editor.form.initial["requesting_department"] == org.product
    assert [row.get("department") for row in rows(editor.participations)] == [None, None]  # two rows to fill
    assert [row["name"] for row in rows(editor.milestones)] == ["修复方案交付", "成果验收并签字"]


def test_a_department_that_took_part_only_once_in_four_items_is_not_usual(org: Org) -> None:
    for participations in (
        [ParticipationData(org.rnd.pk, "", "提供技术支持")],
        [ParticipationData(org.rnd.pk, "", "提供技术支持"), ParticipationData(org.qa.pk, "", "设计测试用例")],
        [ParticipationData(org.rnd.pk, "", "提供技术支持"), ParticipationData(org.qa.pk, "", "设计测试用例")],
        [
            ParticipationData(org.rnd.pk, "", "提供技术支持"),
            ParticipationData(org.finance.pk, "", "审核预算"),
        ],
    ):
        make_item(org, participations=participations)
    make_item(org, scenario=Scenario.ROUTINE_SYNC)  # another scenario does not count
    response = client_for(org.requester).get(NEW, {"scenario": Scenario.CROSS_DEPARTMENT})
    assert rows(response.context["editor"].participations) == [
        {"department": org.rnd.pk},
        {"department": org.qa.pk},
    ]


def test_copying_a_previous_item_takes_what_does_not_depend_on_its_topic(org: Org) -> None:
    with time_machine.travel(BEFORE_NATIONAL_DAY, tick=False):
        source = make_item(org, scope="核心功能模块测试,不含性能测试")  # milestones 8 and 15 October
    # Five weeks later the milestones are as many working days ahead: 3 and 9 (the make-up
    # Saturday 10 October counted).
    with time_machine.travel(datetime(2026, 11, 2, 2, 0, tzinfo=UTC), tick=False):
        client = client_for(org.requester)
        response = client.get(NEW, {"from": source.pk})
    editor = response.context["editor"]
    assert editor.form.initial == {
        "requesting_department": org.product,
        "coordinator": org.requester,
        "scenario": Scenario.CROSS_DEPARTMENT,
        "scope": "核心功能模块测试,不含性能测试",
    }
    assert rows(editor.participations) == [
        {"department": org.rnd.pk, "role": "", "core_need": "提供技术支持"},
        {"department": org.qa.pk, "role": "测试经理", "core_need": "协助设计测试用例"},
    ]
    assert rows(editor.milestones) == [
        {"name": "需求确认", "due_date": date(2026, 11, 5)},
        {"name": "测试完成", "due_date": date(2026, 11, 13)},
    ]
    page = html.unescape(response.content.decode())
    assert f"{source.number} {source.topic}" in page  # the starting point is named
    assert f'name="topic" value="{source.topic}"' not in page

    # What the new item gets is its own: a new number, its own history, no signatures.
    with time_machine.travel(datetime(2026, 11, 2, 2, 0, tzinfo=UTC), tick=False):
        response = client.post(NEW, form_post(org, topic="Q4产品上线测试"))
    new = CollaborationItem.objects.exclude(pk=source.pk).get()
    assert response["Location"] == reverse("requests_app:item_detail", args=[new.pk])
    assert new.number != source.number and new.status == ItemStatus.SUBMITTED
    assert not new.requirement_changes.exists()


def test_the_previous_items_offered_are_the_persons_and_their_departments(org: Org) -> None:
    own = make_item(org, topic="产品部的事项")
    theirs = services.item_create_draft(
        actor=org.owner,
        data=requirement(org, topic="测试部的事项", requesting_department_id=org.qa.pk),
    )
    response = client_for(org.requester).get(NEW)
    assert list(response.context["previous_items"]) == [own]
    assert theirs not in response.context["previous_items"]


def test_an_item_the_person_cannot_see_cannot_be_copied(org: Org) -> None:
    hidden = services.item_create_draft(
        actor=org.outsider,
        data=requirement(
            org,
            requesting_department_id=org.finance.pk,
            coordinator_id=org.outsider.pk,
            participations=[ParticipationData(org.finance.pk, "", "审核预算")],
            milestones=[MilestoneData("预算审核完成", date(2026, 10, 15))],
        ),
    )
    assert client_for(org.requester).get(NEW, {"from": hidden.pk}).status_code == 404
    assert client_for(org.requester).get(NEW, {"from": "x1"}).status_code == 200  # an odd value: ignored
