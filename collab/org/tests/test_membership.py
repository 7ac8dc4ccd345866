"""Department groups carry item visibility, so they must follow people and heads exactly."""

import pytest
from django.contrib.auth.models import Group

from collab.org.models import Department, Person
from collab.testing import Org, make_item
from requests_app.selectors import visible_items

pytestmark = pytest.mark.django_db


def department_groups(user: object) -> set[str]:
    return set(
        Group.objects.filter(user=user, department__isnull=False).values_list("department__name", flat=True)
    )


def test_a_person_is_in_their_departments_group(org: Org) -> None:
    assert department_groups(org.owner) == {"测试部"}


def test_a_head_is_also_in_the_group_of_the_department_they_head(org: Org) -> None:
    org.finance.head = org.requester
    org.finance.save()
    assert department_groups(org.requester) == {"产品部", "财务部"}
    org.finance.head = None
    org.finance.save()
    assert department_groups(org.requester) == {"产品部"}


def test_moving_department_moves_what_a_person_sees(org: Org) -> None:
    item = make_item(org)
    assert item not in visible_items(org.outsider)
    person = Person.objects.get(user=org.outsider)
    person.department = org.qa
    person.save()
    assert department_groups(org.outsider) == {"测试部"}
    assert item in visible_items(org.outsider)


def test_renaming_a_department_keeps_its_group(org: Org) -> None:
    group_id = org.qa.group_id
    org.qa.name = "质量保障部"
    org.qa.save()
    assert Department.objects.get(pk=org.qa.pk).group_id == group_id
    assert Group.objects.get(pk=group_id).name == "department:质量保障部"


def test_a_department_cannot_be_its_own_ancestor(org: Org) -> None:
    from django.core.exceptions import ValidationError

    org.qa.parent = org.rnd
    org.qa.save()
    org.rnd.parent = org.qa
    with pytest.raises(ValidationError):
        org.rnd.full_clean()
