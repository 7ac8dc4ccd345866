"""Stage 3 in Chinese, the interface's default language."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from collab.lib.workdays import day_kind
from collab.notify.models import Notification
from collab.testing import Org, client_for
from requests_app.models import CollaborationItem
from tasks_app import services
from tasks_app.rules import day_kind_warning
from tasks_app.selectors import breakdown_gaps, owners_text, register_tasks_prefetch, task_assignment_text
from tasks_app.tests.support import cover_everything, task_data

pytestmark = pytest.mark.django_db


def test_a_national_day_deadline_is_questioned_in_chinese(org: Org, item: CollaborationItem) -> None:
    with translation.override("zh-hans"):
        assert (
            day_kind_warning(day_kind(date(2026, 10, 1)))
            == "2026-10-01不是工作日（国庆节）。确定把截止时间定在这一天吗？"
        )
        assert "春节" in (day_kind_warning(day_kind(date(2026, 2, 16))) or "")
        assert "周末" in (day_kind_warning(day_kind(date(2026, 10, 11))) or "")
    response = client_for(org.coordinator).post(
        reverse("tasks_app:check_task_field"), {"field": "deadline", "deadline": "2026-10-01"}
    )
    assert "国庆节" in response.content.decode()


def test_the_register_columns_read_like_the_template(org: Org, item: CollaborationItem) -> None:
    cover_everything(org, item)
    loaded = CollaborationItem.objects.prefetch_related(register_tasks_prefetch()).get(pk=item.pk)
    with translation.override("zh-hans"):
        assert (
            task_assignment_text(loaded.tasks.all())
            == "1.测试部吴杰10月9日前提交测试计划；2.研发部孙磊10月12日前完成功能修复"
        )
        assert owners_text(loaded.tasks.all()) == "测试部/吴杰、研发部/孙磊"


def test_september_is_written_without_a_leading_zero(org: Org, item: CollaborationItem) -> None:
    from django.utils import formats

    with translation.override("zh-hans"):
        assert formats.date_format(date(2026, 9, 5), "MONTH_DAY_FORMAT") == "9月5日"


def test_gaps_and_notifications_are_in_chinese(org: Org, item: CollaborationItem) -> None:
    with translation.override("zh-hans"):
        assert "研发部参与本事项但没有任务" in " ".join(breakdown_gaps(item))
    services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))
    assert Notification.objects.get(recipient=org.owner).title == "您是任务“提交测试计划”的责任人"
