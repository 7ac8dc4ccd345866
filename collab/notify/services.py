"""Writes of the notification centre: telling people, reading, the digest, preferences.

Delivery itself (e-mail and robots, claims, retries) lives in ``collab.notify.delivery``.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone, translation

from collab.audit.texts import Joined, Text, as_stored
from collab.notify.models import Delivery, Notification, Preference, RobotChannel, Urgency
from collab.notify.selectors import im_reachable, preferences_for
from collab.queueing import enqueue_after_commit

Render = Callable[[], tuple[str | Text, str | Text | Joined]]

# Deliveries handed to one ``deliver`` task: a big batch of events is spread over the workers.
DELIVERIES_PER_TASK = 100


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


def _insert[Row: models.Model](row: Row) -> Row | None:
    """Saves a row unless the same one exists (its unique constraint): then None."""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None
    return row


def _insert_all[Row: models.Model](rows: list[Row]) -> list[Row]:
    """Saves the rows with one INSERT and returns them. When one of them exists already (the same
    event told at the same moment by another process), one by one, returning those that were new."""
    if len(rows) <= 1:
        return [row for row in rows if _insert(row) is not None]
    try:
        with transaction.atomic():
            return type(rows[0])._default_manager.bulk_create(rows)
    except IntegrityError:
        return [row for row in rows if _insert(row) is not None]


@dataclass(frozen=True)
class Event:
    """One event to tell people of: the arguments of ``notify`` (see there)."""

    recipients: Sequence[Any]
    kind: str
    render: Render
    url: str = ""
    item: Any = None
    dedupe: str | None = None
    urgency: str = Urgency.NORMAL


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    render: Render,
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

    The rows are the outbox: once committed, the deliveries go out by id, and if the broker or a
    channel is down, the sweep (every minute) delivers them later. ``notify_all`` tells many
    events at once.
    """
    return notify_all([Event(list(recipients), kind, render, url, item, dedupe, urgency)])


def notify_all(events: Sequence[Event]) -> list[Notification]:
    """``notify`` for many events at once, in a number of queries that does not grow with the
    events or their recipients (the warning sweep tells hundreds in one batch).

    1. Store one notification per new recipient of each event; a repeated event (its key is
       stored already, one query for all) stores nothing. One INSERT for all.
    2. Enqueue one e-mail per notification that is not for the digest, unless the person turned
       e-mail off or has no address; one IM message likewise. One INSERT for all.
    3. Enqueue one post per matching active robot and event (not per person), mentioning the
       recipients who allow mentions (a department's robot: those of the department). The
       robots of every event are read with one query.
    4. After commit, deliver the new deliveries by id.
    """
    for event in events:
        if event.urgency not in Urgency.values:
            raise ValueError(f"urgency must be one of {Urgency.values}, not {event.urgency!r}")
    # (event, its key, its recipients by id) for events with anyone to tell.
    told: list[tuple[Event, str, dict[int, Any]]] = []
    for event in events:
        people = {r.pk: r for r in event.recipients if r is not None}
        if people:
            told.append((event, event.dedupe or f"{event.kind}:{uuid.uuid4().hex}", people))
    if not told:
        return []
    user_ids = list({pk for _event, _key, people in told for pk in people})
    preferences = preferences_for(user_ids)
    reachable_in_im = im_reachable(user_ids)
    keys = [f"{key}:{pk}" for event, key, people in told if event.dedupe for pk in people]
    # Many at once: the keys stored already are left out before the INSERT, which would otherwise
    # fail and go one by one. One: its INSERT says it (one query less for the common case).
    stored = (
        set(Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
        if len(keys) > 1
        else set()
    )
    now = timezone.now()
    planned: list[Notification] = []
    for event, key, people in told:
        for recipient in people.values():
            dedupe_key = f"{key}:{recipient.pk}"
            if dedupe_key in stored:
                continue  # already told about this event
            stored.add(dedupe_key)
            own_urgency = event.urgency
            if own_urgency == Urgency.DIGEST and not preferences[recipient.pk].routine_digest:
                own_urgency = Urgency.NORMAL
            with translation.override(_language_of(recipient)):
                title, body = event.render()
                # The recipient's language at the time: for the admin and for older readers of
                # title/body; the pages, e-mails and IM messages render title_text/body_text.
                title_rendered, body_rendered = str(title)[:300], str(body)
            planned.append(
                Notification(
                    recipient=recipient,
                    kind=event.kind,
                    title=title_rendered,
                    body=body_rendered,
                    title_text=as_stored(title),
                    body_text=as_stored(body),
                    url=event.url,
                    item=event.item,
                    dedupe_key=dedupe_key,
                    urgency=own_urgency,
                )
            )
    created = _insert_all(planned)
    deliveries: list[Delivery] = []
    for notification in created:
        preference, recipient = preferences[notification.recipient_id], notification.recipient
        if notification.urgency == Urgency.DIGEST:
            continue
        channels = []
        if preference.email and recipient.email:
            channels.append(Delivery.Channel.EMAIL)
        if preference.im_messages and recipient.pk in reachable_in_im:
            channels.append(Delivery.Channel.IM)
        deliveries += [
            Delivery(
                channel=channel,
                notification=notification,
                event=notification.dedupe_key or "",
                urgency=notification.urgency,
                item=notification.item,
                next_attempt_at=now,
            )
            for channel in channels
        ]
    # New notifications: no delivery of theirs can exist yet.
    deliveries = Delivery.objects.bulk_create(deliveries) if deliveries else []
    new_keys = {n.dedupe_key for n in created}
    posts = [
        (event, key, [people[pk] for pk in people if f"{key}:{pk}" in new_keys])
        for event, key, people in told
        if event.urgency != Urgency.DIGEST
    ]
    deliveries += _enqueue_robots([post for post in posts if post[2]], preferences=preferences, now=now)
    ids = [d.pk for d in deliveries]
    if ids:
        from collab.notify.tasks import deliver

        # robust: a broker that is down must not fail the request that already committed; the
        # rows are pending and the sweep delivers them.
        for chunk in batched(ids, DELIVERIES_PER_TASK):
            enqueue_after_commit(deliver, list(chunk))
    return created


def _enqueue_robots(
    posts: list[tuple[Event, str, list[Any]]], *, preferences: dict[int, Preference], now: Any
) -> list[Delivery]:
    """The group posts of events told to someone: (event, its key, who was told)."""
    if not posts:
        return []
    departments = {_department_of(user) for _event, _key, told in posts for user in told} - {None}
    items = {event.item.pk for event, _key, _told in posts if event.item is not None}
    wanted = Q(item=None, department_id__in=departments) | Q(item_id__in=items)
    if any(event.urgency == Urgency.INSTANT for event, _key, _told in posts):
        wanted |= Q(item=None, department=None)
    robots = list(RobotChannel.objects.filter(wanted, active=True))
    if not robots:
        return []
    rows = []
    for event, key, told in posts:
        own_departments = {_department_of(user) for user in told} - {None}
        hearing = [
            robot
            for robot in robots
            if (robot.item_id is None and robot.department_id in own_departments)
            or (event.item is not None and robot.item_id == event.item.pk)
            or (event.urgency == Urgency.INSTANT and robot.item_id is None and robot.department_id is None)
        ]
        if not hearing:
            continue
        # Groups read the company's language (Simplified Chinese by default), once per event.
        with translation.override(settings.LANGUAGE_CODE):
            title, body = event.render()
            title, body = str(title), str(body)
        for robot in hearing:
            audience = [
                u for u in told if robot.department_id is None or _department_of(u) == robot.department_id
            ]
            rows.append(
                Delivery(
                    channel=Delivery.Channel.ROBOT,
                    robot=robot,
                    event=key,
                    urgency=event.urgency,
                    title=str(title)[:300],
                    body=str(body),
                    url=event.url,
                    item=event.item,
                    mention_user_ids=[u.pk for u in audience if preferences[u.pk].robot_mentions],
                    next_attempt_at=now,
                )
            )
    return _insert_all(rows)


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
