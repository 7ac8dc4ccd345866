from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from collab.notify.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count in the top bar: one indexed COUNT, run when a template shows it.

    Lazy, so a page that does not show the top bar (an HTMX fragment) costs no query, and a page
    that has counted them already (My work) passes its own number in its context instead.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: Notification.objects.filter(recipient=user, read_at=None).count()
        )
    }
