"""Long exports read their next chunk in a second thread: every row arrives once and in order,
the thread's connection is closed however the export ends, and inside a transaction the chunks
are read on the caller's own connection (which alone sees the transaction's rows)."""

import threading
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from collab.lib.read_ahead import read_ahead

User = get_user_model()


def _reader(seen: list[tuple[str, Any]]) -> Any:
    def read(part: list[int]) -> list[str]:
        seen.append((threading.current_thread().name, connections["default"]))
        return list(User.objects.filter(pk__in=part).order_by("pk").values_list("username", flat=True))

    return read


def _people(count: int) -> list[int]:
    return [User.objects.create(username=f"reader-{n:02}").pk for n in range(count)]


@pytest.mark.django_db(transaction=True)
def test_every_row_arrives_once_in_order_and_the_reading_thread_lets_go_of_its_connection() -> None:
    ids = _people(7)
    seen: list[tuple[str, Any]] = []
    parts = [ids[0:3], ids[3:6], ids[6:7]]
    rows = list(read_ahead(parts, _reader(seen)))
    assert rows == [f"reader-{n:02}" for n in range(7)]
    assert all(name.startswith("collab-read-ahead") for name, _connection in seen)
    assert all(connection.connection is None for _name, connection in seen)


@pytest.mark.django_db(transaction=True)
def test_an_export_abandoned_halfway_closes_the_reading_connection() -> None:
    ids = _people(6)
    seen: list[tuple[str, Any]] = []
    rows = read_ahead([ids[0:2], ids[2:4], ids[4:6]], _reader(seen))
    assert next(rows) == "reader-00"
    rows.close()  # the person's download stopped
    assert seen and all(connection.connection is None for _name, connection in seen)


@pytest.mark.django_db
def test_inside_a_transaction_the_chunks_are_read_on_the_callers_connection() -> None:
    ids = _people(4)  # not committed: only this connection sees them
    seen: list[tuple[str, Any]] = []
    rows = list(read_ahead([ids[0:2], ids[2:4]], _reader(seen)))
    assert rows == ["reader-00", "reader-01", "reader-02", "reader-03"]
    assert {name for name, _connection in seen} == {threading.current_thread().name}
