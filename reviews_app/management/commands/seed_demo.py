"""Loads the demo organisation and the template's own example item. Safe to run again."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from collab.org.models import Department, Person, Region
from requests_app import meeting_services, services
from requests_app.models import CollaborationItem, ConfirmationDecision, MeetingForm, Scenario
from requests_app.rules import MilestoneData, ParticipationData, RequirementData
from tasks_app import services as task_services
from tasks_app.rules import TaskData

DEMO_PASSWORD = "collab123"

# (username, family name, given name, department, position, heads the department)
PEOPLE = [
    ("zhang", "张", "敏", "产品部", "产品部经理", True),
    ("li", "李", "娜", "项目管理办公室", "项目协调人", True),
    ("zhao", "赵", "强", "研发部", "研发部经理", True),
    ("sun", "孙", "磊", "研发部", "研发工程师", False),
    ("wang", "王", "芳", "测试部", "测试部经理", True),
    ("wu", "吴", "杰", "测试部", "测试工程师", False),
    ("zhou", "周", "婷", "运营部", "运营部经理", True),
    ("chen", "陈", "刚", "财务部", "财务部经理", True),
]


class Command(BaseCommand):
    help = "Loads the demo organisation and the template's example item 20231001 (idempotent)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        region, _ = Region.objects.get_or_create(
            code="cn-east", defaults={"name": "华东区", "timezone": "Asia/Shanghai", "holiday_calendar": "CN"}
        )
        admin = User.objects.filter(username="admin").first()
        if admin is None:
            admin = User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
        users = {}
        for username, family, given, dept_name, position, is_head in PEOPLE:
            department = Department.objects.filter(name=dept_name).first()
            if department is None:
                department = Department(name=dept_name, region=region)
                department.save()
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username, f"{username}@example.com", DEMO_PASSWORD, last_name=family, first_name=given
                )
                person = Person(user=user, department=department, position=position, region=region)
                person.save()
                if is_head and department.head_id is None:
                    department.head = user
                    department.save()
            users[username] = user

        if not CollaborationItem.objects.filter(number="20231001").exists():
            item = self._template_example(admin, users)
            self._template_consensus_and_tasks(item, users)

        self.stdout.write(self.style.SUCCESS("Demo organisation ready. Log in at http://127.0.0.1:8000 as:"))
        self.stdout.write(f"  {'admin':<8} {DEMO_PASSWORD}  (administrator)")
        for username, family, given, _dept, position, _head in PEOPLE:
            self.stdout.write(f"  {username:<8} {DEMO_PASSWORD}  {family}{given}, {position}")

    def _template_example(self, admin: Any, users: dict[str, Any]) -> CollaborationItem:
        """The example row of the template's register: Q3 product launch test, 20231001."""
        departments = {d.name: d for d in Department.objects.all()}
        data = RequirementData(
            topic="Q3产品上线测试",
            scenario=Scenario.CROSS_DEPARTMENT,
            goal="确保Q3新功能稳定上线,覆盖90%用户需求",
            scope="核心功能模块测试",
            expected_outcome="10月15日前完成Q3上线测试,功能覆盖90%的用户需求",
            requesting_department_id=departments["产品部"].pk,
            coordinator_id=users["li"].pk,
            remarks="需运营部提供用户场景",
            participations=[
                ParticipationData(departments["研发部"].pk, "", "提供技术支持,10月10日前完成功能修复"),
                ParticipationData(departments["测试部"].pk, "", "协助设计测试用例,10月5日前提交测试计划"),
                ParticipationData(departments["运营部"].pk, "", "提供用户场景"),
            ],
            milestones=[
                MilestoneData("需求确认", date(2023, 10, 1)),
                MilestoneData("测试计划提交", date(2023, 10, 5)),
                MilestoneData("功能修复完成", date(2023, 10, 10)),
                MilestoneData("上线测试完成", date(2023, 10, 15)),
            ],
        )
        return services.item_register_existing(
            actor=admin,
            requester=users["zhang"],
            data=data,
            number="20231001",
            submitted_at=datetime(2023, 10, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        )

    def _template_consensus_and_tasks(self, item: CollaborationItem, users: dict[str, Any]) -> None:
        """Its online workshop (线上研讨会), confirmed minutes and the two tasks of the template's row."""
        departments = {d.name: d for d in Department.objects.all()}
        coordinator = users["li"]
        meeting = meeting_services.meeting_schedule(
            actor=coordinator,
            item_id=item.pk,
            data=meeting_services.MeetingData(
                form=MeetingForm.ONLINE_WORKSHOP,
                starts_at=datetime(2023, 10, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
                timezone="Asia/Shanghai",
                location="线上会议室 https://meeting.example.com/q3-launch",
                invitee_ids=[users["zhang"].pk, coordinator.pk],
                department_ids=[departments[name].pk for name in ("研发部", "测试部", "运营部")],
            ),
        )
        minutes = meeting_services.minutes_record(
            actor=coordinator,
            meeting_id=meeting.pk,
            data=meeting_services.MinutesData(
                attendee_ids=[users[u].pk for u in ("zhang", "li", "zhao", "sun", "wang", "zhou")],
                agenda={
                    "feasibility": "核心模块可在10月15日前完成测试",
                    "resources": "测试部2人、研发部1人投入",
                    "risks": "功能修复排期紧张",
                    "adjustments": "",
                },
                conclusions="按计划10月15日前完成Q3上线测试,运营部配合提供用户场景",
                responsibilities=[
                    (departments["测试部"].pk, "设计测试用例并执行测试"),
                    (departments["研发部"].pk, "完成功能修复"),
                    (departments["运营部"].pk, "提供用户场景"),
                ],
                final_milestones=[MilestoneData(m.name, m.due_date) for m in item.milestones.all()],
                todos=[
                    meeting_services.TodoData("提交测试计划", users["wang"].pk, date(2023, 10, 5)),
                    meeting_services.TodoData("完成功能修复", users["sun"].pk, date(2023, 10, 10)),
                ],
            ),
        )
        for head, department in (("zhao", "研发部"), ("wang", "测试部"), ("zhou", "运营部")):
            meeting_services.minutes_confirm(
                actor=users[head],
                minutes_id=minutes.pk,
                department_id=departments[department].pk,
                version=minutes.version,
                decision=ConfirmationDecision.CONFIRMED,
            )
        # to-do: (delivery standard, department, collaborators)
        plans = {
            "提交测试计划": ("测试用例覆盖率≥95%", "测试部", [users["wu"].pk]),
            "完成功能修复": ("P0/P1缺陷修复率100%", "研发部", []),
        }
        for todo in minutes.todos.all():
            standard, department, collaborator_ids = plans[todo.text]
            task_services.task_create(
                actor=coordinator,
                item_id=item.pk,
                data=TaskData(
                    name=todo.text,
                    owner_id=todo.owner_id,
                    delivery_standard=standard,
                    deadline=todo.due_date,
                    receiver_id=users["zhang"].pk,
                    department_id=departments[department].pk,
                    collaborator_ids=collaborator_ids,
                ),
                source_todo_id=todo.pk,
            )
        task_services.department_exempt(
            actor=coordinator,
            item_id=item.pk,
            department_id=departments["运营部"].pk,
            reason="配合提供用户场景,不单独设任务",
        )
        item.refresh_from_db()
        task_services.item_start_execution(actor=coordinator, item_id=item.pk, version=item.version)
