"""Writes of the notification centre: telling people, reading, the digest, preferences.

Delivery itself (e-mail and robots, claims, retries) lives in ``collab.notify.delivery``.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import batched
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation

from collab.audit.texts import Joined, Renderings, Text, as_stored
from collab.bulk import insert_rows
from collab.notify.models import Delivery, Notification, Preference, RobotChannel, Urgency
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


def _told(events: Sequence[Event]) -> list[tuple[Event, str, dict[int, Recipient]]]:
    """The events with anyone to tell, as (event, its key, its recipients by id); an unknown
    urgency is refused before anything is stored."""
    urgencies = set(Urgency.values)
    for event in events:
        if event.urgency not in urgencies:
            raise ValueError(f"urgency must be one of {Urgency.values}, not {event.urgency!r}")
    told: list[tuple[Event, str, dict[int, Recipient]]] = []
    for event in events:
        people = {r.pk: recipient_of(r) for r in event.recipients if r is not None}
        if people:
            told.append((event, event.dedupe or f"{event.kind}:{uuid.uuid4().hex}", people))
    return told


def _notification_rows(
    told: list[tuple[Event, str, dict[int, Recipient]]], preferences: dict[int, Any]
) -> list[tuple[Any, ...]]:
    """The values of NOTIFICATION_FIELDS for each (event, recipient) once, in order: the texts
    rendered in the recipient's language (each language made active once, for all its
    recipients; the recipient's language at the time is kept for the admin and for older readers
    of title/body: the pages, e-mails and IM messages render title_text/body_text), a routine
    event for someone who turned the digest off made normal."""
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
    return rows


def notify_all(events: Sequence[Event]) -> list[Notification]:
    """``notify`` for many events at once: the few of one request (a new task's owner,
    collaborators and receiver; a hand-off), in a number of queries that does not grow with the
    events or their recipients. Returns the notifications stored (not those told before).

    The rules are ``_tell``'s (see there); the way suits a request, where building statements
    cost more than running them: one read of everyone who listens (``_listeners``: preferences,
    who is reachable by IM, the robots), one INSERT of the notifications, one of their e-mail and
    IM deliveries, and one of the robots' posts when a robot listens. A sweep that tells
    thousands goes through ``notify_many``.
    """
    now = timezone.now()
    return [
        Notification(id=pk, created_at=now, **dict(zip(NOTIFICATION_FIELDS, row, strict=True)))
        for pk, row in _tell(events, now)
    ]


@dataclass(frozen=True, slots=True)
class Listening:
    """Who listens to a request's events (``_listeners``): each recipient's preference (what
    ``preferences_for`` gives), who is reachable by IM (``im_reachable``), and the active robots
    that may hear them as (id, item id, department id)."""

    preferences: dict[int, Any]
    reachable_in_im: set[int]
    robots: list[tuple[int, int | None, int | None]]


class _Preference(NamedTuple):
    email: bool
    im_messages: bool
    robot_mentions: bool
    routine_digest: bool


# The one read of ``_listeners``; the models' own tables, the values as parameters. The NULLs
# are typed: PostgreSQL types an untyped NULL of the first branches as text.
_LISTENERS = """
    SELECT 0, user_id, email, im_messages, robot_mentions, routine_digest,
           CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
      FROM {preference} WHERE user_id IN ({people})
    UNION ALL
    SELECT 1, p.user_id, CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN),
           CAST(NULL AS BOOLEAN), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
      FROM {person} p JOIN {source} s ON s.id = p.source_id
     WHERE p.user_id IN ({people}) AND s.kind IN ({kinds}) AND p.source_user_id <> ''
"""
_ROBOTS = """
    UNION ALL
    SELECT 2, id, CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN), CAST(NULL AS BOOLEAN),
           CAST(NULL AS BOOLEAN), item_id, department_id
      FROM {robot} WHERE active AND ({wanted})
"""


def _listeners(
    user_ids: list[int], *, departments: set[int], items: set[int], company_wide: bool
) -> Listening:
    """Everyone who listens to events told to ``user_ids``, in one statement: their saved
    preferences (the model's defaults for people who never chose), whether a directory sync links
    them to a personal IM (as ``im_reachable``), and the active robots of their ``departments``,
    of the ``items``, and the company-wide ones when an event is ``company_wide`` (instant)."""
    from collab.notify.personal import PERSONAL_IM_KINDS
    from collab.org.models import DirectorySource, Person

    def marks(count: int) -> str:
        return ", ".join(["%s"] * count)

    sql = _LISTENERS.format(
        preference=Preference._meta.db_table,
        person=Person._meta.db_table,
        source=DirectorySource._meta.db_table,
        people=marks(len(user_ids)),
        kinds=marks(len(PERSONAL_IM_KINDS)),
    )
    params: list[Any] = [*user_ids, *user_ids, *(str(kind) for kind in PERSONAL_IM_KINDS)]
    wanted = []
    if departments:
        wanted.append(f"(item_id IS NULL AND department_id IN ({marks(len(departments))}))")
        params += sorted(departments)
    if items:
        wanted.append(f"item_id IN ({marks(len(items))})")
        params += sorted(items)
    if company_wide:
        wanted.append("(item_id IS NULL AND department_id IS NULL)")
    if wanted:
        sql += _ROBOTS.format(robot=RobotChannel._meta.db_table, wanted=" OR ".join(wanted))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    defaults = Preference()
    default = _Preference(
        defaults.email, defaults.im_messages, defaults.robot_mentions, defaults.routine_digest
    )
    preferences: dict[int, Any] = dict.fromkeys(user_ids, default)
    reachable: set[int] = set()
    robots: list[tuple[int, int | None, int | None]] = []
    for kind, pk, email, im_messages, mentions, digest, item_id, department_id in found:
        if kind == 0:
            preferences[pk] = _Preference(bool(email), bool(im_messages), bool(mentions), bool(digest))
        elif kind == 1:
            reachable.add(pk)
        else:
            robots.append((pk, item_id, department_id))
    return Listening(preferences, reachable, robots)


def _post_to_robots(
    posts: list[tuple[Event, str, list[Recipient]]],
    robots: Sequence[tuple[int, int | None, int | None]],
    preferences: dict[int, Any],
    *,
    now: Any,
) -> list[int]:
    """One post per event and each of the ``robots`` (id, item id, department id) that hears
    it, mentioning who allows it (``preferences``). Returns the new deliveries' ids."""
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


def notify_many(events: Sequence[Event]) -> int:
    """``notify_all`` without a model instance per notification, for a sweep that tells
    thousands (the warning sweep): how many notifications were stored. Both tell through
    ``_tell``."""
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
       robots of every event are read with the preferences and IM links, in one query
       (``_listeners``).
    4. After commit, deliver the new deliveries by id.
    """
    told = _told(events)
    if not told:
        return []
    recipients = {pk: recipient for _event, _key, people in told for pk, recipient in people.items()}
    posting = [(event, key, people) for event, key, people in told if event.urgency != Urgency.DIGEST]
    # One read of everyone who listens, as ``notify_all`` (not one per kind of listener).
    listening = _listeners(
        list(recipients),
        departments={r.department_id for r in recipients.values() if r.department_id is not None},
        items={pk for event, _key, _people in posting if (pk := _item_id(event.item)) is not None},
        company_wide=any(event.urgency == Urgency.INSTANT for event, _key, _people in posting),
    )
    preferences = listening.preferences
    rows = _notification_rows(told, preferences)
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
        if preference.im_messages and recipient_id in listening.reachable_in_im:
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
    if listening.robots:
        new_keys = {row[8] for _pk, row in created}
        posts = [
            (event, key, [people[pk] for pk in people if f"{key}:{pk}" in new_keys])
            for event, key, people in posting
        ]
        ids += _post_to_robots([post for post in posts if post[2]], listening.robots, preferences, now=now)
    if ids:
        from collab.notify.tasks import deliver

        # robust: a broker that is down must not fail the request that already committed; the
        # rows are pending and the sweep delivers them.
        for chunk in batched(ids, DELIVERIES_PER_TASK):
            enqueue_after_commit(deliver, list(chunk))
    return created


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
