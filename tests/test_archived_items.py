"""An archived item refuses every write: every POST URL of the project, found by the resolver.

The URLs are not a hand-written list: every pattern Django resolves is walked, so a page added
tomorrow is covered the day it is added (or the test says which id it needs). Each write
request to an archived item, by its coordinator and by an administrator (both could write to it
before), shows the refusal on the item's page and changes nothing: every table's rows are the
same before and after. The Django admin's pages are walked the same way, for every model whose
rows belong to an item: adding, changing, deleting, every list action and the list's own edits
of a row of the archived item are refused with the same message. The services refuse on their
own too (a write from a task or a command).
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import models
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

from collab.notify.models import RobotChannel
from collab.testing import Org, assert_refused, client_for
from requests_app.meeting_services import minutes_confirm
from requests_app.middleware import ITEM_ROUTE, item_path
from requests_app.models import (
    READ_ONLY_REFUSAL,
    Attachment,
    CollaborationItem,
    ItemStatus,
    Meeting,
    Milestone,
    Minutes,
    Todo,
)
from reviews_app.archive_builder import archive_build
from reviews_app.archive_services import archive_request
from reviews_app.models import Archive, Deliverable, DeliverableFile
from reviews_app.tests.test_archive_support import EN, attach, ready_item
from tasks_app import tracking_services
from tasks_app.models import DepartmentExemption, Problem, Task

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_left_as_found() -> Iterator[None]:
    # The requests here are in English, and LocaleMiddleware leaves a request's language active
    # in the thread: without this, the next test would run in English.
    with translation.override(translation.get_language()):
        yield


REFUSAL = "This item is archived and can no longer be changed."
# Tables a write request may touch without changing anything of the item: the session (the
# refusal message travels in it).
UNWATCHED = {"sessions.session"}


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Every URL pattern of the project, as a route string ("items/<int:pk>/tasks/new/")."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


KWARG = re.compile(r"<(?:\w+:)?(\w+)>")


def archived_item(org: Org) -> tuple[CollaborationItem, dict[str, int]]:
    """An archived item with one of every part a URL can name; returns the id of each."""
    item = ready_item(org)
    attach(org, item, "补充资料.pdf")
    archive_build(archive_id=archive_request(actor=org.coordinator, item_id=item.pk).pk)  # closes it
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED
    task = Task.objects.filter(item=item).first()
    assert task is not None
    # Parts an archived item may still hold from before (made here directly: no service writes now).
    exemption = DepartmentExemption.objects.create(
        item=item, department=org.finance, reason="不涉及", decided_by=org.coordinator
    )
    problem = Problem.objects.create(
        item=item, task=task, description="环境不稳定", raised_by=org.owner, owner=org.coordinator
    )
    ids = {
        "pk": item.pk,
        "attachment_pk": Attachment.objects.filter(item=item).values_list("pk", flat=True)[0],
        "meeting_pk": Meeting.objects.filter(item=item).values_list("pk", flat=True)[0],
        "todo_pk": Todo.objects.filter(minutes__meeting__item=item).values_list("pk", flat=True)[0],
        "milestone_pk": Milestone.objects.filter(item=item).values_list("pk", flat=True)[0],
        "task_pk": task.pk,
        "exemption_pk": exemption.pk,
        "problem_pk": problem.pk,
        "deliverable_pk": Deliverable.objects.filter(task__item=item).values_list("pk", flat=True)[0],
        "file_pk": DeliverableFile.objects.filter(version__deliverable__task__item=item).values_list(
            "pk", flat=True
        )[0],
        "archive_pk": Archive.objects.filter(item=item).values_list("pk", flat=True)[0],
    }
    return item, ids


def database() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (the session aside)."""
    return {
        model._meta.label_lower: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.label_lower not in UNWATCHED
    }


def test_every_write_url_of_an_archived_item_is_refused_and_changes_nothing(org: Org) -> None:
    item, ids = archived_item(org)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
    item_routes = [r for r in routes() if r.startswith(ITEM_ROUTE)]
    assert len(item_routes) > 40  # the resolver was walked, not a short list
    clients = [client_for(org.coordinator), client_for(admin)]
    before = database()
    for client in clients:
        for route in item_routes:
            names = KWARG.findall(route)
            missing = [name for name in names if name not in ids]
            assert not missing, f"{route}: give the archived item a part for {missing}"
            url = "/" + KWARG.sub(lambda m: str(ids[m.group(1)]), route)
            response = client.post(url, {}, headers=EN, follow=True)
            assert response.redirect_chain[-1][0] == f"/items/{item.pk}/", route
            assert REFUSAL in response.content.decode(), route
            htmx = client.post(url, {}, headers=EN | {"HX-Request": "true"})
            assert (htmx.status_code, htmx["HX-Redirect"]) == (204, f"/items/{item.pk}/"), route
    assert database() == before


def admin_models_of_items() -> dict[str, type[models.Model]]:
    """Every model in the admin whose rows belong to an item, by its admin route prefix."""
    return {
        f"admin/{m._meta.app_label}/{m._meta.model_name}/": m
        for m in admin.site._registry
        if item_path(m) is not None
    }


def test_every_admin_write_to_a_row_of_an_archived_item_is_refused_and_changes_nothing(org: Org) -> None:
    item, _ids = archived_item(org)
    # The item's own robot group (made here directly: no service writes now).
    RobotChannel.objects.create(
        kind=RobotChannel.Kind.DINGTALK,
        name="事项群",
        webhook_url="https://oapi.example.com/robot",
        item=item,
    )
    superuser = get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
    client = client_for(superuser)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    by_prefix = admin_models_of_items()
    assert RobotChannel in by_prefix.values()  # one the admin may write to, besides read-only ones

    def row_of(model: type[models.Model]) -> Any:
        row = (
            model._default_manager.filter(**{item_path(model): item.pk}).values_list("pk", flat=True).first()
        )
        assert row is not None, f"give the archived item a {model._meta.label}"
        return row

    def pointing_at_the_item(model: type[models.Model]) -> dict[str, Any]:
        """Form values naming, through every foreign key that can, a row of the archived item."""
        return {
            f.name: row_of(f.related_model)
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is not None and item_path(f.related_model) is not None
        }

    before = database()
    walked = set()
    for route in routes():
        prefix = next((p for p in by_prefix if route.startswith(p)), None)
        if prefix is None:
            continue
        model, rest = by_prefix[prefix], route[len(prefix) :]
        url = "/" + route.replace("<path:object_id>", str(row_of(model)))
        posts: list[dict[str, Any]] = []
        if rest == "":
            actions = admin.site._registry[model].get_actions(request)
            posts += [
                {"action": name, "_selected_action": [row_of(model)], "index": 0, "post": "yes"}
                for name in actions
            ]
            posts += [{"action": name, "select_across": "1", "index": 0, "post": "yes"} for name in actions]
            edit = {"form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": row_of(model), "_save": "x"}
            posts.append(edit)
        elif rest == "add/":
            # A new row that would belong to the archived item (a new item belongs to none).
            posts += [fields for fields in [pointing_at_the_item(model)] if fields]
        elif rest.endswith("/delete/"):
            posts.append({"post": "yes"})
        else:
            posts.append(pointing_at_the_item(model) | {"_save": "x"})
        for data in posts:
            response = client.post(url, data, headers=EN, follow=True)
            assert response.status_code == 200, (route, data)
            assert REFUSAL in response.content.decode(), (route, data)
        walked.add(model)
    assert walked == set(by_prefix.values())
    assert database() == before


def test_every_page_naming_a_part_of_an_item_lives_under_the_item() -> None:
    """The HTTP door knows an item's pages by their route: a page that names a task, a meeting,
    a deliverable... outside ``items/<pk>/`` would escape it."""
    all_routes = list(routes())
    part_names = {name for r in all_routes if r.startswith(ITEM_ROUTE) for name in KWARG.findall(r)} - {"pk"}
    escaping = [
        r
        for r in all_routes
        if not r.startswith(ITEM_ROUTE) and (set(KWARG.findall(r)) & part_names or r.startswith("items/<"))
    ]
    assert escaping == []


def test_the_services_refuse_an_archived_item_on_their_own(org: Org) -> None:
    """A write made outside a request (a task, a command, a future view) meets the same door."""
    item, ids = archived_item(org)
    minutes = Minutes.objects.get(meeting_id=ids["meeting_pk"])
    before = database()
    message = str(READ_ONLY_REFUSAL)
    assert_refused(
        lambda: tracking_services.item_set_cadence(actor=org.coordinator, item_id=item.pk, cadence="5d"),
        message,
    )
    assert_refused(
        lambda: tracking_services.problem_assign(
            actor=org.coordinator, problem_id=ids["problem_pk"], owner_id=org.owner.pk
        ),
        message,
    )
    assert_refused(
        lambda: tracking_services.problem_resolve(
            actor=org.coordinator, problem_id=ids["problem_pk"], resolution="已处理"
        ),
        message,
    )
    assert_refused(
        lambda: minutes_confirm(
            actor=org.qa_head,
            minutes_id=minutes.pk,
            department_id=org.qa.pk,
            version=minutes.version,
            decision="objected",
            reason="测试资源不足",
        ),
        message,
    )
    assert_refused(
        lambda: tracking_services.progress_report(
            actor=org.owner,
            task_id=ids["task_pk"],
            data=tracking_services.ReportData("in_progress", 50, "继续"),
        ),
        message,
    )
    assert database() == before
