"""Writes of the notification centre: telling people, reading, the digest, preferences.

Delivery itself (e-mail and robots, claims, retries) lives in ``collab.notify.delivery``.
"""

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from collab.audit.texts import Joined, Text, as_stored
from collab.notify.models import Delivery, Notification, Preference, RobotChannel, Urgency
from collab.notify.selectors import im_reachable, preferences_for
from collab.queueing import enqueue_after_commit


def _language_of(user: Any) -> str:
    person = getattr(user, "person", None)
    return person.language if person is not None else settings.LANGUAGE_CODE


def _department_of(user: Any) -> int | None:
    person = getattr(user, "person", None)
    return person.department_id if person is not None else None


def urgency_for_item(item: Any) -> str:
    """The urgency the item's scenario calls for (``scenario_urgency``, kept by the item's own
    app: emergencies instant, routine syncs in the digest); no item: normal."""
    return str(getattr(item, "scenario_urgency", None) or Urgency.NORMAL)


def _insert(delivery: Delivery) -> Delivery | None:
    """Saves a delivery unless the same one exists (its unique constraint): then None."""
    try:
        with transaction.atomic():
            delivery.save()
    except IntegrityError:
        return None
    return delivery


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    render: Callable[[], tuple[str | Text, str | Text | Joined]],
    url: str = "",
    item: Any = None,
    dedupe: str | None = None,
    urgency: str = Urgency.NORMAL,
) -> list[Notification]:
    """Tells people of one event, in the app and on the channels its urgency calls for.

    ``render`` returns (title, body), each a ``Text`` (collab.audit.texts): stored untranslated
    and rendered in each reader's language when read, e-mailed or messaged. It runs once per
    recipient with their language active (plain strings, the older way, are stored as rendered
    then), and once more in the company's language for group robots. ``dedupe`` names the event: the same
    event reaches a person once, and a group once, however often it is told. ``urgency``:

    - "instant" (emergencies): in-app, e-mail and robots at once; robots of the item, of the
      recipients' departments and the company-wide ones.
    - "normal": in-app, e-mail at once, robots of the item and of the recipients' departments.
    - "digest" (routine): in-app now; e-mail only in the daily digest (for people who turned
      the digest off: e-mail at once); no robots.

    1. Store one notification per new recipient; a repeated event stores nothing.
    2. Enqueue one e-mail per notification that is not for the digest, unless the person turned
       e-mail off or has no address.
    3. Enqueue one post per matching active robot (not per person), mentioning the recipients
       who allow mentions (a department's robot: those of the department).
    4. After commit, deliver the new deliveries by id. The rows are the outbox: if the broker
       or a channel is down, the sweep (every minute) delivers them later.
    """
    if urgency not in Urgency.values:
        raise ValueError(f"urgency must be one of {Urgency.values}, not {urgency!r}")
    people = {r.pk: r for r in recipients if r is not None}
    if not people:
        return []
    preferences = preferences_for(list(people))
    reachable_in_im = im_reachable(list(people))
    event = dedupe or f"{kind}:{uuid.uuid4().hex}"
    now = timezone.now()
    created: list[Notification] = []
    deliveries: list[Delivery] = []
    for recipient in people.values():
        preference = preferences[recipient.pk]
        own_urgency = urgency
        if urgency == Urgency.DIGEST and not preference.routine_digest:
            own_urgency = Urgency.NORMAL
        with translation.override(_language_of(recipient)):
            title, body = render()
            # The recipient's language at the time: for the admin and for older readers of
            # title/body; the pages, e-mails and IM messages render title_text/body_text.
            title_rendered, body_rendered = str(title)[:300], str(body)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient,
                    kind=kind,
                    title=title_rendered,
                    body=body_rendered,
                    title_text=as_stored(title),
                    body_text=as_stored(body),
                    url=url,
                    item=item,
                    dedupe_key=f"{event}:{recipient.pk}",
                    urgency=own_urgency,
                )
        except IntegrityError:
            continue  # already told about this event
        created.append(notification)
        if own_urgency != Urgency.DIGEST and preference.email and recipient.email:
            email = _insert(
                Delivery(
                    channel=Delivery.Channel.EMAIL,
                    notification=notification,
                    event=notification.dedupe_key or "",
                    urgency=own_urgency,
                    item=item,
                    next_attempt_at=now,
                )
            )
            if email is not None:
                deliveries.append(email)
        if own_urgency != Urgency.DIGEST and preference.im_messages and recipient.pk in reachable_in_im:
            message = _insert(
                Delivery(
                    channel=Delivery.Channel.IM,
                    notification=notification,
                    event=notification.dedupe_key or "",
                    urgency=own_urgency,
                    item=item,
                    next_attempt_at=now,
                )
            )
            if message is not None:
                deliveries.append(message)
    if created and urgency != Urgency.DIGEST:
        told = [n.recipient for n in created]
        deliveries += _enqueue_robots(
            told=told,
            preferences=preferences,
            render=render,
            kind=kind,
            url=url,
            item=item,
            event=event,
            urgency=urgency,
            now=now,
        )
    ids = [d.pk for d in deliveries]
    if ids:
        from collab.notify.tasks import deliver

        # robust: a broker that is down must not fail the request that already committed; the
        # rows are pending and the sweep delivers them.
        enqueue_after_commit(deliver, ids)
    return created


def _enqueue_robots(
    *,
    told: list[Any],
    preferences: dict[int, Preference],
    render: Callable[[], tuple[str | Text, str | Text | Joined]],
    kind: str,
    url: str,
    item: Any,
    event: str,
    urgency: str,
    now: Any,
) -> list[Delivery]:
    departments = {_department_of(user) for user in told} - {None}
    wanted = Q(item=None, department_id__in=departments)
    if item is not None:
        wanted |= Q(item_id=item.pk)
    if urgency == Urgency.INSTANT:
        wanted |= Q(item=None, department=None)
    robots = list(RobotChannel.objects.filter(wanted, active=True))
    if not robots:
        return []
    # Groups read the company's language (Simplified Chinese by default), once per event.
    with translation.override(settings.LANGUAGE_CODE):
        title, body = render()
        title, body = str(title), str(body)
    deliveries = []
    for robot in robots:
        audience = [
            u for u in told if robot.department_id is None or _department_of(u) == robot.department_id
        ]
        delivery = _insert(
            Delivery(
                channel=Delivery.Channel.ROBOT,
                robot=robot,
                event=event,
                urgency=urgency,
                title=str(title)[:300],
                body=str(body),
                url=url,
                item=item,
                mention_user_ids=[u.pk for u in audience if preferences[u.pk].robot_mentions],
                next_attempt_at=now,
            )
        )
        if delivery is not None:
            deliveries.append(delivery)
    return deliveries


def notification_open(*, recipient: Any, notification_id: int) -> Notification:
    notification = Notification.objects.get(pk=notification_id, recipient=recipient)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=timezone.now())
    return notification


def notifications_mark_all_read(*, recipient: Any) -> int:
    return Notification.objects.filter(recipient=recipient, read_at=None).update(read_at=timezone.now())


def notifications_mark_digested(*, notification_ids: Iterable[int]) -> int:
    """Records that these notifications went out in a digest. Returns how many were still due:
    a conditional UPDATE, so two digest runs never both claim the same notification."""
    return Notification.objects.filter(
        pk__in=list(notification_ids), urgency=Urgency.DIGEST, digested_at=None
    ).update(digested_at=timezone.now())


def preference_update(
    *, user: Any, email: bool, robot_mentions: bool, routine_digest: bool, im_messages: bool = True
) -> Preference:
    preference, _created = Preference.objects.update_or_create(
        user=user,
        defaults={
            "email": email,
            "robot_mentions": robot_mentions,
            "routine_digest": routine_digest,
            "im_messages": im_messages,
        },
    )
    return preference
