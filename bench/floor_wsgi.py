"""The floor for bench/run: a bare WSGI function that runs a page's SQL and nothing else.

bench/run records each page's statements (as the page ran them) into the JSON file BENCH_SQL;
a request for /<page> replays them on the same database connection settings and answers "ok".
The difference between a page and its floor is what Django, the templates and Python cost.

A statement the page PREPAREs on its server session (My work's) is recorded with its PREPARE in
front of the EXECUTE; the floor prepares it once per connection too, then only executes it.
"""

import json
import os
import re
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

STATEMENTS: dict[str, list[str]] = json.loads(Path(os.environ["BENCH_SQL"]).read_text())
PREPARE = re.compile(r"PREPARE (\w+) .*?; (?=EXECUTE \1 )", re.DOTALL)
# Per psycopg2 connection: the statements already PREPAREd on its session.
PREPARED: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def once_prepared(sql: str) -> str:
    """The statement without its PREPARE when this connection's session has it already."""
    found = PREPARE.search(sql)
    if found is None:
        return sql
    done = PREPARED.setdefault(connection.connection, set())
    if found.group(1) in done:
        return sql[: found.start()] + sql[found.end() :]
    done.add(found.group(1))
    return sql


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"].strip("/")
    if path == "accounts/login":  # the server's readiness probe
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"floor"]
    statements = STATEMENTS.get(path)
    if statements is None:  # a page this run did not record: no floor to measure
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such page"]
    with connection.cursor() as cursor:
        for sql in statements:
            if sql.startswith("DECLARE "):  # a server-side cursor (a form's choices): run its query
                sql = sql.split(" FOR ", 1)[1]
            cursor.execute(once_prepared(sql))
            if cursor.description:
                cursor.fetchall()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
