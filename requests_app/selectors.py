"""Reads of stage 1 that span relations: the items a person may see, the register's rows."""

from typing import Any

from django.db.models import Max, Prefetch, Q, QuerySet
from guardian.shortcuts import get_objects_for_user

from requests_app.models import CollaborationItem, ItemStatus, Milestone, Participation

VIEW = "requests_app.view_collaborationitem"


def visible_items(user: Any) -> QuerySet[CollaborationItem]:
    """Items the user's departments take part in, plus their own drafts and coordinations."""
    return get_objects_for_user(user, VIEW, klass=CollaborationItem.objects.all(), accept_global_perms=False)


def with_register_data(items: QuerySet[CollaborationItem]) -> QuerySet[CollaborationItem]:
    """Everything the register shows, in a fixed number of queries whatever the row count."""
    return items.select_related("requesting_department", "requester", "coordinator").prefetch_related(
        Prefetch("participations", queryset=Participation.objects.select_related("department")),
        Prefetch("milestones", queryset=Milestone.objects.order_by("due_date", "pk")),
    )


SORTS = {
    "-number": ["-number", "-pk"],
    "number": ["number", "pk"],
    "deadline": ["deadline", "number"],
    "topic": ["topic", "number"],
    "status": ["status", "-number"],
}


def register_items(user: Any, filters: dict[str, Any]) -> QuerySet[CollaborationItem]:
    """The register's rows for ``user`` after the filter form's cleaned values."""
    items = visible_items(user).exclude(status=ItemStatus.DRAFT)
    if q := (filters.get("q") or "").strip():
        items = items.filter(
            Q(number__icontains=q)
            | Q(topic__icontains=q)
            | Q(goal__icontains=q)
            | Q(scope__icontains=q)
            | Q(remarks__icontains=q)
        )
    if status := filters.get("status"):
        items = items.filter(status=status)
    if scenario := filters.get("scenario"):
        items = items.filter(scenario=scenario)
    if department := filters.get("department"):
        items = items.filter(
            Q(requesting_department=department) | Q(participations__department=department)
        ).distinct()
    if start := filters.get("submitted_from"):
        items = items.filter(submitted_at__date__gte=start)
    if end := filters.get("submitted_to"):
        items = items.filter(submitted_at__date__lte=end)
    items = items.annotate(deadline=Max("milestones__due_date"))
    return with_register_data(items).order_by(*SORTS.get(filters.get("sort") or "", SORTS["-number"]))


def drafts_of(user: Any) -> QuerySet[CollaborationItem]:
    return (
        CollaborationItem.objects.filter(status=ItemStatus.DRAFT)
        .filter(Q(requester=user) | Q(coordinator=user))
        .order_by("-updated_at")
    )
