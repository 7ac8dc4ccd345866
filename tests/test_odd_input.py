"""Odd input never answers 500: every form of every page, every query parameter of every link.

The forms are found, not listed: every URL of the resolver (admin aside) is opened by each persona
in a world with an item at every stage, and every ``<form>`` on the pages is posted back

1. with every field set to a malformed value (three rounds, the values rotating over the fields,
   so each field meets three of them), and
2. with the page's own values and one field replaced by a value odd for its type (a date in year
   1 or 9999, a superscript digit that ``isdigit()`` accepts and ``int()`` refuses, a number too
   big for the database, a NUL character that PostgreSQL refuses in text).

Every query parameter of every link (``?todo=``, ``?department=``, filters) gets the same odd
values. Any answer is fine except a server error.
"""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from collab.dashboards import management
from collab.testing import Org, client_for, make_item, schedule_meeting
from requests_app.models import Attachment, CollaborationItem, Meeting, Todo
from reviews_app.models import Archive, Deliverable, DeliverableFile, ImprovementMeasure
from reviews_app.tests.delivery_support import submit
from reviews_app.tests.test_archive_support import attach, started_item
from tasks_app.models import DepartmentExemption, Problem, Task
from tasks_app.tests.support import consensus_item
from tests.forms_support import Form, FormParser

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "²"
HUGE = "99999999999999999999999"
ALL_FIELDS_VALUES = ["", SUPERSCRIPT_TWO, HUGE, "0001-01-01", "9999-12-31T23:59", "x\x00y"]
ODD_BY_TYPE = {
    "date": ["0001-01-01", "9999-12-31"],
    "datetime-local": ["9999-12-31T23:59"],
    "number": [SUPERSCRIPT_TWO],
    "select": [SUPERSCRIPT_TWO],
    "hidden": [SUPERSCRIPT_TWO],
}
ROTATIONS = 3  # rounds of malformed values, each field getting a different one each round
SKIPPED_ACTIONS = {reverse("logout")}


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue
            inner = (
                f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            )
            found += url_patterns(pattern, prefix + str(pattern.pattern), inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            found.append((f"{namespace}:{pattern.name}" if namespace else pattern.name, pattern))
    return found


def kwargs_for(item: CollaborationItem) -> dict[str, Any]:
    """One object of each kind that belongs to ``item``, by the URL keyword that names it."""
    first = {
        "meeting_pk": Meeting.objects.filter(item=item),
        "attachment_pk": Attachment.objects.filter(item=item),
        "task_pk": Task.objects.filter(item=item),
        "todo_pk": Todo.objects.filter(minutes__meeting__item=item),
        "exemption_pk": DepartmentExemption.objects.filter(item=item),
        "milestone_pk": item.milestones.all(),
        "problem_pk": Problem.objects.filter(task__item=item),
        "deliverable_pk": Deliverable.objects.filter(task__item=item),
        "file_pk": DeliverableFile.objects.filter(version__deliverable__task__item=item),
        "archive_pk": Archive.objects.filter(item=item),
        "measure_pk": ImprovementMeasure.objects.filter(retrospective__item=item),
    }
    values: dict[str, Any] = {"pk": item.pk, "figure": next(iter(management.ROW_FIGURES))}
    for key, queryset in first.items():
        if (pk := queryset.order_by("pk").values_list("pk", flat=True).first()) is not None:
            values[key] = pk
    return values


def page_urls(items: list[CollaborationItem]) -> list[str]:
    urls: set[str] = set()
    for name, pattern in url_patterns():
        if str(pattern.pattern).endswith((".pdf", ".xlsx")) or name.endswith(("_download", "_file")):
            continue  # files, not pages: no forms or links to find there
        wanted = set(pattern.pattern.converters)
        for item in items:
            available = kwargs_for(item)
            if wanted <= set(available):
                urls.add(reverse(name, kwargs={key: available[key] for key in wanted}))
    return sorted(urls)


@pytest.fixture
def world(org: Org) -> dict[str, Any]:
    """Items at the stages whose pages carry forms: a draft with a file, one at consensus with
    to-dos left and a meeting scheduled, one in execution with a deliverable waiting for review;
    a superuser for the management pages."""
    draft = make_item(org, submit=False)
    attach(org, draft)
    planning = consensus_item(org)
    schedule_meeting(org, planning)
    executing = started_item(org)
    submit(org, Task.objects.filter(item=executing).order_by("pk")[0])
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    return {"items": [draft, planning, executing], "users": [org.coordinator, org.owner, org.receiver, boss]}


def request(client: Client, method: str, url: str, data: Any, problems: list[str], label: str) -> None:
    try:
        response = client.post(url, data) if method == "post" else client.get(url, data)
    except Exception as error:
        problems.append(f"{label}: {type(error).__name__}: {error}"[:300])
        return
    if response.status_code >= 500:
        problems.append(f"{label}: HTTP {response.status_code}")


def collect(world: dict[str, Any]) -> tuple[dict[Any, tuple[Any, Form]], dict[Any, tuple[Any, str]]]:
    """Every form and every link parameter of the pages, once per view (not once per item)."""
    forms: dict[Any, tuple[Any, Form]] = {}
    links: dict[Any, tuple[Any, str]] = {}
    clients = [client_for(user) for user in world["users"]]
    for url in page_urls(world["items"]):
        for user, client in zip(world["users"], clients, strict=True):
            response = client.get(url)
            if response.status_code == 405:
                break  # a POST-only view: its form is on another page
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = FormParser(url)
            parser.feed(response.content.decode())
            for form in parser.forms:
                view = resolve(urlsplit(form.action).path).view_name
                key = (view, form.method, tuple(sorted({name for name, _, _ in form.fields})))
                if form.action not in SKIPPED_ACTIONS and form.fields:
                    forms.setdefault(key, (user, form))
            for link in parser.links:
                parts = urlsplit(link)
                path = parts.path or url
                for name, _value in parse_qsl(parts.query, keep_blank_values=True):
                    links.setdefault((resolve(path).view_name, name), (user, path))
            if "/tasks/" not in url and "/deliverables/" not in url:
                break  # the owner's and the receiver's own forms are on their task's pages only
    return forms, links


def test_no_form_field_or_query_parameter_answers_a_server_error(world: dict[str, Any]) -> None:
    forms, links = collect(world)
    assert len(forms) > 25, "the walk should find the application's forms"
    assert ("tasks_app:task_create", "todo") in links, "the task sheet links to new tasks by to-do"

    problems: list[str] = []
    for (_view, method, _names), (user, form) in forms.items():
        client = client_for(user)
        names = sorted({name for name, _kind, _value in form.fields} - {"csrfmiddlewaretoken"})
        for rotation in range(ROTATIONS):
            data = {
                name: ALL_FIELDS_VALUES[(i + rotation) % len(ALL_FIELDS_VALUES)]
                for i, name in enumerate(names)
            }
            request(client, method, form.action, data, problems, f"{method} {form.action} {data!r}")
        baseline: dict[str, list[str]] = {}
        for name, _kind, value in form.fields:
            baseline.setdefault(name, []).append(value)
        for name, kind, _ in form.fields:
            for value in ODD_BY_TYPE.get(kind, []):  # text is covered by the all-fields rounds
                data = {**baseline, name: [value]}
                request(
                    client, method, form.action, data, problems, f"{method} {form.action} {name}={value!r}"
                )
    for (_view, name), (user, path) in links.items():
        client = client_for(user)
        for value in [SUPERSCRIPT_TWO, HUGE, "9999-12-31"]:
            request(client, "get", path, {name: value}, problems, f"get {path}?{name}={value!r}")
    assert problems == []


def test_a_superscript_digit_in_the_version_is_a_stale_page_not_a_crash(org: Org) -> None:
    item = make_item(org, submit=False)
    response = client_for(org.requester).post(
        reverse("requests_app:item_submit", args=[item.pk]), {"version": SUPERSCRIPT_TWO}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "draft"


def test_a_download_whose_stored_file_is_gone_is_not_found(org: Org) -> None:
    item = started_item(org)
    attachment = attach(org, item)
    deliverable = submit(org, Task.objects.filter(item=item).order_by("pk")[0])
    stored = DeliverableFile.objects.get(version__deliverable=deliverable)
    urls = [
        reverse("requests_app:attachment_download", args=[item.pk, attachment.pk]),
        reverse("reviews_app:deliverable_file", args=[item.pk, deliverable.pk, stored.pk]),
    ]
    client = client_for(org.coordinator)
    assert [client.get(url).status_code for url in urls] == [200, 200]
    attachment.file.storage.delete(attachment.file.name)
    stored.file.storage.delete(stored.file.name)
    assert [client.get(url).status_code for url in urls] == [404, 404]


def test_a_superscript_digit_as_a_to_do_is_refused_with_a_message(org: Org) -> None:
    item = consensus_item(org)
    client = client_for(org.coordinator)
    response = client.get(
        reverse("tasks_app:task_create", args=[item.pk]), {"todo": SUPERSCRIPT_TWO}, follow=True
    )
    assert response.redirect_chain == [(reverse("tasks_app:task_sheet", args=[item.pk]), 302)]
    assert "该待办事项已转为任务、已取消，或不属于本事项。" in response.content.decode()
    assert not Task.objects.filter(item=item).exists()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_deadline_at_the_ends_of_the_calendar_is_refused_with_a_message(org: Org, day: str) -> None:
    item = consensus_item(org)
    client = client_for(org.coordinator)
    todo = Todo.objects.filter(minutes__meeting__item=item).order_by("pk")[0]
    url = reverse("tasks_app:task_create", args=[item.pk]) + f"?todo={todo.pk}"
    parser = FormParser(url)
    parser.feed(client.get(url).content.decode())
    [form] = [f for f in parser.forms if any(name == "deadline" for name, _k, _v in f.fields)]
    data: dict[str, list[str]] = {}
    for name, _kind, value in form.fields:
        data.setdefault(name, []).append(value)
    data["deadline"] = [day]
    response = client.post(form.action, data)
    assert response.status_code == 200
    assert "请输入 2000-01-01 至 2099-12-31 之间的日期。" in response.content.decode()
    assert not Task.objects.filter(item=item).exists()
