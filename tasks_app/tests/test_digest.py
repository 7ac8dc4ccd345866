from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from collab.notify.models import Notification
from collab.notify.services import notify
from collab.testing import Org
from tasks_app import alerts, tracking_services
from tasks_app.digest import send_digests
from tasks_app.models import Task
from tasks_app.tests.support import executing_item
from tasks_app.tracking_services import ReportData

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(org: Org) -> Any:
    with time_machine.travel(datetime(2026, 9, 29, 2, 0, tzinfo=UTC), tick=False):
        return executing_item(org)


def digests() -> dict[str, Notification]:
    return {
        n.recipient.username: n
        for n in Notification.objects.filter(kind="digest").select_related("recipient")
    }


def test_coordinator_and_head_get_what_needs_them_once_a_working_day(org: Org, item: Any) -> None:
    plan_task = Task.objects.get(item=item, name="提交测试计划")  # QA, owned by 吴杰
    with time_machine.travel(datetime(2026, 10, 12, 1, 0, tzinfo=UTC), tick=False):
        alerts.sweep_alerts()
        tracking_services.progress_report(
            actor=org.owner,
            task_id=plan_task.pk,
            data=ReportData("in_progress", 70, "评审中", risks="评审人请假", measures="改由组长评审"),
        )
        assert send_digests(today=date(2026, 10, 12)) == 2
        assert send_digests(today=date(2026, 10, 12)) == 0  # once a day
    sent = digests()
    assert set(sent) == {"coordinator", "qa_head"}  # R&D has no head; Product has no task
    assert "提交测试计划" in sent["coordinator"].body and "评审人请假" in sent["coordinator"].body
    assert "提交测试计划" in sent["qa_head"].body and "完成功能修复" not in sent["qa_head"].body


def test_no_digest_on_a_holiday(org: Org, item: Any) -> None:
    assert send_digests(today=date(2026, 10, 1)) == 0


def test_routine_notices_wait_for_the_digest(org: Org) -> None:
    with time_machine.travel(datetime(2026, 11, 23, 2, 0, tzinfo=UTC), tick=False):
        notify(
            recipients=[org.outsider], kind="test", render=lambda: ("月度计划已更新", ""), urgency="digest"
        )
    with time_machine.travel(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), tick=False):
        assert send_digests(today=date(2026, 11, 24)) == 1
        assert send_digests(today=date(2026, 11, 24)) == 0
    assert "月度计划已更新" in digests()["outsider"].body
