"""Picker searches: pinyin initials, departments, answers bounded, chosen-only rendering."""

from typing import Any

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.test import Client

from collab.org.models import Department, Person
from collab.org.pickers import (
    FULL_LIST,
    LIMIT,
    DepartmentPicker,
    PeoplePicker,
    pinyin_keys,
    search_departments,
    search_people,
)
from collab.testing import Org, client_for
from requests_app.forms import people

pytestmark = pytest.mark.django_db


def labels(results: list[dict[str, Any]]) -> list[str]:
    return [r["label"] for r in results]


def test_pinyin_initials_full_pinyin_and_departments_find_people(org: Org) -> None:
    assert pinyin_keys("张敏") == ("zhangmin", "zm")
    assert labels(search_people("zm"))[0] == "张敏 · 产品部"
    assert labels(search_people("zhangm"))[0] == "张敏 · 产品部"
    assert "吴杰 · 测试部" in labels(search_people("测试部"))
    assert labels(search_departments("yfb")) == ["研发部"]
    sub = Department(name="综合部", parent=org.rnd)
    sub.save()
    assert labels(search_departments("zhb")) == ["研发部 / 综合部"]
    assert search_people("") == []


def test_answers_are_bounded_and_the_endpoint_needs_a_login(org: Org) -> None:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"p{n}", last_name="张", first_name=f"敏{n}") for n in range(LIMIT + 5)
    )
    Person.objects.bulk_create(Person(user=u, department=org.qa) for u in users)

    assert len(search_people("zm")) == LIMIT
    assert Client().get("/pickers/people/?q=zm").status_code == 302
    reply = client_for(org.owner).get("/pickers/people/?q=zm").json()
    assert len(reply["results"]) == LIMIT and reply["results"][0]["label"] == "张敏 · 产品部"


def test_a_long_list_renders_only_the_chosen_people(org: Org, django_assert_max_num_queries: Any) -> None:
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"s{n}", first_name=f"员工{n}") for n in range(FULL_LIST + 1)
    )
    Person.objects.bulk_create(Person(user=u, department=org.rnd) for u in users)

    class Form(forms.Form):
        invitees = forms.ModelMultipleChoiceField(queryset=people(), widget=PeoplePicker)

    with django_assert_max_num_queries(2):
        html = str(Form(initial={"invitees": [org.owner.pk]})["invitees"])
    assert html.count("<option") == 1
    assert 'data-picker="people"' in html and "/pickers/people/" in html


@pytest.mark.parametrize("empty_label", [None, "---"])
@pytest.mark.parametrize("departments", ["all", "none"])
def test_a_single_choice_is_required_as_a_plain_select_says_in_one_query(
    org: Org, django_assert_num_queries: Any, empty_label: str | None, departments: str
) -> None:
    """ "required" where Django's own select puts it (only before an empty first option), from
    the one query that lists the options: the first option is not read again to decide."""
    choices = Department.objects.order_by("name")
    if departments == "none":
        choices = choices.none()

    def form(widget: type[forms.Select]) -> forms.Form:
        class Form(forms.Form):
            department = forms.ModelChoiceField(queryset=choices, empty_label=empty_label, widget=widget)

        return Form(initial={"department": org.qa.pk})

    plain = str(form(forms.Select)["department"])
    with django_assert_num_queries(0 if departments == "none" else 1):
        html = str(form(DepartmentPicker)["department"])
    assert ("required" in html) == ("required" in plain)
    assert html.count("<option") == plain.count("<option")
