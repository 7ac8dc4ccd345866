"""One state machine per stateful thing, next to its model, and one door for every status change.

1. Every model of ours with a ``status`` is found from the app registry (not a hand-written
   list) and must have its transition table here, or say why its status is no workflow.
2. The tables are checked for shape (every status has its row, every move leads to a status).
3. The source is read (as syntax trees, every module outside tests and migrations) for every way
   Python can change a ``status``: an assignment, ``setattr``, a queryset ``update``,
   ``update_or_create`` or ``bulk_update``, or SQL that sets one. Only the doors may:
   ``requests_app.transitions.transition`` for rows moved one at a time (the item, the meeting's
   minutes, tasks, problems, deliverables, improvement measures) and
   ``reviews_app.archive_builder.archive_move`` for the archive's conditional UPDATEs. A row is
   born in a status (``create``, a model built with one: an imported item enters as the register
   says, a deliverable is born in review); from then on, only the doors move it. The reader is
   itself tested on snippets of each kind, so it can fail.
"""

import ast
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from collab.exports.models import EXPORT_TRANSITIONS, Export
from requests_app.models import ITEM_TRANSITIONS, MINUTES_TRANSITIONS, CollaborationItem, Minutes
from reviews_app.models import (
    ARCHIVE_TRANSITIONS,
    DELIVERABLE_TRANSITIONS,
    MEASURE_TRANSITIONS,
    Archive,
    Deliverable,
    ImprovementMeasure,
)
from tasks_app.models import PROBLEM_TRANSITIONS, TASK_TRANSITIONS, Problem, Task

ROOT = Path(__file__).resolve().parent.parent
APPS = ("collab", "requests_app", "tasks_app", "reviews_app")
MACHINES = [
    (CollaborationItem, ITEM_TRANSITIONS),
    (Minutes, MINUTES_TRANSITIONS),
    (Task, TASK_TRANSITIONS),
    (Problem, PROBLEM_TRANSITIONS),
    (Deliverable, DELIVERABLE_TRANSITIONS),
    (ImprovementMeasure, MEASURE_TRANSITIONS),
    (Archive, ARCHIVE_TRANSITIONS),
    (Export, EXPORT_TRANSITIONS),
]
# Models whose "status" is not a workflow of an item, and why.
NOT_WORKFLOWS = {
    # What the owner said in one progress report: written once with the report, never moved.
    "tasks_app.progressreport",
    # The outbox's delivery attempts of a notification (pending, sent, failed, retried): the
    # delivery machinery's own bookkeeping, claimed by conditional UPDATEs in collab/notify.
    "notify.delivery",
    # A department's copy of its item's status (the department board ranks by it), written by
    # the database's triggers from the item (requests_app/department_items.py), never by code.
    "requests_app.departmentitem",
}
# (module, function): the only code that writes a status.
DOORS = {
    ("requests_app/transitions.py", "transition"),
    ("reviews_app/archive_builder.py", "archive_move"),
    ("collab/exports/builder.py", "export_move"),
}
SKIPPED_FOR_NOT_WORKFLOWS = ("collab/notify/",)  # where notify.delivery's status is kept
MOVERS = {"update", "update_or_create"}  # what changes existing rows (create and the like bear them)
SQL_STATUS_WRITE = re.compile(r"\bset\b[^;]*\bstatus\"?\s*=", re.I | re.S)


def status_writes(source: str) -> list[tuple[int, str]]:
    """Every line of ``source`` that writes a status, with the function it is in."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if _writes_status(node):
            found.append((getattr(node, "lineno", 0), function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(ast.parse(source), "")
    return found


def _is_status(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _writes_status(node: ast.AST) -> bool:
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(
            isinstance(t, ast.Attribute) and t.attr == "status"
            for target in targets
            for t in ast.walk(target)
        )
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(SQL_STATUS_WRITE.search(node.value))
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    keywords = {k.arg for k in node.keywords}
    if name == "setattr":
        return len(node.args) > 1 and _is_status(node.args[1])
    if name == "bulk_update":
        fields = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "fields"), None)
        )
        return fields is not None and any(_is_status(n) for n in ast.walk(fields))
    if name in MOVERS:
        if "status" in keywords:
            return True
        defaults = next((k.value for k in node.keywords if k.arg in ("defaults", "create_defaults")), None)
        unpacked = [k.value for k in node.keywords if k.arg is None]
        return any(
            isinstance(d, ast.Dict) and any(_is_status(key) for key in d.keys)
            for d in [defaults, *unpacked]
            if d is not None
        )
    return False


def our_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "/tests/" not in path.as_posix() and "/migrations/" not in path.as_posix()
    ]


def test_every_model_with_a_status_has_its_transition_table() -> None:
    with_status = {
        model._meta.label_lower
        for model in apps.get_models()
        if model.__module__.split(".")[0] in APPS
        and any(f.name == "status" for f in model._meta.concrete_fields)
    }
    tabled = {model._meta.label_lower for model, _table in MACHINES}
    assert with_status - NOT_WORKFLOWS == tabled


@pytest.mark.parametrize(("model", "table"), MACHINES, ids=lambda v: getattr(v, "__name__", ""))
def test_every_status_has_its_row_and_every_move_a_known_target(
    model: type[models.Model], table: dict[str, set[str]]
) -> None:
    field = model._meta.get_field("status")
    statuses = {value for value, _label in getattr(field, "choices", None) or []}
    assert set(table) == statuses
    assert set().union(*table.values()) <= statuses


def test_a_done_task_and_a_signed_deliverable_never_move_again() -> None:
    assert TASK_TRANSITIONS["done"] == set() and DELIVERABLE_TRANSITIONS["signed"] == set()
    assert ITEM_TRANSITIONS["closed"] == set()


def test_a_revision_issues_the_minutes_again_from_every_status() -> None:
    assert all("issued" in targets for targets in MINUTES_TRANSITIONS.values())


@pytest.mark.parametrize(
    "snippet",
    [
        "task.status = TaskStatus.DONE",
        "minutes.status: str = 'confirmed'",
        "setattr(minutes, 'status', 'objected')",
        "Task.objects.filter(pk=1).update(status='done', percent_done=100)",
        "Minutes.objects.update_or_create(meeting=meeting, defaults={'status': 'confirmed'})",
        "Problem.objects.bulk_update(rows, ['status', 'resolution'])",
        "Deliverable.objects.bulk_update(rows, fields=('status',))",
        "Task.objects.filter(pk=1).update(**{'status': 'done'})",
        "cursor.execute('UPDATE requests_app_minutes SET \"status\" = %s', ['confirmed'])",
    ],
)
def test_the_reader_finds_every_kind_of_status_write(snippet: str) -> None:
    assert status_writes(snippet) != []


@pytest.mark.parametrize(
    "snippet",
    [
        "Task.objects.filter(status='done').update(percent_done=100)",
        "minutes.status == 'issued'",
        # Born in a status: a creation, not a move.
        "Deliverable.objects.create(task=task, status=DeliverableStatus.IN_REVIEW)",
        "item = CollaborationItem(number=number, status=ItemStatus.SUBMITTED)",
        "Alert.objects.filter(pk=1).update(sent_at=now)",
        "report = ProgressReport.objects.filter(task=t).values('status')",
    ],
)
def test_the_reader_leaves_reads_and_other_writes_alone(snippet: str) -> None:
    assert status_writes(snippet) == []


def test_no_code_writes_a_status_outside_the_doors() -> None:
    offenders, doors_found = [], set()
    for path in our_modules():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(SKIPPED_FOR_NOT_WORKFLOWS):
            continue
        for line, function in status_writes(path.read_text(encoding="utf-8")):
            if (relative, function) in DOORS:
                doors_found.add((relative, function))
            else:
                offenders.append(f"{relative}:{line} in {function or 'the module'}")
    assert offenders == []
    assert doors_found == DOORS  # the doors themselves are read, so the reader sees writes
