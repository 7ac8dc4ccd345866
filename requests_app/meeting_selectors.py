"""Reads of meetings and minutes shared by their pages, prints and the archive."""

from typing import Any

from requests_app.models import Confirmation, Minutes
from requests_app.selectors import participating_departments


def confirmation_states(minutes: Minutes) -> list[dict[str, Any]]:
    """Per participating department: its latest decision on the current version, and its history."""
    rows = list(
        Confirmation.objects.filter(minutes=minutes)
        .select_related("decided_by__person")
        .order_by("decided_at", "pk")
    )
    states = []
    for department in participating_departments(minutes.meeting.item):
        history = [c for c in rows if c.department_id == department.pk]
        current = [c for c in history if c.version == minutes.version]
        states.append(
            {"department": department, "latest": current[-1] if current else None, "history": history}
        )
    return states
