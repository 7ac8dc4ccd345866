from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from collab.notify.models import Notification
from collab.notify.services import notify
from collab.org.models import Person, Region
from collab.testing import EXAMPLE_NOTICE_2027, Org
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
        assert send_digests() == 2
        assert send_digests() == 0  # once a day
    sent = digests()
    assert set(sent) == {"coordinator", "qa_head"}  # R&D has no head; Product has no task
    assert "提交测试计划" in sent["coordinator"].body and "评审人请假" in sent["coordinator"].body
    assert "提交测试计划" in sent["qa_head"].body and "完成功能修复" not in sent["qa_head"].body


def test_no_digest_on_a_holiday(org: Org, item: Any) -> None:
    assert send_digests(now=datetime(2026, 10, 1, 1, 15, tzinfo=UTC)) == 0  # 09:15 on National Day


def test_routine_notices_wait_for_the_digest(org: Org) -> None:
    with time_machine.travel(datetime(2026, 11, 23, 2, 0, tzinfo=UTC), tick=False):
        notify(
            recipients=[org.outsider], kind="test", render=lambda: ("月度计划已更新", ""), urgency="digest"
        )
    with time_machine.travel(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), tick=False):
        assert send_digests() == 1
        assert send_digests() == 0
    assert "月度计划已更新" in digests()["outsider"].body


def test_each_person_gets_the_digest_in_their_own_regions_working_hours(org: Org, item: Any) -> None:
    berlin = Region.objects.create(code="de", name="Berlin", timezone="Europe/Berlin", holiday_calendar="DE")
    Person.objects.filter(user=org.coordinator).update(region=berlin)
    # Monday 12 October, 09:15 in Shanghai is 03:15 in Berlin: the head now, the coordinator later.
    with time_machine.travel(datetime(2026, 10, 12, 1, 15, tzinfo=UTC), tick=False):
        alerts.sweep_alerts()
        assert send_digests() == 1
    assert set(digests()) == {"qa_head"}
    assert send_digests(now=datetime(2026, 10, 12, 6, 15, tzinfo=UTC)) == 0  # 08:15 in Berlin
    assert send_digests(now=datetime(2026, 10, 12, 7, 15, tzinfo=UTC)) == 1  # 09:15 in Berlin
    assert send_digests(now=datetime(2026, 10, 12, 8, 15, tzinfo=UTC)) == 0  # once a day
    assert set(digests()) == {"qa_head", "coordinator"}


def test_admins_hear_in_november_and_december_that_next_years_schedule_is_missing(
    org: Org, django_user_model: Any, tmp_path: Path
) -> None:
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    # An English reader, whatever language the job runs in: the digest is in theirs.
    Person.objects.create(user=admin, department=org.pmo, region=org.region, language="en")
    assert send_digests(now=datetime(2026, 10, 20, 1, 15, tzinfo=UTC)) == 0  # October: not yet
    assert send_digests(now=datetime(2026, 12, 1, 1, 15, tzinfo=UTC)) == 1
    body = Notification.objects.get(recipient=admin, kind="digest").body
    assert "The holiday schedule of 2027 is not in Collab yet" in body
    notice = tmp_path / "2027.txt"
    notice.write_text(EXAMPLE_NOTICE_2027, encoding="utf-8")
    call_command("workdays", "import-notice", str(notice), stdout=StringIO())
    assert send_digests(now=datetime(2026, 12, 2, 1, 15, tzinfo=UTC)) == 0  # nothing left to say
