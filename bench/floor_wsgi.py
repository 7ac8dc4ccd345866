"""The floor for bench/run: a bare WSGI function that runs a page's SQL and nothing else.

bench/run records each page's statements (as the page ran them) into the JSON file BENCH_SQL;
a request for /<page> replays them on the same database connection settings and answers "ok".
The difference between a page and its floor is what Django, the templates and Python cost.
"""

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

STATEMENTS: dict[str, list[str]] = json.loads(Path(os.environ["BENCH_SQL"]).read_text())


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    statements = STATEMENTS.get(environ["PATH_INFO"].strip("/"))
    if statements is None:
        start_response("200 OK", [("Content-Type", "text/plain")])  # the server's readiness probe
        return [b"floor"]
    with connection.cursor() as cursor:
        for sql in statements:
            if sql.startswith("DECLARE "):  # a server-side cursor (a form's choices): run its query
                sql = sql.split(" FOR ", 1)[1]
            cursor.execute(sql)
            if cursor.description:
                cursor.fetchall()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
