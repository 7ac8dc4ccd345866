"""Reading the next chunk of a long export while the current one is written.

An export alternates two kinds of work: waiting for the database to answer a chunk's queries,
and formatting the chunk's rows in Python. Done in turn, the wait adds to the time; with the
next chunk read in a second thread, the wait overlaps the formatting (a database driver lets
other threads run while it waits for the server, and SQLite's module while SQLite works), so a
long export takes about as long as its formatting alone.

The reading thread uses its own database connection, closed when the export ends (or is
abandoned by a reader who went away). Inside a transaction (``atomic``) the chunks are read one
by one on the caller's connection instead: another connection would not see the transaction's
own rows.
"""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connections


def read_ahead[Part, Row](
    parts: Iterable[Part], read: Callable[[Part], list[Row]], *, using: str = DEFAULT_DB_ALIAS
) -> Iterator[Row]:
    """The rows of ``read(part)`` for each part in turn, each part read while the rows of the
    one before are being used."""
    if connections[using].in_atomic_block:
        for part in parts:
            yield from read(part)
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-read-ahead")
    try:
        pending: Future[list[Row]] | None = None
        for part in parts:
            following = pool.submit(read, part)
            if pending is not None:
                yield from pending.result()
            pending = following
        if pending is not None:
            yield from pending.result()
    finally:
        # The one thread's connection is closed by that thread (connections are per thread),
        # after any read still running: nothing is left open when the export ends early.
        pool.submit(connections.close_all).result()
        pool.shutdown()
