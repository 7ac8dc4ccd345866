"""One state machine per stateful thing, next to its model, and one door for every status change.

The tables are checked for shape (every status has its row, every move leads to a status), and
the source is read for writes of ``status`` outside the doors: ``requests_app.transitions`` for
rows moved one at a time, ``archive_move`` for the archive's conditional UPDATEs.
"""

import re
from pathlib import Path

import pytest
from django.db import models

from requests_app.models import ITEM_TRANSITIONS, CollaborationItem
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
MACHINES = [
    (CollaborationItem, ITEM_TRANSITIONS),
    (Task, TASK_TRANSITIONS),
    (Problem, PROBLEM_TRANSITIONS),
    (Deliverable, DELIVERABLE_TRANSITIONS),
    (ImprovementMeasure, MEASURE_TRANSITIONS),
    (Archive, ARCHIVE_TRANSITIONS),
]
DOORS = {"requests_app/transitions.py", "reviews_app/archive_builder.py"}
STATUS_WRITE = re.compile(r"\.status\s*=(?!=)|setattr\([^)]*\"status\"|\.update\([^)]*\bstatus=", re.S)


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


def test_no_code_writes_a_status_outside_the_doors() -> None:
    offenders = []
    for app in ("collab", "requests_app", "tasks_app", "reviews_app"):
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/tests/" in relative or "/migrations/" in relative or relative in DOORS:
                continue
            if relative.startswith("collab/notify/"):
                continue  # the outbox's delivery rows are not a workflow of the item
            if STATUS_WRITE.search(path.read_text(encoding="utf-8")):
                offenders.append(relative)
    assert offenders == []
