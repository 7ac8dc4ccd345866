"""The sweep's rows written without instances (``collab.bulk.insert_rows``) read back as written,
whatever the text holds: on PostgreSQL they go in as one JSON document, on SQLite as VALUES, and
both must store the same."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from collab.bulk import insert_rows
from collab.notify.models import Delivery, Notification, Urgency
from collab.notify.services import NOTIFICATION_FIELDS
from collab.testing import Org
from tasks_app.models import Alert, AlertKind, Task
from tasks_app.tests.support import executing_item

pytestmark = pytest.mark.django_db

AWKWARD = [
    "引号 \"双\" 与 '单'",
    "back\\slash %s %(name)s",
    "emoji 🚨 and\nnew line\ttab",
    "",
    '{"not": json}',
]


def test_notifications_and_deliveries_read_back_as_written(org: Org) -> None:
    item = executing_item(org)
    rows = [
        (
            org.owner.pk,
            "alert.overdue",
            text,
            text * 2,
            {"msgid": text, "params": {"task": text, "deadline": {"date": "2026-10-09"}, "n": 30}},
            None if number % 2 else [text, 1, None, True],
            f"/items/{item.pk}/?q={text}",
            item.pk if number % 2 else None,
            f"bulk:{number}",
            Urgency.DIGEST if number == 3 else Urgency.NORMAL,
        )
        for number, text in enumerate(AWKWARD)
    ]
    made = insert_rows(
        Notification, NOTIFICATION_FIELDS, rows, returning=("id", "dedupe_key"), ignore_conflicts=True
    )
    assert [key for _pk, key in made] == [row[8] for row in rows]
    stored = {
        row[8]: row
        for row in Notification.objects.order_by("pk").values_list(
            *(f.removesuffix("_id") for f in NOTIFICATION_FIELDS)
        )
    }
    assert [stored[row[8]] for row in rows] == rows
    # Told again with one new row: only the new one is stored and returned.
    again = insert_rows(
        Notification,
        NOTIFICATION_FIELDS,
        [*rows, (org.owner.pk, "alert.overdue", "新", "", None, None, "", None, "bulk:new", Urgency.NORMAL)],
        returning=("id", "dedupe_key"),
        ignore_conflicts=True,
    )
    assert [key for _pk, key in again] == ["bulk:new"]
    moment = timezone.now().replace(microsecond=123456)
    fields = ("channel", "notification_id", "event", "urgency", "item_id", "next_attempt_at")
    insert_rows(
        Delivery,
        fields,
        [(Delivery.Channel.EMAIL, pk, key, Urgency.NORMAL, None, moment) for pk, key in made],
    )
    written = Delivery.objects.filter(notification_id__in=[pk for pk, _key in made]).values_list(
        "next_attempt_at", "status", "attempts", "mention_user_ids", "sent_at"
    )
    assert list(written) == [(moment, Delivery.Status.PENDING, 0, [], None)] * len(made)


def test_warnings_read_back_with_their_days_and_moments(org: Org) -> None:
    executing_item(org)
    task = Task.objects.first()
    assert task is not None
    moment = datetime(2026, 10, 12, 1, 0, 0, 654321, tzinfo=timezone.UTC) + timedelta(hours=2)
    rows = [
        (task.pk, AlertKind.OVERDUE, step, date(2026, 10, 9), moment + timedelta(minutes=step))
        for step in range(3)
    ]
    before = set(Alert.objects.values_list("pk", flat=True))
    insert_rows(Alert, ("task_id", "kind", "step", "deadline", "due_at"), rows)
    new = Alert.objects.exclude(pk__in=before).order_by("step")
    assert list(
        new.values_list("task_id", "kind", "step", "deadline", "due_at", "sent_at", "cancelled_at")
    ) == [(*row, None, None) for row in rows]


def test_a_second_delivery_of_the_same_notification_or_post_is_not_stored(org: Org) -> None:
    """A person's notification is delivered once per channel and a group's event posted once per
    robot, whatever tells it twice (a sweep retried, two sweeps at once): the second rows are
    dropped by the database (``ON CONFLICT DO NOTHING``), the others all stored."""
    from collab.notify.models import RobotChannel

    robot = RobotChannel.objects.create(
        kind=RobotChannel.Kind.DINGTALK, name="测试群", webhook_url="https://oapi.dingtalk.com/robot/send?t=x"
    )
    [(first, _key), (second, _key2)] = insert_rows(
        Notification,
        NOTIFICATION_FIELDS,
        [
            (org.owner.pk, "alert.overdue", "一", "", None, None, "", None, "twice:1", Urgency.NORMAL),
            (org.owner.pk, "alert.overdue", "二", "", None, None, "", None, "twice:2", Urgency.NORMAL),
        ],
        returning=("id", "dedupe_key"),
    )
    now = timezone.now()
    fields = ("channel", "notification_id", "robot_id", "event", "urgency", "next_attempt_at")
    email, im, robot_post = Delivery.Channel.EMAIL, Delivery.Channel.IM, Delivery.Channel.ROBOT
    rows = [
        (email, first, None, "twice:1", Urgency.NORMAL, now),
        (im, first, None, "twice:1", Urgency.NORMAL, now),
        (email, second, None, "twice:2", Urgency.NORMAL, now),
        (robot_post, None, robot.pk, "alert.overdue:1", Urgency.NORMAL, now),
        (robot_post, None, robot.pk, "alert.overdue:2", Urgency.NORMAL, now),
    ]
    assert len(insert_rows(Delivery, fields, rows, returning=("id",), ignore_conflicts=True)) == 5
    again = [*rows, (im, second, None, "twice:2", Urgency.NORMAL, now)]
    assert len(insert_rows(Delivery, fields, again, returning=("id",), ignore_conflicts=True)) == 1
    stored = Delivery.objects.values_list("channel", "notification_id", "robot_id", "event")
    assert sorted(stored, key=str) == sorted([row[:4] for row in again], key=str)
