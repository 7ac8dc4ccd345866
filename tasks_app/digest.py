"""The daily digest (每日汇总) for coordinators and department heads, sent on their working days.

One message per person per day (idempotent by date), listing what needs them: late and stale
tasks and open problems of the items they coordinate; late and escalated tasks of the
departments they head; and the routine notices (routine-sync items) that waited for the digest.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from collab.audit.texts import Date, Joined, Text
from collab.lib.workdays import STATUTORY, WEEKDAYS_ONLY, Calendar
from collab.notify.selectors import digest_recipients, notifications_for_digest
from collab.notify.services import notifications_mark_digested, notify
from collab.org.calendar import calendar_for, official_calendar_for
from collab.org.models import Department, Region, display_name
from requests_app.models import ItemStatus
from tasks_app.models import Alert, Problem, ProblemStatus, Task, TaskStatus

# The permission of importing the State Council's notice: who is told when it is missing.
IMPORT_NOTICE = "add_holidaynotice"


def _lines(tasks: list[Task], problems: list[Problem], escalated: set[int], today: date) -> list[Text]:
    """The digest's lines, stored untranslated: each reader reads them in their language."""
    lines = []
    for task in tasks:
        values = {
            "number": task.item.number,
            "task": task.name,
            "owner": display_name(task.owner),
            "deadline": Date(task.deadline, "Y-m-d"),
        }
        if task.deadline < today:
            line = Text(
                gettext_noop("Late: %(number)s %(task)s (%(owner)s, due %(deadline)s, %(percent)s%%)"),
                percent=task.percent_done,
                **values,
            )
        else:
            line = Text(
                gettext_noop("Report missing: %(number)s %(task)s (%(owner)s, due %(deadline)s)"), **values
            )
        if task.pk in escalated:
            line = Text(gettext_noop("%(line)s [escalated]"), line=line)
        lines.append(line)
    lines += [
        Text(
            gettext_noop("Open problem: %(number)s %(task)s: %(problem)s"),
            number=p.item.number,
            task=p.task.name,
            problem=p.description,
        )
        for p in problems
    ]
    return lines


def send_digests(*, now: datetime | None = None) -> int:
    """Sends each person the digest of their day; returns how many people got one.

    Run every hour by the beat: a person's digest goes out at the first run inside their
    region's working hours on a working day of their region (09:15 in Shanghai, 09:15 Berlin time
    for Berlin), once per local day. Admins also read, in November and December, whether next
    year's holiday schedule is still missing.
    """
    now = now or timezone.now()
    calendars: dict[int | None, Calendar] = {}

    def calendar_of(person: Any) -> Calendar:
        region = getattr(getattr(person, "person", None), "region", None)
        key = region.pk if region is not None else None
        if key not in calendars:
            calendars[key] = calendar_for(region)
        return calendars[key]

    active = (
        Task.objects.filter(item__status=ItemStatus.EXECUTING)
        .exclude(status=TaskStatus.DONE)
        .select_related("item", "owner__person__department", "department")
    )
    stale_ids = set(
        Alert.objects.filter(kind="report_missing", step=0, cancelled_at=None, due_at__lte=now).values_list(
            "task_id", flat=True
        )
    )
    escalated = set(Alert.objects.filter(step__gte=1).exclude(sent_at=None).values_list("task_id", flat=True))
    problems = list(
        Problem.objects.filter(status=ProblemStatus.OPEN, item__status=ItemStatus.EXECUTING).select_related(
            "item", "task"
        )
    )
    since = now - timedelta(days=7)  # older routine notices are stale news; they stay in the app
    routine_people = set(digest_recipients(since=since).values_list("pk", flat=True))
    admins = set(schedule_admins().values_list("pk", flat=True))
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(coordinated_items__status=ItemStatus.EXECUTING)
            | Q(headed_departments__isnull=False)
            | Q(pk__in=routine_people)
            | Q(pk__in=admins)
        )
        .distinct()
        .select_related("person__region")
    )
    tasks = list(active)
    sent = 0
    # One query for every head's departments, not one per person.
    headed_by: dict[int, set[int]] = {}
    for head_id, department_id in Department.objects.filter(head__isnull=False).values_list("head_id", "pk"):
        headed_by.setdefault(head_id, set()).add(department_id)
    for person in people:
        calendar = calendar_of(person)
        if not calendar.is_working_time(now):  # their night, weekend or holiday: a later run
            continue
        today = calendar.localize(now).date()
        headed = headed_by.get(person.pk, set())
        mine = [
            t
            for t in tasks
            if (t.deadline < today or t.pk in stale_ids)
            and (
                t.item.coordinator_id == person.pk
                or t.department_id in headed
                or getattr(getattr(t.owner, "person", None), "department_id", None) in headed
            )
        ]
        my_problems = [
            p for p in problems if p.item.coordinator_id == person.pk or p.task.department_id in headed
        ]
        lines = _lines(mine, my_problems, escalated, today)
        routine = (
            list(notifications_for_digest(recipient=person, since=since))
            if person.pk in routine_people
            else []
        )
        lines += [Text(gettext_noop("Notice: %(title)s"), title=n.title_text or n.title) for n in routine]
        if person.pk in admins:
            lines += missing_schedule_lines(today)
        if not lines:
            continue
        with transaction.atomic():
            # Claim the routine notices first: a second digest run the same day finds none.
            notifications_mark_digested(notification_ids=[n.pk for n in routine])
            sent += _send(person, lines, today)
    return sent


def schedule_admins() -> Any:
    """The people who can import the State Council's notice: superusers and those allowed to."""
    allowed = Q(user_permissions__codename=IMPORT_NOTICE) | Q(groups__permissions__codename=IMPORT_NOTICE)
    return get_user_model().objects.filter(Q(is_superuser=True) | allowed, is_active=True).distinct()


def missing_schedule_lines(today: date) -> list[Text]:
    """In November and December: next year's holiday schedule, if Collab does not know it yet."""
    if today.month < 11:
        return []
    year = today.year + 1
    lines = []
    if official_calendar_for(None).year_schedule(year) == STATUTORY:
        lines.append(
            Text(
                gettext_noop(
                    "The holiday schedule of %(year)s is not in Collab yet: deadlines in %(year)s count "
                    "the statutory holidays but no make-up workdays. Import the State Council's notice "
                    "on the region calendar page once it is published."
                ),
                year=year,
            )
        )
    for region in Region.objects.all():
        if official_calendar_for(region).year_schedule(year) == WEEKDAYS_ONLY:
            lines.append(
                Text(
                    gettext_noop("The public holidays of %(year)s are unknown for the region %(region)s."),
                    year=year,
                    region=region.name,
                )
            )
    return lines


def _send(person: Any, lines: list[Text], today: date) -> int:
    def render() -> tuple[Text, Joined]:
        return (
            Text(
                gettext_noop("Daily digest %(date)s: %(count)s things need you"),
                date=Date(today, "Y-m-d"),
                count=len(lines),
            ),
            Joined(lines),
        )

    created = notify(
        recipients=[person],
        kind="digest",
        render=render,
        url=reverse("requests_app:register"),
        dedupe=f"digest:{today:%Y%m%d}",
    )
    return len(created)
