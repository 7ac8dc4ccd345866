"""Typed refusals of access, and the one place that turns them into HTTP answers.

The rules (who may see an item, who may act on its parts) live in each stage's ``access``
module and raise these; views and services never write 404/403 or a permission message
themselves. ``RefusalMiddleware`` answers every view the same way:

- ``NotVisible``: the person is outside the item; 404, so they do not learn that it exists;
- ``NotPermitted``: the person sees the item but lacks the right; 403 with the reason.
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse


class Refused(Exception):
    """A person may not do what they asked; ``message`` says why, in their language."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotVisible(Refused):
    """The person does not take part in the item (or it does not exist)."""


class NotPermitted(Refused):
    """The person sees the item but this action is not theirs."""


class RefusalMiddleware:
    """Maps a refusal raised anywhere under a view to 404 or 403, for every view at once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Raised here, Django's handler renders the 404/403 pages as for any other view.
        if isinstance(exception, NotVisible):
            raise Http404 from exception
        if isinstance(exception, NotPermitted):
            raise PermissionDenied(exception.message) from exception
