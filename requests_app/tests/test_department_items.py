"""A department's rows of its items (``DepartmentItem``), which the department board ranks and
counts by, stay equal to their definition whatever writes the items and participations: the
services, plain ORM writes as the admin makes them, bulk inserts, a move of the requesting
department, deletes. A row a write forgot would drop an item from a department's board, or
rank it by stale facts, without any error."""

from typing import Any

import pytest
from django.db import transaction

from collab.testing import Org, make_item
from requests_app import services
from requests_app.health_facts import item_health_refresh
from requests_app.models import (
    DEPARTMENT_ITEM_COPIES,
    CollaborationItem,
    DepartmentItem,
    ItemStatus,
    Participation,
)

pytestmark = pytest.mark.django_db


def expected_rows(item_id: int) -> dict[int, dict[str, Any]]:
    """The rows by definition: one per department the item involves (requesting or
    participating), each with the item's copied columns."""
    item = (
        CollaborationItem.objects.filter(pk=item_id)
        .values("requesting_department_id", *DEPARTMENT_ITEM_COPIES)
        .first()
    )
    if item is None:
        return {}
    departments = {
        item["requesting_department_id"],
        *Participation.objects.filter(item_id=item_id).values_list("department_id", flat=True),
    }
    copies = {name: item[name] for name in DEPARTMENT_ITEM_COPIES}
    return dict.fromkeys(departments, copies)


def stored_rows(item_id: int) -> dict[int, dict[str, Any]]:
    rows = DepartmentItem.objects.filter(item_id=item_id).values("department_id", *DEPARTMENT_ITEM_COPIES)
    return {row.pop("department_id"): row for row in rows}


def rows_match(item: CollaborationItem | int) -> dict[int, dict[str, Any]]:
    """Asserts the stored rows equal their definition; returns them."""
    item_id = item if isinstance(item, int) else item.pk
    stored = stored_rows(item_id)
    assert stored == expected_rows(item_id)
    return stored


def test_a_draft_has_its_requesting_departments_row_and_submitting_copies_its_number(org: Org) -> None:
    draft = make_item(org, submit=False)
    rows = rows_match(draft)
    assert org.product.pk in rows
    assert rows[org.product.pk]["status"] == ItemStatus.DRAFT and rows[org.product.pk]["number_key"] is None
    submitted = services.item_submit(actor=org.requester, item_id=draft.pk, version=draft.version)
    rows = rows_match(submitted)
    assert {row["status"] for row in rows.values()} == {ItemStatus.SUBMITTED}
    assert all(row["number_key"] is not None for row in rows.values())


def test_participations_added_moved_and_removed_as_the_admin_does(org: Org) -> None:
    item = make_item(org)
    before = set(rows_match(item))
    added = Participation.objects.create(item=item, department=org.finance, core_need="预算审核")
    assert set(rows_match(item)) == before | {org.finance.pk}

    # A second participation of the same department: removing one keeps the department's row.
    second = Participation.objects.create(item=item, department=org.finance, role="会计", core_need="记账")
    added.delete()
    assert org.finance.pk in rows_match(item)
    Participation.objects.filter(pk=second.pk).update(department=org.pmo)
    rows = rows_match(item)
    assert org.finance.pk not in rows and org.pmo.pk in rows
    Participation.objects.filter(pk=second.pk).delete()
    assert set(rows_match(item)) == before


def test_the_requesting_department_keeps_its_row_when_its_participation_goes(org: Org) -> None:
    item = make_item(org)
    requesting = item.requesting_department_id
    own = Participation.objects.create(item=item, department_id=requesting, role="需求方", core_need="验收")
    own.delete()
    assert requesting in rows_match(item)


def test_a_new_requesting_department_moves_its_row(org: Org) -> None:
    item = make_item(org)
    old = item.requesting_department_id
    assert not Participation.objects.filter(item=item, department_id=old).exists()
    CollaborationItem.objects.filter(pk=item.pk).update(requesting_department=org.finance)
    rows = rows_match(item)
    assert old not in rows and org.finance.pk in rows
    # Back to a department that also participates: its row stays when the request moves away.
    participating = Participation.objects.filter(item=item).values_list("department_id", flat=True).first()
    CollaborationItem.objects.filter(pk=item.pk).update(requesting_department_id=participating)
    CollaborationItem.objects.filter(pk=item.pk).update(requesting_department=org.product)
    assert participating in rows_match(item)


def test_bulk_inserts_and_bulk_updates_are_copied(org: Org) -> None:
    item = make_item(org)
    Participation.objects.bulk_create(
        [
            Participation(item=item, department=org.finance, core_need="预算"),
            Participation(item=item, department=org.pmo, core_need="排期"),
        ]
    )
    assert {org.finance.pk, org.pmo.pk} <= set(rows_match(item))
    other = make_item(org)
    CollaborationItem.objects.filter(pk__in=[item.pk, other.pk]).update(
        status=ItemStatus.CONSENSUS, health_problems=2
    )
    for each in (item, other):
        rows = rows_match(each)
        assert {(row["status"], row["health_problems"]) for row in rows.values()} == {
            (ItemStatus.CONSENSUS, 2)
        }
    item_health_refresh([item.pk, other.pk])  # the refresh recomputes: no problem is open
    assert {row["health_problems"] for row in rows_match(item).values()} == {0}


def test_a_deleted_item_leaves_no_row(org: Org) -> None:
    item = make_item(org, submit=False)
    assert rows_match(item)
    CollaborationItem.objects.filter(pk=item.pk).delete()
    assert not DepartmentItem.objects.filter(item_id=item.pk).exists()


def test_participations_written_before_their_item_get_their_rows(org: Org) -> None:
    """The foreign keys are checked at commit: a loader may write an item's participations
    first. The item's arrival gives them their rows."""
    item = make_item(org, submit=False)
    new_id = CollaborationItem.objects.order_by("-pk").values_list("pk", flat=True)[0] + 100
    with transaction.atomic():
        Participation.objects.create(item_id=new_id, department=org.finance, core_need="预算")
        copy = CollaborationItem.objects.get(pk=item.pk)
        copy.pk = new_id  # a draft: no number yet
        copy._state.adding = True
        copy.save(force_insert=True)
    assert org.finance.pk in rows_match(new_id)
