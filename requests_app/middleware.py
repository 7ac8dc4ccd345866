"""The HTTP door of an archived item: every write request to its pages is refused at once.

Every page of an item lives under ``items/<pk>/`` (the URL test in tests/test_archived_items.py
keeps it so). A request that may change something (any method but GET, HEAD, OPTIONS) to such a
page is refused here, before its view validates a form, when the item is archived: the person
reads the refusal on the item's page and nothing changes. The domain door behind it is
``CollaborationItem.require_writable``, which the audit writer calls for every write, so a
write made outside a request (a task, a command) is refused as well.

People who may not see the item are left to the view, which answers 404 as for any item.
"""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from requests_app.errors import ItemError
from requests_app.models import CollaborationItem
from requests_app.services import VIEW

ITEM_ROUTE = "items/<int:pk>/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def archived_item_refusal(request: HttpRequest, route: str, pk: Any) -> HttpResponse | None:
    """The answer to a write request to an archived item's page, or None to let the view run."""
    if request.method in SAFE_METHODS or not route.startswith(ITEM_ROUTE):
        return None
    item = CollaborationItem.objects.filter(pk=pk).only("pk", "status").first()
    if item is None or not request.user.has_perm(VIEW, item):
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


class ArchivedItemMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or "pk" not in kwargs:
            return None
        return archived_item_refusal(request, match.route, kwargs["pk"])
