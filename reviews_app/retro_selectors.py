"""Reads of stage 6: the company-wide improvement log."""

from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from requests_app.models import CollaborationItem, ItemStatus
from requests_app.selectors import visible_items
from reviews_app.models import (
    Deliverable,
    DeliverableStatus,
    ImprovementMeasure,
    MeasureStatus,
    Retrospective,
)
from tasks_app.models import Task


def fully_signed(items: QuerySet[CollaborationItem]) -> QuerySet[CollaborationItem]:
    """Items in execution whose every task has a deliverable signed by both sides and no
    deliverable still open (the same rule as the archive's readiness)."""
    signed = Deliverable.objects.filter(task=OuterRef("pk"), status=DeliverableStatus.SIGNED)
    unsigned_task = Task.objects.filter(item=OuterRef("pk")).exclude(Exists(signed))
    open_deliverable = Deliverable.objects.filter(task__item=OuterRef("pk")).exclude(
        status=DeliverableStatus.SIGNED
    )
    return items.filter(
        Exists(Task.objects.filter(item=OuterRef("pk"))),
        ~Exists(unsigned_task),
        ~Exists(open_deliverable),
        status=ItemStatus.EXECUTING,
    )


def awaiting_retrospective(items: QuerySet[CollaborationItem]) -> QuerySet[CollaborationItem]:
    """Fully signed items whose retrospective is not recorded yet."""
    return fully_signed(items).exclude(Exists(Retrospective.objects.filter(item=OuterRef("pk"))))


def ready_to_archive(items: QuerySet[CollaborationItem]) -> QuerySet[CollaborationItem]:
    """Fully signed items with their retrospective recorded: the coordinator archives them."""
    return fully_signed(items).filter(Exists(Retrospective.objects.filter(item=OuterRef("pk"))))


def log_measures(user: Any, filters: dict[str, Any], *, today: date) -> QuerySet[ImprovementMeasure]:
    """The log's rows after the filters, with what each row shows (a fixed number of queries).

    Ordered open first, then by due date (the model's ordering, served by the status index).
    Each person sees the measures of the items they can see (administrators: all of them).
    """
    measures = (
        ImprovementMeasure.objects.filter(retrospective__item__in=visible_items(user))
        .select_related("owner__person", "department", "retrospective__item")
        .order_by("status", "due_date", "pk")
    )
    if department := filters.get("department"):
        measures = measures.filter(department=department)
    status = filters.get("status")
    if status == "overdue":
        measures = measures.filter(status=MeasureStatus.OPEN, due_date__lt=today)
    elif status:
        measures = measures.filter(status=status)
    if filters.get("mine"):
        measures = measures.filter(Q(owner=user))
    return measures
