"""SQLite statements run on the event loop itself; only a wait for the write lock goes to a thread.

aiosqlite hands every call to the connection's own thread and back: two thread switches per
statement, and the answer waits for the event loop to take the GIL back. A statement on a local
SQLite file takes microseconds, so that round trip was most of the database's share of a booking.

The one call that can take long is one that waits for another connection's lock, which must never
block the event loop. The connection's busy timeout is therefore 0: a call first runs in place, and
only when SQLite answers SQLITE_BUSY (the call did nothing) is it run again in the connection's thread,
with the configured busy timeout, as aiosqlite would have. Writers take the lock at BEGIN IMMEDIATE
(booking.db), so that is where such a wait happens; in WAL mode readers do not wait for writers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

# Waiting cannot help a snapshot that another writer made stale (SQLITE_BUSY_SNAPSHOT, 517): only the
# plain and recovery codes are worth a wait.
WAITABLE_CODES = frozenset({sqlite3.SQLITE_BUSY, 261})


def is_lock_wait(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in WAITABLE_CODES


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in place unless they would wait for a lock."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._busy_timeout_ms = int(busy_timeout * 1000)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if not is_lock_wait(error):
                raise
        return await super()._execute(self._waiting, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(the sqlite3 connection, *args)`, under the same rule: in place unless it must wait."""
        result: T = await self._execute(fn, self._conn, *args)
        return result

    def _waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn` with the busy timeout, in the connection's thread."""
        connection = self._conn
        connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            connection.execute("PRAGMA busy_timeout = 0")


def inline_connector(busy_timeout: float) -> Callable[..., InlineConnection]:
    """The `async_creator_fn` SQLAlchemy's aiosqlite dialect calls for each new connection."""

    def connect(database: str, **kwargs: Any) -> InlineConnection:
        kwargs |= {"timeout": 0, "check_same_thread": False}

        def connector() -> sqlite3.Connection:
            connection: sqlite3.Connection = sqlite3.connect(database, **kwargs)
            return connection

        connection = InlineConnection(connector, busy_timeout)
        connection._thread.daemon = True
        return connection

    return connect
