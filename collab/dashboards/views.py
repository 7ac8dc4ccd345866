"""Dashboard pages. Read-only and thin: who may look, which selector, which template."""

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_cookie

from collab.dashboards import management
from collab.dashboards.board_selectors import roles_of
from collab.dashboards.coordinator_selectors import (
    TOP_ITEMS,
    coordinated_stage,
    coordinator_board,
    item_rows_html,
    task_table_html,
)
from collab.dashboards.coordinator_selectors import coordinator_list as coordinator_list_page
from collab.dashboards.department_selectors import (
    department_board,
    department_item_page,
    departments_for,
)
from collab.dashboards.department_selectors import department_list as department_list_page
from collab.dashboards.forms import DepartmentChoiceForm, period_from
from collab.dashboards.management_exports import figure_export_kind
from collab.dashboards.my_work_selectors import PAGE_SIZE, SOURCES, entries_of, full_list
from collab.dashboards.my_work_selectors import my_work as my_work_of
from collab.dashboards.timeline import (
    build_timeline,
    day_cells_html,
    task_rows_html,
    timeline_milestones,
    timeline_tasks,
)
from collab.downloads import xlsx_response
from collab.exports.services import export_request
from collab.lib.numbers import parse_whole_number
from collab.org.calendar import calendar_for
from collab.org.models import Department
from requests_app.access import item_for
from requests_app.models import ItemStatus, Scenario

ROWS_PAGE_SIZE = 50


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _require_staff(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied(_("Only management (staff users) can see the company-wide figures."))


@login_required
@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    """Everything waiting for the person; the lists refresh every 60 seconds through HTMX."""
    work = my_work_of(request.user)
    # The top bar's unread count is one of My work's counts: not counted a second time.
    context = {"work": work, "unread_notifications": work.unread_count}
    template = "dashboards/my_work.html#lists" if _is_htmx(request) else "dashboards/my_work.html"
    return render(request, template, context)


@login_required
@require_GET
def my_work_list(request: HttpRequest, entry: str) -> HttpResponse:
    """One list of My work in full, most urgent first, paged."""
    if entry not in SOURCES:
        raise Http404
    handoff, rows, context = full_list(request.user, entry)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboards/my_work_list.html",
        {"handoff": handoff, "page": page, "entries": entries_of(entry, page.object_list, context)},
    )


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponseBase:
    """The "Dashboard" link: the coordinator's view, else the department head's, else my work."""
    roles = roles_of(request.user)
    if roles.coordinates:
        return redirect("dashboards:coordinator")
    if roles.heads:
        return redirect("dashboards:department")
    return redirect("dashboards:my_work")


@login_required
@require_GET
@cache_control(private=True, max_age=300)
@vary_on_cookie
def nav_link(request: HttpRequest) -> HttpResponse:
    """The top bar's "Dashboard" link, for coordinators and department heads only.

    Loaded by HTMX after the page, so asking who coordinates or heads anything costs no query
    on every page (other pages keep their query budgets); the browser keeps it 5 minutes.
    """
    return render(request, "dashboards/_nav_link.html", {"roles": roles_of(request.user)})


@login_required
@require_GET
def coordinator(request: HttpRequest) -> HttpResponse:
    board = coordinator_board(request.user)
    context = {"board": board, "roles": roles_of(request.user), "tab": "coordinator", "top": TOP_ITEMS}
    return render(request, "dashboards/coordinator.html", context)


@login_required
@require_GET
def coordinator_items(request: HttpRequest, stage: str) -> HttpResponse:
    """Every item of one stage the person coordinates, worst health first, paged."""
    page = coordinated_stage(request.user, stage, request.GET.get("page"))
    if page is None:
        raise Http404
    page.object_list = item_rows_html(page.object_list)  # each row as HTML (_coordinator_item_row)
    context = {
        "title": ItemStatus(stage).label,
        "page": page,
        "row_template": "dashboards/_coordinator_item_row.html",
        "headers": [_("Health"), _("Item"), _("Tasks done"), _("Open problems"), _("Reviews waiting"), ""],
        "back": reverse("dashboards:coordinator"),
        "roles": roles_of(request.user),
        "tab": "coordinator",
    }
    return render(request, "dashboards/item_list.html", context)


def _list_texts() -> dict[str, tuple[str, str]]:
    """Each board list's title and what its page says when it is empty."""
    return {
        "tasks": (_("Tasks that need you"), _("No task needs your attention.")),
        "problems": (_("Open risks and problems"), ""),
        "reviews": (_("Reviews running out of time"), ""),
        "gaps": (_("Nothing left out?"), ""),
        "department-tasks": (_("Tasks of the department"), _("The department has no open task.")),
        "people": (_("Workload per person"), ""),
        "measures": (_("Improvement measures assigned to the department"), ""),
    }


@login_required
@require_GET
def coordinator_list(request: HttpRequest, name: str) -> HttpResponse:
    """One list of the coordinator's board in full, most urgent first, paged: the person's own
    items only."""
    page = coordinator_list_page(request.user, name, request.GET.get("page"))
    if page is None:
        raise Http404
    title, empty_text = _list_texts()[name]
    context = {
        "title": title,
        "empty_text": empty_text,
        "tasks_html": task_table_html(page.object_list, "list-tasks", empty_text) if name == "tasks" else "",
        "name": name,
        "list_id": f"list-{name}",
        "page": page,
        "back": reverse("dashboards:coordinator"),
        "query": "",
        "roles": roles_of(request.user),
        "tab": "coordinator",
    }
    return render(request, "dashboards/board_list.html", context)


def _chosen_department(request: HttpRequest) -> Department:
    """The department asked for in the query, if the user may open it (the picker offers them
    all, searched beyond the page's list), else the first they may."""
    allowed = departments_for(request.user)
    wanted = parse_whole_number(request.GET.get("department", ""))
    chosen = allowed.filter(pk=wanted).first() if wanted is not None else None
    chosen = chosen or allowed.first()
    if chosen is None:
        raise PermissionDenied(_("Only department heads have a department dashboard."))
    return chosen


@login_required
@require_GET
def department(request: HttpRequest) -> HttpResponse:
    chosen = _chosen_department(request)
    period, form = period_from(request.GET)
    board = department_board(chosen, start_at=period.start_at, end_at=period.end_at)
    choices = departments_for(request.user).only("pk", "name")  # what the picker shows
    department_form = DepartmentChoiceForm(
        initial={"department": board.department.pk},
        choices=choices,
        headed_only=not request.user.is_staff,
    )
    context = {
        "board": board,
        # The picker only for more than one department (staff: every one; its list is read once,
        # by the picker).
        "several_departments": choices[:2].count() > 1,
        "department_form": department_form,
        "period": period,
        "form": form,
        "roles": roles_of(request.user),
        "tab": "department",
        "department_query": f"?department={board.department.pk}",
    }
    return render(request, "dashboards/department.html", context)


@login_required
@require_GET
def department_list(request: HttpRequest, name: str) -> HttpResponse:
    """One list of the department's board in full, most urgent first, paged: for the head of the
    department (staff: any department), the department kept from page to page."""
    department = _chosen_department(request)
    found = department_list_page(department, name, request.GET.get("page"))
    if found is None:
        raise Http404
    page, today = found
    title, empty_text = _list_texts()["department-tasks" if name == "tasks" else name]
    context = {
        "title": f"{title} · {department}",
        "empty_text": empty_text,
        "tasks_html": task_table_html(page.object_list, "list-tasks", empty_text) if name == "tasks" else "",
        "name": name,
        "list_id": f"list-{name}",
        "page": page,
        "today": today,
        "back": f"{reverse('dashboards:department')}?department={department.pk}",
        "query": f"department={department.pk}&",
        "roles": roles_of(request.user),
        "tab": "department",
    }
    return render(request, "dashboards/board_list.html", context)


@login_required
@require_GET
def department_items(request: HttpRequest) -> HttpResponse:
    """Every open item the department takes part in, worst health first, paged (the page's rows
    only are read with their health, not the whole board)."""
    department = _chosen_department(request)
    context = {
        "title": _("Items %(department)s takes part in") % {"department": department},
        "page": department_item_page(department, request.GET.get("page")),
        "row_template": "dashboards/_department_item_row.html",
        "headers": [_("Health"), _("Item"), _("Stage"), _("Open tasks of the department"), ""],
        "back": f"{reverse('dashboards:department')}?department={department.pk}",
        "query": f"department={department.pk}&",
        "roles": roles_of(request.user),
        "tab": "department",
    }
    return render(request, "dashboards/item_list.html", context)


def _chart(labels: list[str], datasets: list[dict[str, Any]]) -> str:
    return json.dumps({"labels": labels, "datasets": datasets}, ensure_ascii=False)


@login_required
@require_GET
def management_view(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    period, form = period_from(request.GET)
    result = management.figures(period)
    stage_chart = {
        "labels": [row.label for row in result.stage_rows],
        "datasets": [
            {"label": label, "data": [row.counts[index] for row in result.stage_rows]}
            for index, (_value, label) in enumerate(result.scenarios)
        ],
        "stacked": True,
    }
    escalation_chart = {
        "labels": [e.name for e in result.escalations],
        "datasets": [{"label": _("Escalations"), "data": [e.count for e in result.escalations]}],
    }
    context = {
        "figures": result,
        "period": period,
        "form": form,
        "query": period.query(),
        "stage_chart": stage_chart,
        "escalation_chart": escalation_chart,
        # One bar per department: the chart grows with them instead of stretching one bar.
        "escalation_chart_height": 60 + 36 * len(result.escalations),
    }
    return render(request, "dashboards/management.html", context)


@login_required
@require_GET
def management_export(request: HttpRequest) -> HttpResponseBase:
    _require_staff(request)
    period, _form = period_from(request.GET)
    result = management.figures(period)
    filename = _("management-figures-%(start)s-%(end)s.xlsx") % {
        "start": f"{period.start:%Y%m%d}",
        "end": f"{period.end:%Y%m%d}",
    }
    return xlsx_response(filename, management.figures_book(result))


def _figure(slug: str) -> management.RowFigure:
    figure = management.ROW_FIGURES.get(slug)
    if figure is None:
        raise Http404
    return figure


def _row_filters(request: HttpRequest) -> dict[str, str]:
    return management.row_filters(request.GET)


def _filter_labels(filters: dict[str, str]) -> list[str]:
    """The filters in words, for the heading of a rows page."""
    labels = []
    if filters.get("status") in ItemStatus.values:
        labels.append(_("Status: %(value)s") % {"value": ItemStatus(filters["status"]).label})
    if filters.get("scenario") in Scenario.values:
        labels.append(_("Scenario: %(value)s") % {"value": Scenario(filters["scenario"]).label})
    if filters.get("on_time") == "1":
        labels.append(_("On time only"))
    elif filters.get("on_time") == "0":
        labels.append(_("Late only"))
    if (department := parse_whole_number(filters.get("department"))) is not None:
        name = Department.objects.filter(pk=department).values_list("name", flat=True).first()
        labels.append(_("Department: %(value)s") % {"value": name or department})
    return labels


@login_required
@require_GET
def figure_rows(request: HttpRequest, figure: str) -> HttpResponse:
    _require_staff(request)
    spec = _figure(figure)
    period, form = period_from(request.GET)
    filters = _row_filters(request)
    page = Paginator(spec.rows(period, filters), ROWS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    headers = [str(c.header) for c in spec.columns]
    context = {
        "figure": spec,
        "period": period,
        "form": form,
        "filters": filters,
        "filter_labels": _filter_labels(filters),
        "page": page,
        "rows": [
            (spec.item_of(row), list(zip(headers, management.row_values(spec, row), strict=True)))
            for row in page.object_list
        ],
        "headers": headers,
        "query": query.urlencode(),
    }
    return render(request, "dashboards/rows.html", context)


@login_required
@require_GET
def figure_rows_export(request: HttpRequest, figure: str) -> HttpResponseBase:
    _require_staff(request)
    spec = _figure(figure)
    period, _form = period_from(request.GET)
    rows = spec.rows(period, _row_filters(request))
    filename = _("%(figure)s-%(start)s-%(end)s.xlsx") % {
        "figure": spec.slug,
        "start": f"{period.start:%Y%m%d}",
        "end": f"{period.end:%Y%m%d}",
    }
    # Past the threshold, written in the background (the web worker's timeout covers the response).
    threshold = settings.COLLAB_EXPORT_BACKGROUND_ROWS
    if rows.order_by()[: threshold + 1].count() > threshold:
        kind = figure_export_kind(spec.slug)
        export = export_request(
            actor=request.user, kind=kind, query=request.GET.urlencode(), file_name=filename
        )
        return redirect("exports:export", export_pk=export.pk)
    return xlsx_response(filename, management.rows_book(spec, period, rows))


@login_required
@require_GET
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The item's timeline: anyone who may see the item may see it."""
    item = item_for(request.user, pk)
    chart = build_timeline(item, timeline_tasks(item), timeline_milestones(item), calendar_for(None))
    chart_rows, table_rows = task_rows_html(chart, item)
    day_shades, day_cells = day_cells_html(chart)
    context = {
        "item": item,
        "timeline": chart,
        "chart_rows": chart_rows,
        "table_rows": table_rows,
        "day_shades": day_shades,
        "day_cells": day_cells,
    }
    return render(request, "dashboards/timeline.html", context)
