"""Reads of the notification centre, for the daily digest in particular."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet

from collab.notify.models import Notification, Preference, Urgency
from collab.notify.personal import PERSONAL_IM_KINDS
from collab.org.models import Person


def notifications_for_digest(*, recipient: Any, since: datetime) -> QuerySet[Notification]:
    """A person's routine notifications created since ``since`` that no digest has carried yet,
    oldest first. Mark them with ``services.notifications_mark_digested`` once sent."""
    return (
        Notification.objects.filter(
            recipient=recipient, urgency=Urgency.DIGEST, digested_at=None, created_at__gte=since
        )
        .select_related("item")
        .order_by("created_at", "pk")
    )


def digest_recipients(*, since: datetime) -> QuerySet[Any]:
    """People with undigested routine notifications since ``since`` who did not turn e-mail off."""
    waiting = Notification.objects.filter(
        recipient=OuterRef("pk"), urgency=Urgency.DIGEST, digested_at=None, created_at__gte=since
    )
    email_off = Preference.objects.filter(user=OuterRef("pk"), email=False)
    return (
        get_user_model()
        .objects.filter(Exists(waiting), is_active=True)
        .exclude(Exists(email_off))
        .exclude(email="")
        .select_related("person")
        .order_by("pk")
    )


def preferences_for(user_ids: Collection[int]) -> dict[int, Preference]:
    """Each user's preference; for those who never chose, the defaults (one unsaved instance
    shared by all of them: a sweep asks for thousands of people). One query."""
    saved = {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids)}
    defaults = Preference()
    return {pk: saved.get(pk, defaults) for pk in user_ids}


def preference_of(user: Any) -> Preference:
    """The person's preference, the defaults (unsaved) when they never chose."""
    return Preference.objects.filter(user_id=user.pk).first() or Preference(user_id=user.pk)


def im_reachable(user_ids: Collection[int]) -> set[int]:
    """Who can get a personal IM message: linked by a DingTalk, Feishu or WeCom directory sync. One query."""
    return set(
        Person.objects.filter(user_id__in=user_ids, source__kind__in=PERSONAL_IM_KINDS)
        .exclude(source_user_id="")
        .values_list("user_id", flat=True)
    )
