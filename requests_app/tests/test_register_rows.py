"""The register page's rows: read in one statement on PostgreSQL, the same records the export
reads (``records_of``)."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collab.testing import Org, make_item, schedule_meeting
from requests_app.models import CollaborationItem, MeetingForm
from requests_app.register import records_of
from requests_app.register_pages import page_records
from requests_app.rules import MilestoneData, ParticipationData
from tasks_app import services as task_services
from tasks_app.tests.support import consensus_item, cover_everything, task_data

pytestmark = pytest.mark.django_db


def test_the_pages_records_are_the_exports_in_the_pages_order(org: Org) -> None:
    planned = consensus_item(org, topic="有任务的事项")
    cover_everything(org, planned)
    task_services.task_create(actor=org.coordinator, item_id=planned.pk, data=task_data(org, name="回归测试"))
    schedule_meeting(org, planned, form=MeetingForm.ONLINE_WORKSHOP)
    schedule_meeting(
        org, planned, form=MeetingForm.DEDICATED_MEETING, starts_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    bare = make_item(
        org,
        topic="没有任务的事项",
        participations=[
            ParticipationData(org.rnd.pk, "", "定位并修复故障"),
            ParticipationData(org.qa.pk, "测试组", "回归测试"),
        ],
        milestones=[MilestoneData("上线", date(2026, 11, 2)), MilestoneData("确认", date(2026, 10, 20))],
    )
    imported = make_item(org, topic="导入的事项")
    cells: dict[str, Any] = {"cells": ["20230101", "原主题"] + [""] * 9, "baseline": [""] * 11}
    CollaborationItem.objects.filter(pk=imported.pk).update(imported_cells=cells)
    ids = [bare.pk, imported.pk, planned.pk]

    with CaptureQueriesContext(connection) as queries:
        records = page_records(ids)
    assert records == list(records_of(ids))
    assert [record.pk for record in records] == ids
    assert records[1].imported_cells == cells
    assert records[2].tasks and len(records[2].meeting_forms) == 3
    assert records[0].participants == [(org.rnd.name, ""), (org.qa.name, "测试组")]
    assert records[0].milestone_dates == [date(2026, 10, 20), date(2026, 11, 2)]
    # The items with their names and relations in one statement, then the task lines.
    assert len(queries) == (2 if connection.vendor == "postgresql" else 5)
    assert page_records([]) == []
