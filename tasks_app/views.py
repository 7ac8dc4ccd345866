"""Views of stage 3: the task sheet of an item and its writes. Thin: access check, form, service,
redirect. Access follows the item: outsiders get 404, read-only participants 403 on writes."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collab.downloads import xlsx_response
from collab.lib.numbers import parse_whole_number
from collab.lib.workdays import Calendar
from collab.org.calendar import calendar_of
from requests_app.access import item_for
from requests_app.day_off import Committed, answered, question
from requests_app.forms import posted_version
from requests_app.models import ItemStatus, Todo
from requests_app.rules import vague_wording_errors
from requests_app.services import ItemError
from tasks_app import services
from tasks_app.access import PLAN_TASKS
from tasks_app.forms import DropTodoForm, ExemptionForm, TaskForm
from tasks_app.models import DepartmentExemption, Task
from tasks_app.rules import (
    TaskData,
    day_kind_warning,
    deadline_warnings,
    delivery_standard_warnings,
    holiday_name,
    task_owner,
)
from tasks_app.selectors import item_breakdown, open_todo_for, sheet_tasks
from tasks_app.services import PLANNING_STATUSES
from tasks_app.sheet import TASK_SHEET_COLUMNS, sheet_row, task_sheet_book


def _sheet(pk: int) -> HttpResponseRedirect:
    return redirect("tasks_app:task_sheet", pk=pk)


def _error(request: HttpRequest, error: ItemError) -> None:
    messages.error(request, error.message)
    for field_messages in error.problems.values():
        for message in field_messages:
            messages.error(request, message)


@login_required
@require_GET
def task_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    can_plan = PLAN_TASKS.allows(request.user, item)
    breakdown = item_breakdown(item)
    tasks = []
    calendars: dict[int | None, Calendar] = {}  # one per owner region, not one per task
    for task in breakdown.tasks:
        region = getattr(getattr(task.owner, "person", None), "region_id", None)
        if region not in calendars:
            calendars[region] = calendar_of(task.owner)
        kind = calendars[region].day_kind(task.deadline)
        day_off = holiday_name(kind.reason, kind.name) if kind.reason else ""
        tasks.append((task, day_off, day_kind_warning(kind) if day_off else None))
    context = {
        "item": item,
        "breakdown": breakdown,
        "tasks": tasks,
        "can_plan": can_plan and item.status in PLANNING_STATUSES,
        "planning_open": item.status in PLANNING_STATUSES,
        "can_start": can_plan and item.status == ItemStatus.PLANNED,
    }
    return render(request, "tasks_app/task_sheet.html", context)


@login_required
@require_GET
def task_sheet_print(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    rows = [(index, sheet_row(task)) for index, task in enumerate(sheet_tasks(item), start=1)]
    return render(
        request,
        "tasks_app/task_sheet_print.html",
        {"item": item, "columns": TASK_SHEET_COLUMNS, "rows": rows},
    )


@login_required
@require_GET
def task_sheet_export(request: HttpRequest, pk: int) -> HttpResponseBase:
    item = item_for(request.user, pk)
    filename = _("task-sheet-%(number)s-%(date)s.xlsx") % {
        "number": item.number or item.pk,
        "date": f"{timezone.localdate():%Y%m%d}",
    }
    return xlsx_response(filename, task_sheet_book(item, sheet_tasks(item)))


def _warn(request: HttpRequest, data: TaskData) -> None:
    """The non-blocking warnings of a saved task, shown on the next page (a deadline on a day
    off was asked about before saving, so the owner's calendar is not read again)."""
    for warning in delivery_standard_warnings(data.delivery_standard):
        messages.warning(request, warning)


def _deadline(form: TaskForm) -> list[Committed]:
    """The task's deadline, judged by its owner's calendar like the hint under the field."""
    return [
        Committed(
            "deadline",
            _('Task "%(task)s", deadline') % {"task": form.cleaned_data["name"]},
            form.cleaned_data["deadline"],
            calendar_of(form.cleaned_data.get("owner")),
        )
    ]


def _form_warnings(form: TaskForm) -> dict[str, list[str]]:
    """Warnings for the fields that are valid so far, shown under them when the form comes back."""
    cleaned = getattr(form, "cleaned_data", {})
    return {
        "deadline": deadline_warnings(cleaned.get("deadline"), cleaned.get("owner")),
        "delivery_standard": delivery_standard_warnings(cleaned.get("delivery_standard", "")),
    }


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, PLAN_TASKS)
    if item.status not in PLANNING_STATUSES:
        messages.error(
            request,
            _(
                "Tasks are planned after consensus: the minutes must be confirmed by every "
                "participating department first."
            ),
        )
        return _sheet(item.pk)
    todo: Todo | None = None
    todo_id = request.POST.get("todo") or request.GET.get("todo")
    if todo_id:
        number = parse_whole_number(todo_id)
        todo = open_todo_for(item, number) if number is not None else None
        if todo is None:
            messages.error(
                request, _("This to-do has already become a task, was dropped, or is not in this item.")
            )
            return _sheet(item.pk)
    if request.method == "POST":
        posted = answered(request.POST)
        form = TaskForm(posted, item=item)
        if form.is_valid():
            deadline = _deadline(form)
            if ask := question(posted, deadline):
                context = {"item": item, "form": form, "task": None, "todo": todo, "warnings": {}}
                return render(request, "tasks_app/task_form.html", {**context, **ask})
            data = form.data_for_service()
            try:
                # The people the form read and the owner's calendar the question used.
                task = services.task_create(
                    actor=request.user,
                    item_id=item.pk,
                    data=data,
                    source_todo_id=todo.pk if todo else None,
                    people=form.people,
                    calendar=deadline[0].calendar,
                )
            except ItemError as error:
                form.apply_rules(error.problems)
                messages.error(request, error.message)
            else:
                messages.success(
                    request, _('Task "%(task)s" assigned; its people have been told.') % {"task": task.name}
                )
                _warn(request, data)
                return _sheet(item.pk)
    else:
        form = TaskForm.for_todo(item=item, todo=todo) if todo else TaskForm(item=item)
    return render(
        request,
        "tasks_app/task_form.html",
        {"item": item, "form": form, "task": None, "todo": todo, "warnings": _form_warnings(form)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    item = item_for(request.user, pk, PLAN_TASKS)
    task = get_object_or_404(Task.objects.prefetch_related("collaborators"), pk=task_pk, item=item)
    version = posted_version(request) if request.method == "POST" else task.version
    if request.method == "POST":
        posted = answered(request.POST)
        form = TaskForm(posted, item=item)
        if form.is_valid() and (ask := question(posted, _deadline(form))):
            context = {"item": item, "form": form, "task": task, "version": version, "warnings": {}}
            return render(request, "tasks_app/task_form.html", {**context, **ask})
        if form.is_valid():
            data = form.data_for_service()
            try:
                task = services.task_update(actor=request.user, task_id=task.pk, version=version, data=data)
            except ItemError as error:
                form.apply_rules(error.problems)
                messages.error(request, error.message)
            else:
                messages.success(request, _('Task "%(task)s" saved.') % {"task": task.name})
                _warn(request, data)
                return _sheet(item.pk)
    else:
        form = TaskForm.for_task(item=item, task=task)
    return render(
        request,
        "tasks_app/task_form.html",
        {"item": item, "form": form, "task": task, "version": version, "warnings": _form_warnings(form)},
    )


@login_required
@require_POST
def todo_drop(request: HttpRequest, pk: int, todo_pk: int) -> HttpResponse:
    item = item_for(request.user, pk, PLAN_TASKS)
    todo = get_object_or_404(Todo, pk=todo_pk, minutes__meeting__item=item)
    form = DropTodoForm(request.POST)
    if not form.is_valid():
        messages.error(request, _('Say why the to-do "%(todo)s" needs no task.') % {"todo": todo.text})
        return _sheet(item.pk)
    try:
        services.todo_drop(actor=request.user, todo_id=todo.pk, reason=form.cleaned_data["reason"])
    except ItemError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _('The to-do "%(todo)s" needs no task; the reason is recorded.') % {"todo": todo.text}
        )
    return _sheet(item.pk)


@login_required
@require_POST
def department_exempt(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, PLAN_TASKS)
    form = ExemptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the department needs no task."))
        return _sheet(item.pk)
    try:
        exemption = services.department_exempt(
            actor=request.user,
            item_id=item.pk,
            department_id=form.cleaned_data["department"],
            reason=form.cleaned_data["reason"],
        )
    except ItemError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Recorded why %(department)s has no task.") % {"department": exemption.department},
        )
    return _sheet(item.pk)


@login_required
@require_POST
def exemption_remove(request: HttpRequest, pk: int, exemption_pk: int) -> HttpResponse:
    item = item_for(request.user, pk, PLAN_TASKS)
    exemption = get_object_or_404(
        DepartmentExemption.objects.select_related("department"), pk=exemption_pk, item=item
    )
    try:
        services.department_exemption_remove(actor=request.user, exemption_id=exemption.pk)
    except ItemError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(department)s needs a task again.") % {"department": exemption.department}
        )
    return _sheet(item.pk)


@login_required
@require_POST
def start_execution(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, PLAN_TASKS)
    try:
        services.item_start_execution(actor=request.user, item_id=item.pk, version=posted_version(request))
    except ItemError as error:
        _error(request, error)
    else:
        messages.success(
            request, _("Execution has started: every task has its owner, standard and deadline.")
        )
    return _sheet(item.pk)


@login_required
@require_POST
def check_task_field(request: HttpRequest) -> HttpResponse:
    """HTMX: the checks of the deadline or the delivery standard while the person types."""
    field = request.POST.get("field", "")
    problems: list[str] = []
    warnings: list[str] = []
    if field == "deadline":
        # The enclosing form's owner comes along: the deadline is judged in their region.
        owner = request.POST.get("owner", "")
        warnings = deadline_warnings(
            _parse_date(request.POST.get("deadline", "")), task_owner(int(owner)) if owner.isdigit() else None
        )
    elif field == "delivery_standard":
        standard = request.POST.get("delivery_standard", "")
        problems = vague_wording_errors(standard)
        warnings = delivery_standard_warnings(standard)
    return render(request, "tasks_app/task_form.html#check", {"problems": problems, "warnings": warnings})


def _parse_date(value: str) -> date | None:
    try:
        return parse_date(value.strip())
    except ValueError:  # well formed but impossible, such as 2026-02-30
        return None
