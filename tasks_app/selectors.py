"""Reads of stage 3: the task sheet of an item, what its breakdown leaves out, register texts."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import dateformat, formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from collab.lib.fill import by_position
from collab.org.models import Department, display_name, name_of
from collab.prepared_rows import prepared
from requests_app.models import CollaborationItem, Participation, Todo
from requests_app.register import Names, rows_of
from tasks_app.models import DepartmentExemption, Task


def item_departments(item: CollaborationItem) -> QuerySet[Department]:
    """The departments a task of the item may belong to, by name: the requesting and the
    participating ones. One query when it runs (the participations are a subquery), none when a
    form only sets it as a field's choices."""
    participating = Participation.objects.filter(item_id=item.pk).values("department_id")
    return Department.objects.filter(Q(pk=item.requesting_department_id) | Q(pk__in=participating)).order_by(
        "name"
    )


def _departments_of_item(pk: int) -> QuerySet[Department]:
    requesting = CollaborationItem.objects.filter(pk=pk).values("requesting_department_id")
    participating = Participation.objects.filter(item_id=pk).values("department_id")
    return Department.objects.filter(Q(pk__in=requesting) | Q(pk__in=participating)).order_by("name")


def item_department_rows(item: CollaborationItem) -> list[Department]:
    """``item_departments(item)`` read through a statement compiled once per connection (the
    writes: the task form's choice and the service's check)."""
    return prepared(_departments_of_item, key_repeats=True).all(item.pk)


def sheet_tasks(item: CollaborationItem) -> QuerySet[Task]:
    """The item's tasks with everything the sheet, the print and the export show, in 2 queries."""
    people = get_user_model().objects.select_related("person").order_by("last_name", "first_name", "pk")
    return (
        Task.objects.filter(item=item)
        .select_related("owner__person__region", "receiver__person", "department", "source_todo")
        .prefetch_related(Prefetch("collaborators", queryset=people))
        .order_by("deadline", "pk")
    )


@dataclass
class Breakdown:
    """The state of an item's task breakdown and what it still leaves out (保证无遗漏)."""

    tasks: list[Task]
    open_todos: Sequence[Todo]  # neither a task nor dropped
    dropped_todos: Sequence[Todo]
    uncovered_departments: list[Department]  # participating, without a task and without a reason
    exemptions: list[DepartmentExemption]
    gaps: list[str]


def item_breakdown(item: CollaborationItem) -> Breakdown:
    """Everything the task sheet shows about coverage, in a fixed number of queries.

    1. Load the tasks, the to-dos of every minutes of the item's meetings, the participating
       departments and the recorded exemptions.
    2. A to-do is covered when a task was made from it or it was dropped with a reason.
    3. A participating department is covered by a task of its own or a recorded exemption.
    4. Every task needs an owner, a delivery standard and a deadline (the database insists on
       them; this check also catches a standard of blanks written around the services).
    """
    tasks = list(sheet_tasks(item))
    todos = list(
        Todo.objects.filter(minutes__meeting__item=item)
        .annotate(has_task=Exists(Task.objects.filter(source_todo=OuterRef("pk"))))
        .select_related("owner__person", "dropped_by__person")
        .order_by("due_date", "pk")
    )
    open_todos = [t for t in todos if not t.has_task and not _dropped(t)]
    dropped_todos = [t for t in todos if not t.has_task and _dropped(t)]
    exemptions = list(
        DepartmentExemption.objects.filter(item=item)
        .select_related("department", "decided_by__person")
        .order_by("department__name")
    )
    with_task = {t.department_id for t in tasks}
    exempt = {e.department_id for e in exemptions}
    participating: dict[int, Department] = {}
    for participation in item.participations.select_related("department").order_by("pk"):
        participating.setdefault(participation.department_id, participation.department)
    uncovered = [d for pk, d in participating.items() if pk not in with_task and pk not in exempt]

    gaps: list[str] = []
    if not tasks:
        gaps.append(_("No task has been planned yet."))
    gaps += [
        _('The to-do "%(todo)s" has neither become a task nor been dropped with a reason.') % {"todo": t.text}
        for t in open_todos
    ]
    gaps += [
        _("%(department)s takes part but has no task: give it one, or record why it needs none.")
        % {"department": d}
        for d in uncovered
    ]
    for task in tasks:
        if task.owner_id is None:
            gaps.append(_('The task "%(task)s" has no owner.') % {"task": task.name})
        if not task.delivery_standard.strip():
            gaps.append(_('The task "%(task)s" has no delivery standard.') % {"task": task.name})
        if task.deadline is None:
            gaps.append(_('The task "%(task)s" has no deadline.') % {"task": task.name})
    return Breakdown(
        tasks=tasks,
        open_todos=open_todos,
        dropped_todos=dropped_todos,
        uncovered_departments=uncovered,
        exemptions=exemptions,
        gaps=gaps,
    )


def _dropped(todo: Todo) -> bool:
    return todo.dropped_at is not None and bool(todo.dropped_reason.strip())


def breakdown_gaps(item: CollaborationItem) -> list[str]:
    """What the item's task breakdown leaves out, each naming the to-do, department or task."""
    return item_breakdown(item).gaps


def open_todo_for(item: CollaborationItem, todo_id: int) -> Todo | None:
    """A to-do of the item's minutes that may still become a task, else None."""
    return (
        Todo.objects.filter(pk=todo_id, minutes__meeting__item=item, task__isnull=True, dropped_at=None)
        .select_related("owner")
        .first()
    )


# ---------------------------------------------------------------------------------------------
# The register's columns "key conclusions / task assignments", "owner" and "deadline".


def register_tasks_prefetch() -> Prefetch:
    """Prefetch for item querysets so the texts below cost no query per item."""
    return Prefetch(
        "tasks", queryset=Task.objects.select_related("department", "owner").order_by("deadline", "pk")
    )


class TaskLine(NamedTuple):
    """What the register shows of one task, as plain values."""

    owner_id: int
    department: str
    owner: str
    name: str
    deadline: date


def task_line(task: Task) -> TaskLine:
    return TaskLine(task.owner_id, str(task.department), display_name(task.owner), task.name, task.deadline)


def task_lines_for(item_ids: Sequence[int], names: Names | None = None) -> dict[int, list[TaskLine]]:
    """The lines of many items in one query, without model instances: the departments' and
    owners' names joined (the register page), or taken from a long export's ``names``."""
    tasks = Task.objects.filter(rows_of(Task, "item_id", item_ids)).order_by("deadline", "pk")
    lines: dict[int, list[TaskLine]] = {}
    if names is not None:
        rows = list(tasks.values_list("item_id", "owner_id", "department_id", "name", "deadline"))
        names.read((row[2] for row in rows), (row[1] for row in rows))
        departments, people = names.departments, names.people
        for item_id, owner_id, department_id, name, deadline in rows:
            line = TaskLine(owner_id, departments[department_id], people[owner_id], name, deadline)
            if (item_lines := lines.get(item_id)) is None:
                lines[item_id] = [line]
            else:
                item_lines.append(line)
        return lines
    joined = tasks.values_list(
        "item_id",
        "owner_id",
        "department__name",
        "owner__first_name",
        "owner__last_name",
        "owner__username",
        "name",
        "deadline",
    )
    owners: dict[int, str] = {}  # an owner has many tasks: the name is made once
    for item_id, owner_id, department, first, last, username, name, deadline in joined:
        if (person := owners.get(owner_id)) is None:
            person = owners[owner_id] = name_of(first, last, username)
        lines.setdefault(item_id, []).append(TaskLine(owner_id, department, person, name, deadline))
    return lines


class TaskTexts:
    """The register's task texts, with every translated label looked up once (an export of
    100,000 items writes them hundreds of thousands of times)."""

    def __init__(self) -> None:
        self.who = by_position(_("%(department)s %(person)s"), "department", "person")
        self.clause = by_position(
            _("%(index)s. %(who)s: %(task)s by %(date)s"), "index", "who", "task", "date"
        )
        self.clauses = pgettext("clause separator", "; ")
        self.items = pgettext("list separator", ", ")
        self.month_day = formats.get_format("MONTH_DAY_FORMAT")
        self.dates: dict[date, str] = {}  # a few hundred distinct deadlines among many tasks

    def _month_day(self, day: date) -> str:
        if (text := self.dates.get(day)) is None:
            text = self.dates[day] = dateformat.format(day, self.month_day)
        return text

    def assignment(self, lines: Iterable[TaskLine]) -> str:
        """The template's style: "1.测试部王芳10月5日前提交测试计划;2.研发部孙磊10月10日前完成功能修复"."""
        clause, who, dates = self.clause, self.who, self.dates
        return self.clauses.join(
            [
                clause(
                    (
                        index,
                        who((line.department, line.owner)),
                        line.name,
                        dates.get(line.deadline) or self._month_day(line.deadline),
                    )
                )
                for index, line in enumerate(lines, start=1)
            ]
        )

    def owners(self, lines: Iterable[TaskLine]) -> str:
        """The distinct owners with their departments, in task order: "测试部/王芳、研发部/孙磊"."""
        seen: dict[int, str] = {}
        for line in lines:
            seen.setdefault(line.owner_id, f"{line.department}/{line.owner}")
        return self.items.join(seen.values())


def task_assignment_text(tasks: Iterable[Task]) -> str:
    return TaskTexts().assignment(map(task_line, tasks))


def owners_text(tasks: Iterable[Task]) -> str:
    return TaskTexts().owners(map(task_line, tasks))


def latest_deadline(tasks: Iterable[Any]) -> date | None:
    return max((task.deadline for task in tasks), default=None)
