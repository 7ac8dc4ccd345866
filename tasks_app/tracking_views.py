"""Views of stage 4: the coordinator's progress view, progress reports and the problem list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from collab.downloads import xlsx_response
from collab.prepared_rows import row_by_key
from requests_app.access import item_for
from requests_app.models import ItemStatus, Milestone
from requests_app.services import ItemError
from tasks_app import tracking_services
from tasks_app.access import HAND_OVER_PROBLEM, REPORT, RESOLVE_PROBLEM, SET_CADENCE
from tasks_app.models import Problem, Task
from tasks_app.tracking import (
    PROGRESS_RECORD_COLUMNS,
    milestone_report,
    open_problems,
    progress_record_book,
    record_row,
    tracked_tasks,
)
from tasks_app.tracking_forms import AssignProblemForm, CadenceForm, ReportForm, ResolveForm


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    states = tracked_tasks(item)
    can_edit = SET_CADENCE.allows(request.user, item)
    context = {
        "item": item,
        "states": states,
        "problems": open_problems(item),
        "can_edit": can_edit,
        "cadence_form": CadenceForm(initial={"cadence": item.cadence}) if can_edit else None,
        "assign_form": AssignProblemForm(item=item) if can_edit else None,
        "milestones": item.milestones.all(),
        "counts": {
            "late": sum(s.late for s in states),
            "stale": sum(s.stale for s in states),
            "blocked": sum(s.task.status == "blocked" for s in states),
        },
    }
    return render(request, "tasks_app/progress.html", context)


def _task(item_pk: int, task_pk: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("item", "owner__person", "receiver__person").prefetch_related(
            "collaborators__person"
        ),
        pk=task_pk,
        item_id=item_pk,
    )


def _bare_task(pk: int) -> QuerySet[Task]:
    return Task.objects.filter(pk=pk).order_by()


@login_required
@require_http_methods(["GET", "POST"])
def task_report(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    if request.method == "POST":
        # The service loads and locks what it needs; the page around a refused report loads
        # the rest as it is drawn (the people and collaborators a GET prefetches).
        found: Task | None = row_by_key(_bare_task, task_pk)
        if found is None or found.item_id != item.pk:
            raise Http404
        task = found
        task.item = item
    else:
        task = _task(item.pk, task_pk)
    REPORT.require(request.user, task)
    form = ReportForm(
        request.POST or None, initial={"status": task.status, "percent_done": task.percent_done}
    )
    if request.method == "POST" and form.is_valid():
        try:
            tracking_services.progress_report(
                actor=request.user, task_id=task.pk, data=form.data_for_service()
            )
        except ItemError as error:
            form.apply_problems(error.problems)
            messages.error(request, error.message)
        else:
            messages.success(request, _('Progress of "%(task)s" reported.') % {"task": task.name})
            return redirect(reverse("tasks_app:task_detail", args=[item.pk, task.pk]))
    return render(request, "tasks_app/report_form.html", {"item": item, "task": task, "form": form})


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int, task_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    task = _task(item.pk, task_pk)
    context = {
        "item": item,
        "task": task,
        "reports": task.reports.select_related("reporter__person"),
        "problems": task.problems.select_related("owner__person", "raised_by__person"),
        "alerts": task.alerts.exclude(sent_at=None).order_by("-sent_at"),
        "can_report": item.status == ItemStatus.EXECUTING and REPORT.allows(request.user, task),
    }
    return render(request, "tasks_app/task_detail.html", context)


@login_required
@require_POST
def set_cadence(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk, SET_CADENCE)
    form = CadenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered cadences."))
    else:
        try:
            tracking_services.item_set_cadence(
                actor=request.user, item_id=item.pk, cadence=form.cleaned_data["cadence"]
            )
            messages.success(request, _("Reporting cadence saved; the reminders follow it from now on."))
        except ItemError as error:
            messages.error(request, error.message)
    return redirect("tasks_app:progress", pk=item.pk)


def _problem(item_pk: int, problem_pk: int) -> Problem:
    return get_object_or_404(Problem.objects.select_related("item"), pk=problem_pk, item_id=item_pk)


@login_required
@require_POST
def problem_resolve(request: HttpRequest, pk: int, problem_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    problem = _problem(item.pk, problem_pk)
    RESOLVE_PROBLEM.require(request.user, problem)
    form = ResolveForm(request.POST)
    try:
        tracking_services.problem_resolve(
            actor=request.user,
            problem_id=problem.pk,
            resolution=request.POST.get("resolution", "") if form.is_valid() else "",
        )
        messages.success(request, _("Problem resolved."))
    except ItemError as error:
        messages.error(request, error.message)
    return redirect(reverse("tasks_app:progress", args=[item.pk]) + "#problems")


@login_required
@require_POST
def problem_assign(request: HttpRequest, pk: int, problem_pk: int) -> HttpResponse:
    item = item_for(request.user, pk, HAND_OVER_PROBLEM)
    problem = _problem(item.pk, problem_pk)
    form = AssignProblemForm(request.POST, item=item)
    if not form.is_valid():
        messages.error(request, _("Choose an active person to resolve the problem."))
    else:
        try:
            tracking_services.problem_assign(
                actor=request.user, problem_id=problem.pk, owner_id=form.cleaned_data["owner"].pk
            )
            messages.success(request, _("The problem has a new owner, who has been told."))
        except ItemError as error:
            messages.error(request, error.message)
    return redirect(reverse("tasks_app:progress", args=[item.pk]) + "#problems")


@login_required
@require_GET
def progress_print(request: HttpRequest, pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    states = tracked_tasks(item)
    context = {
        "item": item,
        "headers": [c.header for c in PROGRESS_RECORD_COLUMNS],
        "rows": [record_row(s) for s in states],
        "problems": open_problems(item),
        "now": timezone.localtime(),
    }
    return render(request, "tasks_app/progress_print.html", context)


@login_required
@require_GET
def progress_export(request: HttpRequest, pk: int) -> HttpResponseBase:
    item = item_for(request.user, pk)
    filename = _("progress-record-%(number)s-%(date)s.xlsx") % {
        "number": item.number,
        "date": f"{timezone.localdate():%Y%m%d}",
    }
    return xlsx_response(filename, progress_record_book(item, tracked_tasks(item)))


@login_required
@require_GET
def milestone_report_view(request: HttpRequest, pk: int, milestone_pk: int) -> HttpResponse:
    item = item_for(request.user, pk)
    milestone = get_object_or_404(Milestone, pk=milestone_pk, item=item)
    report = milestone_report(item, milestone, tracked_tasks(item))
    return render(
        request,
        "tasks_app/milestone_report.html",
        {
            "item": item,
            "report": report,
            "headers": [c.header for c in PROGRESS_RECORD_COLUMNS],
            "rows": [record_row(s) for s in report.states],
            "now": timezone.localtime(),
        },
    )
