"""Writes that only add people to an item grant them the view incrementally (``item_grant_view``):
the rights and the visibility rows they leave are exactly what the full ``item_sync_permissions``
gives, and a new task costs the same number of queries on a small item as on a crowded one."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from collab.testing import Org, make_person, schedule_meeting
from requests_app.models import CollaborationItem, ItemVisibility
from requests_app.selectors import visible_items
from requests_app.services import item_grant_view, item_sync_permissions
from reviews_app.retro_services import MeasureData
from reviews_app.tests.test_archive_support import record_retro, started_item
from tasks_app import services as task_services
from tasks_app.tests.support import consensus_item, task_data

pytestmark = pytest.mark.django_db


def rights(item: CollaborationItem) -> tuple[set[Any], set[Any], set[Any]]:
    """Every row that says who sees or changes ``item``."""
    return (
        set(
            UserObjectPermission.objects.filter(object_pk=str(item.pk)).values_list(
                "user_id", "permission__codename"
            )
        ),
        set(
            GroupObjectPermission.objects.filter(object_pk=str(item.pk)).values_list(
                "group_id", "permission__codename"
            )
        ),
        set(ItemVisibility.objects.filter(item=item).values_list("department_id", "user_id")),
    )


def assert_in_step(item: CollaborationItem) -> None:
    """The full sync, run now, finds nothing to grant or take back."""
    before = rights(item)
    item_sync_permissions(item=CollaborationItem.objects.get(pk=item.pk))
    assert rights(item) == before


def sees(user: Any, item: CollaborationItem) -> bool:
    return user.has_perm("requests_app.view_collaborationitem", item) and (
        visible_items(user).filter(pk=item.pk).exists()
    )


def test_a_new_task_lets_its_new_people_see_the_item_as_the_full_sync_would(org: Org) -> None:
    item = consensus_item(org)
    newcomer = make_person("newcomer", org.finance, name="周新")
    newcomer_receiver = make_person("newreceiver", org.finance, name="郑收")
    assert not sees(newcomer, item) and not sees(newcomer_receiver, item)

    task_services.task_create(
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, collaborator_ids=[newcomer.pk], receiver_id=newcomer_receiver.pk),
    )

    assert sees(newcomer, item) and sees(newcomer_receiver, item) and sees(org.owner, item)
    assert not sees(org.outsider, item)
    assert_in_step(item)

    # The same people on a second task: already granted, nothing is added twice.
    before = rights(item)
    task_services.task_create(
        actor=org.coordinator,
        item_id=item.pk,
        data=task_data(org, name="复测", collaborator_ids=[newcomer.pk], receiver_id=newcomer_receiver.pk),
    )
    assert rights(item) == before
    assert_in_step(item)


def test_a_meeting_lets_its_invitees_see_the_item_as_the_full_sync_would(org: Org) -> None:
    item = consensus_item(org)
    guest = make_person("guest", org.finance, name="吴客")

    schedule_meeting(org, item, invitee_ids=[org.requester.pk, guest.pk], department_ids=[org.finance.pk])

    assert sees(guest, item) and sees(org.outsider, item)  # the outsider is in Finance, invited
    assert_in_step(item)


def test_an_improvement_measure_lets_its_owner_see_the_item_as_the_full_sync_would(org: Org) -> None:
    item = started_item(org)
    assert not sees(org.outsider, item)
    due = timezone.localdate() + timedelta(days=20)

    record_retro(
        org,
        item,
        measures=[
            MeasureData("财务按月复核协作成本，差异超过5%时通报", org.outsider.pk, org.finance.pk, due)
        ],
    )

    assert sees(org.outsider, item)
    assert_in_step(item)


def test_granting_costs_three_queries_whatever_is_already_granted(org: Org) -> None:
    item = consensus_item(org)
    crowd = [make_person(f"crowd{number}", org.qa).pk for number in range(8)]
    with CaptureQueriesContext(connection) as few:
        item_grant_view(item=item, user_ids=[org.owner.pk])
    with CaptureQueriesContext(connection) as many:
        item_grant_view(item=item, user_ids=[org.owner.pk, None, *crowd])
    assert len(few) == len(many) == 3


def test_a_new_task_costs_the_same_queries_on_an_item_with_many_tasks_and_people(org: Org) -> None:
    def create(item: CollaborationItem, name: str, collaborators: list[int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            task_services.task_create(
                actor=org.coordinator,
                item_id=item.pk,
                data=task_data(org, name=name, collaborator_ids=collaborators),
            )
        return len(queries)

    small, crowded = consensus_item(org), consensus_item(org)
    for item in (small, crowded):
        create(item, "首个任务", [org.collaborator.pk])  # consensus → planned happens here
    people = [make_person(f"member{number}", org.qa).pk for number in range(12)]
    for number in range(6):
        create(crowded, f"任务{number}", people[2 * number : 2 * number + 2])

    assert create(small, "补充回归测试", [org.collaborator.pk]) == create(
        crowded, "补充回归测试", [org.collaborator.pk]
    )
    assert_in_step(crowded)


def test_a_changed_task_grants_newcomers_and_takes_the_view_from_whoever_left(org: Org) -> None:
    item = consensus_item(org)
    newcomer = make_person("newcomer", org.finance, name="周新")
    task = task_services.task_create(actor=org.coordinator, item_id=item.pk, data=task_data(org))

    # A new deadline and a newcomer among the collaborators: nobody left.
    task = task_services.task_update(
        actor=org.coordinator,
        task_id=task.pk,
        version=task.version,
        data=task_data(org, collaborator_ids=[org.collaborator.pk, newcomer.pk], deadline=date(2026, 10, 12)),
    )
    assert sees(newcomer, item)
    assert_in_step(item)

    # The newcomer leaves the task, which was their only part in the item.
    task_services.task_update(
        actor=org.coordinator,
        task_id=task.pk,
        version=task.version,
        data=task_data(org, collaborator_ids=[org.collaborator.pk], deadline=date(2026, 10, 12)),
    )
    assert not sees(newcomer, item)
    assert_in_step(item)
