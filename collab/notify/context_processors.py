from typing import Any

from django.http import HttpRequest

from collab.notify.models import Notification


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count in the top bar: one indexed COUNT per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": Notification.objects.filter(recipient=user, read_at=None).count()}
