"""What people who leave the company leave open: the coordinator must hand each item over."""

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy

from collab.org.models import display_name
from requests_app.models import CollaborationItem, ItemStatus, Participation
from reviews_app.models import DeliverableVersion
from tasks_app.models import Task, TaskStatus

# Statuses in which an item still needs its people; a closed or archived item needs nobody.
OPEN_STATUSES = (ItemStatus.SUBMITTED, ItemStatus.PLANNED, ItemStatus.EXECUTING)


KINDS = {
    "task": gettext_lazy("task owner"),
    "review": gettext_lazy("receiver of a deliverable under review"),
    "confirmation": gettext_lazy("head confirming the minutes"),
    "coordination": gettext_lazy("coordinator"),
}


def open_work_of(user_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Per person: their open tasks, pending reviews, confirmations awaited from the departments
    they head, and the items they coordinate. Plain data (it is kept with the sync run).

    Four queries whatever the number of people.
    """
    ids = list(user_ids)
    people: dict[int, dict[str, Any]] = {}

    def row(user: Any, kind: str, item: CollaborationItem, what: str, ref: int) -> None:
        entry = people.setdefault(user.pk, {"user_id": user.pk, "name": display_name(user), "items": []})
        entry["items"].append(
            {
                "kind": kind,
                "user_id": user.pk,
                "ref": ref,
                "what": what,
                "item_id": item.pk,
                "item": str(item),
                "coordinator_id": item.coordinator_id,
                "url": reverse("requests_app:item_detail", args=[item.pk]),
            }
        )

    tasks = (
        Task.objects.filter(owner_id__in=ids, item__status__in=OPEN_STATUSES)
        .exclude(status=TaskStatus.DONE)
        .select_related("owner", "item")
        .order_by("item_id", "pk")
    )
    for task in tasks:
        row(task.owner, "task", task.item, task.name, task.pk)
    versions = (
        DeliverableVersion.objects.filter(decision="", deliverable__receiver_id__in=ids)
        .select_related("deliverable__receiver", "deliverable__task__item")
        .order_by("pk")
    )
    for version in versions:
        row(
            version.deliverable.receiver,
            "review",
            version.deliverable.task.item,
            version.deliverable.task.name,
            version.pk,
        )
    participations = (
        Participation.objects.filter(item__status=ItemStatus.SUBMITTED, department__head_id__in=ids)
        .select_related("department__head", "item")
        .order_by("item_id", "pk")
    )
    for participation in participations:
        head = participation.department.head
        if head is None:  # filtered on head_id; keeps the type checker informed
            continue
        row(
            head,
            "confirmation",
            participation.item,
            participation.department.name,
            participation.pk,
        )
    coordinated = CollaborationItem.objects.filter(
        Q(coordinator_id__in=ids), status__in=OPEN_STATUSES
    ).select_related("coordinator")
    for item in coordinated:
        row(item.coordinator, "coordination", item, item.topic, item.pk)
    return list(people.values())
