"""The source-neutral sync engine: one tree keyed by the source's IDs, applied whole or not at all."""

import pytest

from collab.org.models import Department, DirectorySource, Person
from collab.org.sync.engine import directory_sync, split_name
from collab.org.sync.snapshot import DirectoryError, Snapshot, SourceDepartment, SourceUser
from collab.testing import Org

pytestmark = pytest.mark.django_db


def source() -> DirectorySource:
    return DirectorySource.objects.create(kind="ldap", name="AD")


def test_it_adopts_departments_and_people_entered_by_hand(org: Org) -> None:
    directory = source()
    snapshot = Snapshot(
        departments=[SourceDepartment("d-qa", "测试部", head_ids=("u-owner",))],
        users=[SourceUser("u-owner", "王测试", ("d-qa",), email="owner@example.com")],
    )

    run = directory_sync(source=directory, snapshot=snapshot, apply=True)

    assert {(c["action"], c["name"]) for c in run.diff["changes"]} == {
        ("linked", "测试部"),
        ("linked", "王测试"),
        ("renamed", "王测试"),
        ("head", "测试部"),
    }
    org.qa.refresh_from_db()
    assert org.qa.external_id == "d-qa"
    assert org.qa.head == org.owner
    assert Person.objects.get(user=org.owner).source_user_id == "u-owner"


def test_a_cycle_or_twin_siblings_are_refused_before_anything_changes(org: Org) -> None:
    directory = source()
    cycle = Snapshot(departments=[SourceDepartment("a", "甲", "b"), SourceDepartment("b", "乙", "a")])
    twins = Snapshot(departments=[SourceDepartment("a", "综合部"), SourceDepartment("b", "综合部")])

    with pytest.raises(DirectoryError, match="形成了循环"):
        directory_sync(source=directory, snapshot=cycle, apply=True)
    with pytest.raises(DirectoryError, match="两个名为“综合部”的部门"):
        directory_sync(source=directory, snapshot=twins, apply=True)
    assert not Department.objects.filter(source=directory).exists()


def test_a_conflict_half_way_rolls_back_what_was_already_made(org: Org) -> None:
    directory = source()
    # The second department moves a hand-made one under a parent that already has its name.
    Department.objects.create(name="测试部", parent=org.rnd)
    snapshot = Snapshot(
        departments=[
            SourceDepartment("new", "新部门"),
            SourceDepartment("d-rnd", "研发部"),
            SourceDepartment("clash", "测试部", "d-rnd"),
        ],
        users=[SourceUser("u1", "赵新", ("new",))],
    )
    Department.objects.filter(pk=org.qa.pk).update(source=directory, external_id="clash")

    with pytest.raises(DirectoryError):
        directory_sync(source=directory, snapshot=snapshot, apply=True)

    assert not Department.objects.filter(name="新部门").exists()
    assert not Person.objects.filter(source_user_id="u1").exists()
    org.qa.refresh_from_db()
    assert org.qa.parent is None


def test_names_split_the_way_display_names_join_them() -> None:
    assert split_name("张敏") == ("敏", "张")
    assert split_name("Ada King Lovelace") == ("Ada King", "Lovelace")
    assert split_name("Plato") == ("Plato", "")
