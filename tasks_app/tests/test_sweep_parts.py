"""A wave of due warnings shared by sweeps that run at once, each over its part of the items
(``sweep_alerts(part=…)``, started together by the beat task on PostgreSQL): every warning goes
out once, each rung of a ladder is planned once, and the items' facts stay true."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from collab.dashboards.tests.test_health_facts import facts
from collab.notify.models import Notification
from collab.testing import Org, make_org
from requests_app.health_facts import item_health_refresh
from requests_app.models import CollaborationItem
from tasks_app import alerts
from tasks_app.models import Alert
from tasks_app.tests.test_alerts import at, due_warnings
from tasks_app.tests.test_sweep_facts import executing_items

pytestmark = pytest.mark.django_db

NOW = "2026-10-12 09:30"


def wave(org: Org, items: int) -> dict[int, list[Alert]]:
    """Seven due warnings (every rung) and one no longer true on each of ``items`` items."""
    made = executing_items(org, items)
    warnings = {
        item.pk: due_warnings(org, item, 7, label=f"分片{number}") for number, item in enumerate(made)
    }
    item_health_refresh(list(warnings))
    return warnings


def alert_keys() -> Counter[str]:
    """How many people each warning reached, by its alert."""
    keys = Notification.objects.filter(kind__startswith="alert.").values_list("dedupe_key", flat=True)
    return Counter(str(key).rsplit(":", 1)[0] for key in keys)


def assert_sent_once(warnings: dict[int, list[Alert]]) -> None:
    """Every true warning reached one person once, none is left due, and every rung that follows
    (the next step, tomorrow's reminder) is planned once."""
    true = [alert for alerts_of_item in warnings.values() for alert in alerts_of_item[1:]]
    assert alert_keys() == {f"alert:{alert.pk}": 1 for alert in true}
    assert not Alert.objects.filter(due_at__lte=at(NOW), sent_at=None, cancelled_at=None).exists()
    planned = Counter(
        Alert.objects.filter(sent_at=None, cancelled_at=None).values_list(
            "task_id", "kind", "step", "deadline"
        )
    )
    assert planned and set(planned.values()) == {1}
    for item in CollaborationItem.objects.filter(pk__in=list(warnings)):
        facts(item)  # stored == recomputed


def test_a_part_sends_the_warnings_of_its_items_only(org: Org) -> None:
    """Either database: the part's items' warnings, and nothing of the others' until their part."""
    warnings = wave(org, 3)
    odd = {pk for pk in warnings if pk % 2 == 1}
    even = set(warnings) - odd
    assert odd and even
    assert alerts.sweep_alerts(now=at(NOW), part=(1, 2), batch_size=4) == 7 * len(odd)
    sent = set(Alert.objects.exclude(sent_at=None).values_list("task__item_id", flat=True))
    assert sent == odd
    assert alerts.sweep_alerts(now=at(NOW), part=(0, 2), batch_size=4) == 7 * len(even)
    assert_sent_once(warnings)


def test_sqlite_sweeps_in_one_part() -> None:
    assert alerts.sweep_parts() == (2 if connection.vendor == "postgresql" else 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="sweeps at once need row locks")
@pytest.mark.django_db(transaction=True)
def test_two_parts_at_once_send_each_warning_once() -> None:
    """Two sweeps at the same moment on two connections, in small batches so that both are at
    work the whole time, each over its part."""
    org = make_org()
    warnings = wave(org, 4)
    barrier = threading.Barrier(2)
    counts: dict[int, int] = {}
    errors: list[BaseException] = []

    def run(part: int) -> None:
        try:
            barrier.wait()
            counts[part] = alerts.sweep_alerts(now=at(NOW), batch_size=3, part=(part, 2))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(part,)) for part in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Each sent its own items' warnings: seven true ones per item.
    assert counts == {part: 7 * sum(1 for pk in warnings if pk % 2 == part) for part in range(2)}
    assert_sent_once(warnings)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite sweeps in one part")
def test_a_part_the_broker_did_not_take_is_sent_by_the_beats_sweep_itself(
    org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    """The broker is down when the beat's sweep hands out the other part: it sends that part too,
    after its own, and says so in the log."""
    import logging

    import time_machine

    from reviews_app.tests.test_archive_broker_down import broker_down
    from tasks_app.tasks import sweep_alerts_task

    warnings = wave(org, 3)
    with (
        time_machine.travel(at(NOW), tick=False),
        broker_down(),
        caplog.at_level(logging.WARNING, logger="collab.queueing"),
    ):
        assert sweep_alerts_task() == 7 * len(warnings)
    assert_sent_once(warnings)
    assert "tasks_app.sweep_alerts_part" in caplog.text
    assert "this sweep sends that part after its own" in caplog.text
