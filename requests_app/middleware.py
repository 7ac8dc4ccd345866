"""The HTTP door of an archived item: every write request to its pages is refused at once.

Every page of an item lives under ``items/<pk>/`` (the URL test in tests/test_archived_items.py
keeps it so). A request that may change something (any method but GET, HEAD, OPTIONS) to such a
page is refused here, before its view validates a form, when the item is archived: the person
reads the refusal on the item's page and nothing changes. The domain door behind it is
``CollaborationItem.require_writable``, which the audit writer calls for every write, so a
write made outside a request (a task, a command) is refused as well.

People who may not see the item are left to the view, which answers 404 as for any item.

The admin writes without the services, so the same door stands in front of it: a write request
to an admin page of a model whose rows belong to an item (its add, change and delete pages and
its list's actions and edits) is refused when a row it names, or a row its form points at,
belongs to an archived item. Which models those are is read from their foreign keys
(``item_path``), so a model registered in the admin tomorrow is covered the day it is added.
"""

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from requests_app.access import items_read_ahead, may_view, read_item_ahead
from requests_app.errors import ItemError
from requests_app.models import READ_ONLY_REFUSAL, CollaborationItem, ItemStatus

ITEM_ROUTE = "items/<int:pk>/"
ADMIN_NAMESPACE = "admin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Rows that speak of an item without being part of it: the outbox keeps delivering (and an
# administrator resending) notifications about an item after it is archived, among them those
# of its archiving; the audit log records it. Neither changes the item.
ABOUT_AN_ITEM = frozenset({"notify.notification", "notify.delivery", "audit.auditentry"})
# Foreign keys followed from a row to find its item: the deepest part, a signature, is three away.
ITEM_PATH_DEPTH = 4
EDITED_ROW = re.compile(r"form-\d+-id")


def archived_item_refusal(request: HttpRequest, route: str, pk: Any) -> HttpResponse | None:
    """The answer to a write request to an archived item's page, or None to let the view run."""
    if request.method in SAFE_METHODS or not route.startswith(ITEM_ROUTE):
        return None
    # The row the view's ``item_for`` takes over (one read of the item per request).
    item = read_item_ahead(pk)
    # The permission only for an archived item: a write to any other goes to its view, which
    # decides who may see it; an outsider learns nothing from either answer.
    if item is None or not item.is_read_only or not may_view(request.user, item):
        return None
    try:
        item.require_writable()
    except ItemError as refusal:
        messages.error(request, refusal.message)
        url = reverse("requests_app:item_detail", args=[item.pk])
        if request.headers.get("HX-Request"):
            # htmx would swap a followed redirect into the fragment: it loads the page instead.
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return HttpResponseRedirect(url)
    return None


@functools.cache
def item_path(model: type[models.Model]) -> str | None:
    """The lookup from a row of ``model`` to its item's primary key ("item", "task__item",
    "minutes__meeting__item"...), the shortest along foreign keys; None if it belongs to none."""
    if model is CollaborationItem:
        return "pk"
    if model._meta.label_lower in ABOUT_AN_ITEM:
        return None
    paths: list[tuple[type[models.Model], str]] = [(model, "")]
    for _depth in range(ITEM_PATH_DEPTH):
        following = []
        for current, path in paths:
            for field in current._meta.concrete_fields:
                if not field.is_relation or not field.related_model or field.related_model == "self":
                    continue
                lookup = f"{path}__{field.name}" if path else field.name
                if field.related_model is CollaborationItem:
                    return lookup
                following.append((field.related_model, lookup))
        paths = following
    return None


def _admin_model(route: str) -> type[models.Model] | None:
    """The model of an admin page ("admin/<app_label>/<model_name>/..."), if it is one's."""
    parts = route.split("/")
    if len(parts) < 3:
        return None
    try:
        return apps.get_model(parts[1], parts[2])
    except (LookupError, ValueError):
        return None


def _items_of(model: type[models.Model], pks: Iterable[Any]) -> set[int]:
    path = item_path(model)
    pks = [pk for pk in pks if pk not in (None, "")]
    if path is None or not pks:
        return set()
    try:
        rows = model._default_manager.filter(pk__in=pks).values_list(path, flat=True)
        return {pk for pk in rows if pk is not None}
    except (ValueError, TypeError):  # a malformed id names no row
        return set()


def archived_admin_refusal(request: HttpRequest, route: str, kwargs: dict[str, Any]) -> HttpResponse | None:
    """The answer to an admin write naming a row of an archived item, or None to let it run.

    The rows named: the page's own (change, delete), those an action or the list's edits name,
    and those the posted form points at through its foreign keys (add and change).
    """
    if request.method in SAFE_METHODS:
        return None
    model = _admin_model(route)
    if model is None:
        return None
    named: list[str] = [unquote(kwargs["object_id"])] if "object_id" in kwargs else []
    named += request.POST.getlist("_selected_action")
    named += [request.POST.get(key, "") for key in request.POST if EDITED_ROW.fullmatch(key)]
    items = _items_of(model, named)
    if request.POST.get("select_across") == "1":  # an action on every row of the list
        path = item_path(model)
        if path is not None:
            items |= {pk for pk in model._default_manager.values_list(path, flat=True).distinct() if pk}
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name in request.POST and field.related_model not in (None, "self"):
            items |= _items_of(field.related_model, request.POST.getlist(field.name))
    if not items or not CollaborationItem.objects.filter(pk__in=items, status=ItemStatus.CLOSED).exists():
        return None
    messages.error(request, str(READ_ONLY_REFUSAL))
    # Back to the row's page (view-only for the read-only admins), or to the list.
    name = f"{ADMIN_NAMESPACE}:{model._meta.app_label}_{model._meta.model_name}"
    if "object_id" in kwargs:
        return HttpResponseRedirect(reverse(f"{name}_change", args=[kwargs["object_id"]]))
    return HttpResponseRedirect(reverse(f"{name}_changelist"))


class ArchivedItemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with items_read_ahead():
            return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None:
            return None
        if match.namespace == ADMIN_NAMESPACE:
            return archived_admin_refusal(request, match.route, kwargs)
        if "pk" not in kwargs:
            return None
        return archived_item_refusal(request, match.route, kwargs["pk"])
