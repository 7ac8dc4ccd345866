"""Writes of the notification centre: telling people, reading, the digest, preferences.

Delivery itself (e-mail and robots, claims, retries) lives in ``collab.notify.delivery``.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation

from collab.audit.texts import Joined, Renderings, Text, as_stored
from collab.bulk import insert_rows
from collab.notify.models import Delivery, Notification, Preference, RobotChannel, Urgency
from collab.notify.selectors import im_reachable, preferences_for
from collab.queueing import enqueue_after_commit

Render = Callable[[], tuple[str | Text, str | Text | Joined]]

# Deliveries handed to one ``deliver`` task: a big batch of events is spread over the workers.
DELIVERIES_PER_TASK = 100
NOTIFICATION_FIELDS = (
    "recipient_id",
    "kind",
    "title",
    "body",
    "title_text",
    "body_text",
    "url",
    "item_id",
    "dedupe_key",
    "urgency",
)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person as telling them needs them: a sweep that tells thousands reads these as values
    instead of loading users with their person. ``recipient_of`` makes one of a user."""

    pk: int
    email: str
    language: str
    department_id: int | None


def recipient_of(user: Any) -> Recipient:
    if isinstance(user, Recipient):
        return user
    person = getattr(user, "person", None)
    if person is None:
        return Recipient(user.pk, user.email, settings.LANGUAGE_CODE, None)
    return Recipient(user.pk, user.email, person.language, person.department_id)


def urgency_for_item(item: Any) -> str:
    """The urgency the item's scenario calls for (``scenario_urgency``, kept by the item's own
    app: emergencies instant, routine syncs in the digest); no item: normal."""
    return str(getattr(item, "scenario_urgency", None) or Urgency.NORMAL)


def _item_id(item: Any) -> int | None:
    return item if item is None or isinstance(item, int) else item.pk


@dataclass(frozen=True)
class Event:
    """One event to tell people of: the arguments of ``notify`` (see there). Recipients may be
    users or ``Recipient``s, the item an item or its id."""

    recipients: Sequence[Any]
    kind: str
    render: Render
    url: str = ""
    item: Any = None
    dedupe: str | None = None
    urgency: str = Urgency.NORMAL


def _rendered(text: str | Text | Joined, renderings: Renderings) -> str:
    """``str()`` of a title or body in the active language, sharing ``renderings``."""
    return text.render(renderings) if isinstance(text, Text) else str(text)


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
    events or their recipients. Returns the notifications stored (not those told before)."""
    now = timezone.now()
    return [
        Notification(id=pk, created_at=now, **dict(zip(NOTIFICATION_FIELDS, row, strict=True)))
        for pk, row in _tell(events, now)
    ]


def notify_many(events: Sequence[Event]) -> int:
    """``notify_all`` without a model instance per notification, for a sweep that tells
    thousands (the warning sweep): how many notifications were stored."""
    return len(_tell(events, timezone.now()))


def _tell(events: Sequence[Event], now: Any) -> list[tuple[int, tuple[Any, ...]]]:
    """Tells the events; returns the new notifications as (id, values of NOTIFICATION_FIELDS).

    1. Store one notification per new recipient of each event, its texts rendered in the
       recipient's language (the language made active once for all its recipients). A repeated
       event (its key is stored already) stores nothing: the INSERT leaves it out. One INSERT
       for all.
    2. Enqueue one e-mail per notification that is not for the digest, unless the person turned
       e-mail off or has no address; one IM message likewise. One INSERT for all.
    3. Enqueue one post per matching active robot and event (not per person), mentioning the
       recipients who allow mentions (a department's robot: those of the department). The
       robots of every event are read with one query.
    4. After commit, deliver the new deliveries by id.
    """
    urgencies = set(Urgency.values)
    for event in events:
        if event.urgency not in urgencies:
            raise ValueError(f"urgency must be one of {Urgency.values}, not {event.urgency!r}")
    # (event, its key, its recipients by id) for events with anyone to tell.
    told: list[tuple[Event, str, dict[int, Recipient]]] = []
    for event in events:
        people = {r.pk: recipient_of(r) for r in event.recipients if r is not None}
        if people:
            told.append((event, event.dedupe or f"{event.kind}:{uuid.uuid4().hex}", people))
    if not told:
        return []
    recipients = {pk: recipient for _event, _key, people in told for pk, recipient in people.items()}
    user_ids = list(recipients)
    preferences = preferences_for(user_ids)
    reachable_in_im = im_reachable(user_ids)
    # Each (event, recipient) once, in order; rendered below grouped by language.
    planned: list[tuple[Event, Recipient, str, str]] = []
    seen: set[str] = set()
    for event, key, people in told:
        for recipient in people.values():
            dedupe_key = f"{key}:{recipient.pk}"
            if dedupe_key in seen:
                continue  # the same event twice in one call
            seen.add(dedupe_key)
            urgency = event.urgency
            if urgency == Urgency.DIGEST and not preferences[recipient.pk].routine_digest:
                urgency = Urgency.NORMAL
            planned.append((event, recipient, dedupe_key, urgency))
    by_language: dict[str, list[int]] = {}
    for index, (_event, recipient, _key, _urgency) in enumerate(planned):
        by_language.setdefault(recipient.language, []).append(index)
    rows: list[tuple[Any, ...]] = [()] * len(planned)
    for language, indexes in by_language.items():
        with translation.override(language):
            renderings = Renderings()
            for index in indexes:
                event, recipient, dedupe_key, urgency = planned[index]
                title, body = event.render()
                # The recipient's language at the time: for the admin and for older readers of
                # title/body; the pages, e-mails and IM messages render title_text/body_text.
                rows[index] = (
                    recipient.pk,
                    event.kind,
                    _rendered(title, renderings)[:300],
                    _rendered(body, renderings),
                    as_stored(title),
                    as_stored(body),
                    event.url,
                    _item_id(event.item),
                    dedupe_key,
                    urgency,
                )
    by_key = {row[8]: row for row in rows}
    created = [
        (pk, by_key[key])
        for pk, key in insert_rows(
            Notification, NOTIFICATION_FIELDS, rows, returning=("id", "dedupe_key"), ignore_conflicts=True
        )
    ]
    deliveries: list[tuple[Any, ...]] = []
    for pk, (recipient_id, _kind, _t, _b, _tt, _bt, _url, item_id, dedupe_key, urgency) in created:
        if urgency == Urgency.DIGEST:
            continue
        preference = preferences[recipient_id]
        if preference.email and recipients[recipient_id].email:
            deliveries.append((Delivery.Channel.EMAIL, pk, dedupe_key, urgency, item_id, now))
        if preference.im_messages and recipient_id in reachable_in_im:
            deliveries.append((Delivery.Channel.IM, pk, dedupe_key, urgency, item_id, now))
    ids = [
        pk
        for (pk,) in insert_rows(
            Delivery,
            ("channel", "notification_id", "event", "urgency", "item_id", "next_attempt_at"),
            deliveries,
            returning=("id",),
        )
    ]
    new_keys = {row[8] for _pk, row in created}
    posts = [
        (event, key, [people[pk] for pk in people if f"{key}:{pk}" in new_keys])
        for event, key, people in told
        if event.urgency != Urgency.DIGEST
    ]
    ids += _enqueue_robots([post for post in posts if post[2]], preferences=preferences, now=now)
    if ids:
        from collab.notify.tasks import deliver

        # robust: a broker that is down must not fail the request that already committed; the
        # rows are pending and the sweep delivers them.
        for chunk in batched(ids, DELIVERIES_PER_TASK):
            enqueue_after_commit(deliver, list(chunk))
    return created


def _enqueue_robots(
    posts: list[tuple[Event, str, list[Recipient]]], *, preferences: dict[int, Preference], now: Any
) -> list[int]:
    """The group posts of events told to someone: (event, its key, who was told). Returns the
    new deliveries' ids."""
    if not posts:
        return []
    departments = {user.department_id for _event, _key, told in posts for user in told} - {None}
    items = {_item_id(event.item) for event, _key, _told in posts} - {None}
    wanted = Q(item=None, department_id__in=departments) | Q(item_id__in=items)
    if any(event.urgency == Urgency.INSTANT for event, _key, _told in posts):
        wanted |= Q(item=None, department=None)
    robots = list(
        RobotChannel.objects.filter(wanted, active=True).values_list("pk", "item_id", "department_id")
    )
    if not robots:
        return []
    rows = []
    # Groups read the company's language (Simplified Chinese by default), once per event.
    with translation.override(settings.LANGUAGE_CODE):
        renderings = Renderings()
        for event, key, told in posts:
            own_departments = {user.department_id for user in told} - {None}
            item_id = _item_id(event.item)
            hearing = [
                (robot_id, robot_department)
                for robot_id, robot_item, robot_department in robots
                if (robot_item is None and robot_department in own_departments)
                or (item_id is not None and robot_item == item_id)
                or (event.urgency == Urgency.INSTANT and robot_item is None and robot_department is None)
            ]
            if not hearing:
                continue
            title, body = event.render()
            title, body = _rendered(title, renderings)[:300], _rendered(body, renderings)
            for robot_id, robot_department in hearing:
                audience = [
                    u for u in told if robot_department is None or u.department_id == robot_department
                ]
                mentioned = [u.pk for u in audience if preferences[u.pk].robot_mentions]
                rows.append(
                    (
                        Delivery.Channel.ROBOT,
                        robot_id,
                        key,
                        event.urgency,
                        title,
                        body,
                        event.url,
                        item_id,
                        mentioned,
                        now,
                    )
                )
    fields = (
        "channel",
        "robot_id",
        "event",
        "urgency",
        "title",
        "body",
        "url",
        "item_id",
        "mention_user_ids",
        "next_attempt_at",
    )
    return [pk for (pk,) in insert_rows(Delivery, fields, rows, returning=("id",), ignore_conflicts=True)]


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
