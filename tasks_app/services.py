"""Writes of stage 3: breaking the agreed work into tasks (《任务分解与分配表》).

The requester or coordinator turns the to-dos of the minutes into tasks (or drops them with a
reason), gives every participating department a task (or records why it has none), and starts
execution once nothing is left out. Each service runs in one transaction that locks the item row,
so two coordinators planning at once queue instead of racing past the "nothing left out" check;
it writes the audit entry and keeps the item's object permissions in step. People hear of their
assignment after the commit.
"""

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from collab.audit.services import audit_record
from collab.audit.texts import Joined, Text
from collab.lib.workdays import Calendar
from collab.notify.handoffs import handoff_event
from collab.notify.services import notify, notify_all, urgency_for_item
from collab.org.models import Department, display_name
from requests_app.health_facts import item_health_refresh
from requests_app.models import CollaborationItem, ItemStatus, Todo
from requests_app.services import (
    ItemError,
    StaleVersionError,
    item_grant_view,
    item_sync_permissions,
    item_transition,
    lock_item,
    locked_item,
)
from tasks_app import alerts
from tasks_app.access import PLAN_TASKS
from tasks_app.models import DepartmentExemption, Task
from tasks_app.rules import TaskData, task_problems
from tasks_app.selectors import breakdown_gaps, item_department_rows

# The stages in which tasks are planned and re-planned. Execution may still add or change tasks:
# real work is not linear, and a meeting during execution can produce new to-dos.
PLANNING_STATUSES = {ItemStatus.CONSENSUS, ItemStatus.PLANNED, ItemStatus.EXECUTING}


def _locked_item(item_id: int) -> CollaborationItem:
    # The row lock serialises every planning write of one item with item_start_execution's
    # check, so a task cannot slip in (or out) between the check and the transition.
    return locked_item(item_id)


def _require_planner(actor: Any, item: CollaborationItem) -> None:
    PLAN_TASKS.require(actor, item)


def _require_planning_stage(item: CollaborationItem) -> None:
    if item.status not in PLANNING_STATUSES:
        raise ItemError(
            _(
                "Tasks are planned after consensus: the minutes must be confirmed by every "
                "participating department first."
            )
        )


def _check(item: CollaborationItem, data: TaskData) -> tuple[date, Department]:
    """The task's deadline and department when ``data`` keeps every rule, else ItemError with
    the problems."""
    problems = task_problems(data)
    # The chosen department if it is one of the item's (one query; its name goes to the audit).
    department = next((d for d in item_department_rows(item) if d.pk == data.department_id), None)
    if department is None:
        problems.setdefault("department", []).append(
            _("Choose the requesting department or one of the participating departments of this item.")
        )
    if problems or data.deadline is None or department is None:
        raise ItemError(_("The task breaks the template's rules."), problems)
    return data.deadline, department


def _snapshot(task: Task, collaborators: list[Any] | None = None) -> dict[str, str]:
    """The task as text, for the audit log (``collaborators``: the users, when already loaded)."""
    names = pgettext("list separator", ", ").join(
        sorted(
            display_name(u) for u in (task.collaborators.all() if collaborators is None else collaborators)
        )
    )
    return {
        "task": task.name,
        "owner": display_name(task.owner),
        "collaborators": names,
        "delivery_standard": task.delivery_standard,
        "deadline": f"{task.deadline:%Y-%m-%d}",
        "receiver": display_name(task.receiver),
        "department": str(task.department),
    }


def _write(task: Task, data: TaskData, deadline: date, department: Department) -> None:
    """The form's fields onto the task, saved with its collaborators; a new task has none to
    compare with, so they are inserted without ``set()``'s read."""
    new = task.pk is None
    task.name = data.name.strip()
    task.owner_id = data.owner_id
    task.delivery_standard = data.delivery_standard.strip()
    task.deadline = deadline
    task.receiver_id = data.receiver_id
    task.department = department
    task.save()
    if not new:
        task.collaborators.set(data.collaborator_ids)
    elif data.collaborator_ids:
        Through = Task.collaborators.through
        Through.objects.bulk_create(Through(task_id=task.pk, user_id=pk) for pk in set(data.collaborator_ids))


def _people(task: Task, collaborator_ids: list[int], known: dict[int, Any] | None = None) -> dict[int, Any]:
    """The task's owner, receiver and collaborators by id, each with their person and region;
    the owner and the receiver are set on the task (no lazy load of each later). ``known``: the
    users the caller read already with their persons and regions (the form), used when it has
    them all."""
    wanted = {task.owner_id, task.receiver_id, *collaborator_ids}
    if known is not None and wanted <= known.keys():
        people = {pk: known[pk] for pk in wanted}
    else:
        people = {
            user.pk: user
            for user in get_user_model().objects.select_related("person__region").filter(pk__in=wanted)
        }
    task.owner, task.receiver = people[task.owner_id], people[task.receiver_id]
    return people


@transaction.atomic
def task_create(
    *,
    actor: Any,
    item_id: int,
    data: TaskData,
    source_todo_id: int | None = None,
    people: dict[int, Any] | None = None,
    calendar: Calendar | None = None,
) -> Task:
    """A new task of the item; the first one moves the item from consensus to planning.

    What the caller has read already is not read again: ``people``, users by id with their
    persons and regions (the form's), and ``calendar``, the owner's (the view's day-off question).
    """
    item = _locked_item(item_id)
    _require_planner(actor, item)
    _require_planning_stage(item)
    deadline, department = _check(item, data)
    todo = _todo_for_task(item, source_todo_id) if source_todo_id is not None else None
    if item.status == ItemStatus.CONSENSUS:
        # Before the task is written: an open task belongs to a planned or executing item (the
        # database's open-task guard); a failure below rolls the move back with the rest.
        item_transition(
            actor=actor,
            item=item,
            to=ItemStatus.PLANNED,
            note=Text(gettext_noop('Planning started with the task "%(task)s".'), task=data.name.strip()),
        )
    task = Task(item=item, created_by=actor, source_todo=todo)
    _write(task, data, deadline, department)
    # Its people with their persons and regions, in one query: the audit's names, the
    # assignment's languages and e-mails, the owner's calendar for the warnings.
    people = _people(task, data.collaborator_ids, people)
    # A new task only adds people: they are granted the view, nothing is re-read or taken back.
    item_grant_view(item=item, user_ids=[task.owner_id, task.receiver_id, *data.collaborator_ids])
    collaborators = [people[pk] for pk in data.collaborator_ids if pk in people]
    changes: dict[str, Any] = {key: [None, value] for key, value in _snapshot(task, collaborators).items()}
    if todo is not None:
        changes["todo"] = [None, todo.text]
    audit_record(actor=actor, action="task.created", target=item, changes=changes)
    _announce(task, owner=True, collaborator_ids=set(data.collaborator_ids), receiver=True, people=people)
    if item.status == ItemStatus.EXECUTING:
        alerts.plan_alerts(task, new=True, calendar=calendar)
    item_health_refresh([item.pk])
    return task


def _todo_for_task(item: CollaborationItem, todo_id: int) -> Todo:
    # Only the to-do is locked (not its minutes and meeting, which confirmations and to-dos name).
    todo = (
        Todo.objects.select_for_update(no_key=True, of=("self",))
        .select_related("minutes__meeting")
        .filter(pk=todo_id)
        .first()
    )
    if todo is None or todo.minutes.meeting.item_id != item.pk:
        raise ItemError(_("This to-do is not in the minutes of this item."))
    if Task.objects.filter(source_todo=todo).exists():
        raise ItemError(_('The to-do "%(todo)s" has already become a task.') % {"todo": todo.text})
    if todo.dropped_at is not None:
        raise ItemError(_('The to-do "%(todo)s" was dropped.') % {"todo": todo.text})
    return todo


@transaction.atomic
def task_update(*, actor: Any, task_id: int, version: int, data: TaskData) -> Task:
    """Changes a task; people newly on it are told, people still on it hear what changed."""
    item_id = Task.objects.values_list("item_id", flat=True).get(pk=task_id)
    item = _locked_item(item_id)
    task = Task.objects.select_related("owner", "receiver", "department").get(pk=task_id)
    task.item = item
    if task.version != version:
        raise StaleVersionError(
            _(
                "Someone else changed this task while you were editing it. Nothing was saved: "
                "reload the page to see their change, then make yours again."
            )
        )
    _require_planner(actor, item)
    _require_planning_stage(item)
    deadline, department = _check(item, data)
    before = _snapshot(task)
    old_owner, old_receiver = task.owner_id, task.receiver_id
    old_collaborators = set(task.collaborators.values_list("pk", flat=True))
    task.version += 1
    _write(task, data, deadline, department)
    after = _snapshot(task)
    changes = {key: [before[key], value] for key, value in after.items() if before[key] != value}
    if not changes:
        raise ItemError(_("Nothing was changed."))
    if "task" in changes and task.deliverables.exclude(locked_at=None).exists():
        raise ItemError(_("A signed acceptance form names this task; its name can no longer change."))
    new_collaborators = set(data.collaborator_ids)
    before_people = old_collaborators | {old_owner, old_receiver}
    after_people = new_collaborators | {task.owner_id, task.receiver_id}
    if before_people <= after_people:
        # Nobody left the task: the newcomers (if any) are granted the view, nothing is re-read.
        item_grant_view(item=item, user_ids=after_people - before_people)
    else:
        # Someone left it: they may have no other part in the item, and lose the view.
        item_sync_permissions(item=item)
    audit_record(actor=actor, action="task.updated", target=item, changes=changes)
    _announce(
        task,
        owner=task.owner_id != old_owner,
        collaborator_ids=new_collaborators - old_collaborators - {old_owner},
        receiver=task.receiver_id != old_receiver,
    )
    if item.status == ItemStatus.EXECUTING and changes.keys() & {"deadline", "owner"}:
        # A moved deadline or a new owner starts the warnings afresh; nothing stale is sent.
        alerts.plan_alerts(task)
    item_health_refresh([item.pk])
    if changes.keys() & {"task", "delivery_standard", "deadline"}:
        # Whoever was on the task before and still is: the newly added got the whole task above.
        stayed = (before_people & after_people) - {actor.pk}
        _announce_change(task, recipient_ids=stayed, changes=changes)
    return task


def _sheet_url(task: Task) -> str:
    return f"{reverse('tasks_app:task_sheet', args=[task.item_id])}#task-{task.pk}"


def _announce(
    task: Task,
    *,
    owner: bool,
    collaborator_ids: set[int],
    receiver: bool,
    people: dict[int, Any] | None = None,
) -> None:
    """Tells the people newly on ``task`` what they took on (in-app and by e-mail). ``people``:
    the users by id with their persons, when the caller has them already."""
    item = task.item
    wanted = collaborator_ids - {task.owner_id}
    wanted |= {task.owner_id} if owner else set()
    wanted |= {task.receiver_id} if receiver else set()
    # Everyone told, with their person (language, e-mail), in one query.
    users = people or {
        u.pk: u for u in get_user_model().objects.select_related("person").filter(pk__in=wanted)
    }
    owner_user = users.get(task.owner_id) if owner else None
    collaborators = [users[pk] for pk in sorted(collaborator_ids - {task.owner_id}) if pk in users]
    receiver_user = users.get(task.receiver_id) if receiver else None

    def details() -> Text:
        return Text(
            gettext_noop(
                "Item: %(number)s %(topic)s\nOwner: %(owner)s\nDelivery standard: %(standard)s\n"
                "Deadline: %(deadline)s\nReceiver: %(receiver)s"
            ),
            number=item.number or "",
            topic=item.topic,
            owner=display_name(task.owner),
            standard=task.delivery_standard,
            deadline=task.deadline,
            receiver=display_name(task.receiver),
        )

    def as_owner() -> tuple[Text, Text]:
        return Text(gettext_noop('You own the task "%(task)s"'), task=task.name), details()

    def as_collaborator() -> tuple[Text, Text]:
        return Text(gettext_noop('You collaborate on the task "%(task)s"'), task=task.name), details()

    def as_receiver() -> tuple[Text, Text]:
        return Text(
            gettext_noop('You receive the deliverable of the task "%(task)s"'), task=task.name
        ), details()

    # One event per task version: repeating the call (a retried request) tells nobody twice.
    dedupe = f"task.assigned:{task.pk}:{task.version}"
    # The three roles go out together: one pass over preferences, notifications and deliveries.
    notify_all(
        [
            handoff_event(
                "task.assigned",
                recipients=recipients,
                render=render,
                url=_sheet_url(task),
                item=item,
                dedupe=f"{dedupe}:{role}",
            )
            for recipients, render, role in (
                ([owner_user] if owner_user else [], as_owner, "owner"),
                (collaborators, as_collaborator, "collaborator"),
                ([receiver_user] if receiver_user else [], as_receiver, "receiver"),
            )
            if recipients
        ]
    )


def _announce_change(task: Task, *, recipient_ids: set[int], changes: dict[str, list[str]]) -> None:
    """People who stay on a task hear when what is expected of them changes."""
    if not recipient_ids:
        return
    recipients = list(get_user_model().objects.filter(pk__in=recipient_ids).select_related("person"))

    def value(key: str, stored: str) -> str | date:
        # A deadline is stored as an ISO date: shown in each reader's date format.
        return date.fromisoformat(stored) if key == "deadline" and stored else stored

    def render() -> tuple[Text, Joined]:
        labels = {
            "task": gettext_noop("Task"),
            "delivery_standard": gettext_noop("Delivery standard"),
            "deadline": gettext_noop("Deadline"),
        }
        lines = [
            Text(
                gettext_noop("%(field)s: %(old)s → %(new)s"),
                field=Text(labels[key]),
                old=value(key, old),
                new=value(key, new),
            )
            for key, (old, new) in changes.items()
            if key in labels
        ]
        return Text(gettext_noop('The task "%(task)s" changed'), task=task.name), Joined(lines)

    notify(
        recipients=recipients,
        kind="task.changed",
        render=render,
        url=_sheet_url(task),
        item=task.item,
        dedupe=f"task.changed:{task.pk}:{task.version}",
        urgency=urgency_for_item(task.item),
    )


@transaction.atomic
def todo_drop(*, actor: Any, todo_id: int, reason: str) -> Todo:
    """Records that a to-do of the minutes becomes no task, and why (保证无遗漏: said, not forgotten)."""
    item_id = Todo.objects.values_list("minutes__meeting__item_id", flat=True).get(pk=todo_id)
    item = _locked_item(item_id)
    _require_planner(actor, item)
    _require_planning_stage(item)
    todo = Todo.objects.select_for_update(no_key=True).get(pk=todo_id)
    if not reason.strip():
        raise ItemError(
            _("Say why the to-do needs no task: every party will read it."),
            {"reason": [_("This field is required.")]},
        )
    if Task.objects.filter(source_todo=todo).exists():
        raise ItemError(_('The to-do "%(todo)s" has already become a task.') % {"todo": todo.text})
    if todo.dropped_at is not None:
        raise ItemError(_('The to-do "%(todo)s" was dropped.') % {"todo": todo.text})
    todo.dropped_reason = reason.strip()
    todo.dropped_by = actor
    todo.dropped_at = timezone.now()
    todo.save(update_fields=["dropped_reason", "dropped_by", "dropped_at"])
    audit_record(
        actor=actor,
        action="todo.dropped",
        target=item,
        changes={"todo": [todo.text, None]},
        note=todo.dropped_reason,
    )
    item_health_refresh([item.pk])
    return todo


@transaction.atomic
def department_exempt(*, actor: Any, item_id: int, department_id: int, reason: str) -> DepartmentExemption:
    """Records that a participating department gets no task, and why."""
    item = _locked_item(item_id)
    _require_planner(actor, item)
    _require_planning_stage(item)
    department = Department.objects.filter(pk=department_id).first()
    if department is None or not item.participations.filter(department=department).exists():
        raise ItemError(_("Only a participating department of this item can be left without a task."))
    if not reason.strip():
        raise ItemError(
            _("Say why %(department)s needs no task: every party will read it.") % {"department": department},
            {"reason": [_("This field is required.")]},
        )
    if Task.objects.filter(item=item, department=department).exists():
        raise ItemError(_("%(department)s already has a task.") % {"department": department})
    if DepartmentExemption.objects.filter(item=item, department=department).exists():
        raise ItemError(
            _("It is already recorded why %(department)s has no task.") % {"department": department}
        )
    exemption = DepartmentExemption.objects.create(
        item=item, department=department, reason=reason.strip(), decided_by=actor
    )
    audit_record(
        actor=actor,
        action="department.exempted",
        target=item,
        changes={"department": [None, str(department)]},
        note=exemption.reason,
    )
    item_health_refresh([item.pk])
    return exemption


@transaction.atomic
def department_exemption_remove(*, actor: Any, exemption_id: int) -> None:
    """Takes back "no task for this department": the department needs a task again."""
    item_id = DepartmentExemption.objects.values_list("item_id", flat=True).get(pk=exemption_id)
    item = _locked_item(item_id)
    _require_planner(actor, item)
    _require_planning_stage(item)
    exemption = DepartmentExemption.objects.select_related("department").get(pk=exemption_id)
    exemption.delete()
    audit_record(
        actor=actor,
        action="department.exemption_removed",
        target=item,
        changes={"department": [str(exemption.department), None]},
        note=exemption.reason,
    )
    item_health_refresh([item.pk])


@transaction.atomic
def item_start_execution(*, actor: Any, item_id: int, version: int) -> CollaborationItem:
    """Moves a planned item to execution once nothing is left out (保证无遗漏)."""
    item = lock_item(item_id, version)
    _require_planner(actor, item)
    if item.status == ItemStatus.EXECUTING:
        raise ItemError(_("Execution has already started."))
    _require_planning_stage(item)
    # At consensus there is no task yet, which the gaps say in words.
    if gaps := breakdown_gaps(item):
        raise ItemError(_("The task breakdown leaves something out:"), {"gaps": gaps})
    item_transition(actor=actor, item=item, to=ItemStatus.EXECUTING)
    # Warnings start with execution: deadlines, and the first progress report one cadence away.
    for task in Task.objects.filter(item=item).select_related("item", "owner__person__region"):
        alerts.plan_alerts(task)
    item_health_refresh([item.pk])
    return item
