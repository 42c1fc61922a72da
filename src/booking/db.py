"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from uuid import uuid4

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_, greenlet_spawn

from booking.sqlite_driver import InlineConnection, inline_connector

Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")

# PostgreSQL aborts one of two transactions that wait on each other (deadlock detected) or that
# cannot be serialised; running the loser again is the documented remedy.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
TRANSACTION_ATTEMPTS = 3
# The loser waits a random moment before it runs again (at most this, times the attempt). Run at once, it
# inserts again while the survivor is still checking the exclusion constraint against the losers' rows,
# and a pile of overlapping bookings can deadlock round after round until every loser has used its
# attempts (seen once under the whole suite's load: nineteen `409 conflict` instead of
# `slot_unavailable`). The pause lets the survivor commit; the rerun then sees its row.
RETRY_PAUSE_SECONDS = 0.05

# Transaction-mode poolers (Supavisor, PgBouncer) listen here and cannot keep prepared statements.
SUPABASE_POOLER_PORT = 6543

# Where a session finds its Transaction (booking.driver runs hot statements on its driver connection).
TRANSACTION_KEY = "booking.transaction"

# asyncpg waits 60 s for a server that accepts nothing; a request should be a 503 well before that.
CONNECT_TIMEOUT_SECONDS = 10.0

# SQLSTATEs after which the session is gone: the server ended it (57P01 admin shutdown, 57P02 crash,
# 57P04 database dropped, 57P05 idle timeout), or the connection failed (class 08).
SESSION_ENDED_SQLSTATES = frozenset({"57P01", "57P02", "57P04", "57P05"})
# ... and those of a server that is there but takes no connection now: starting up or shutting down
# (57P03), or out of connection slots (53300).
# The server out of resources (class 53: disk full, out of memory), a statement cancelled or timed out
# under load (57014), credentials the server no longer takes (class 28): the database is away for this
# request, not a bug of it.
REFUSED_SQLSTATES = frozenset(
    {"57P03", "53000", "53100", "53200", "53300", "53400", "57014", "28000", "28P01"}
)
# SQLite: the file is locked past the busy timeout, cannot be opened, read or written, is full, or is
# read-only.
SQLITE_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
    }
)

# Errors of the database layer that can reach the HTTP layer without SQLAlchemy's DBAPIError around
# them: the driver's own (hot statements run on asyncpg directly), the asyncpg adapter's, the pool's
# checkout timeout. OSError (a refused or reset socket) is the other one; SQLAlchemy never wraps it.
UNWRAPPED_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    AsyncAdapt_asyncpg_dbapi.Error,
    sa_exc.TimeoutError,
)


@dataclass(frozen=True)
class DatabaseTarget:
    url: URL
    dialect: Dialect
    prepared_statements: bool = True

    @property
    def sqlite_file(self) -> str | None:
        if self.dialect != "sqlite" or self.url.database in (None, "", ":memory:"):
            return None
        return self.url.database


class UnsupportedDatabase(ValueError):
    pass


def parse_database_url(raw: str) -> DatabaseTarget:
    """Accept `sqlite:///…`, `postgresql://…` and `postgres://…` and pick the async driver."""
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    url = make_url(raw)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return DatabaseTarget(url=url.set(drivername="sqlite+aiosqlite"), dialect="sqlite")
    if backend == "postgresql":
        return _postgres_target(url.set(drivername="postgresql+asyncpg"))
    raise UnsupportedDatabase(f"DATABASE_URL must be sqlite:// or postgresql://, not {backend}://")


def _postgres_target(url: URL) -> DatabaseTarget:
    query = dict(url.query)
    flag = str(query.pop("prepared_statements", "true")).lower()
    prepared = flag not in ("false", "0", "off", "no") and url.port != SUPABASE_POOLER_PORT
    # libpq spells it sslmode, asyncpg spells it ssl; Supabase hands out the libpq form.
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return DatabaseTarget(url=url.set(query=query), dialect="postgresql", prepared_statements=prepared)


def create_engine(target: DatabaseTarget, pool_size: int = 10, busy_timeout: float = 15.0) -> AsyncEngine:
    if target.dialect == "sqlite":
        return _sqlite_engine(target, busy_timeout)
    return _postgres_engine(target, pool_size)


def _postgres_engine(target: DatabaseTarget, pool_size: int) -> AsyncEngine:
    kwargs: dict[str, Any] = {"pool_size": pool_size, "max_overflow": pool_size, "pool_recycle": 1800}
    connect_args: dict[str, Any] = {
        "server_settings": {"application_name": "booking"},
        "timeout": CONNECT_TIMEOUT_SECONDS,
    }
    url = target.url
    if not target.prepared_statements:
        # A transaction-mode pooler hands each transaction another server connection.
        url = url.update_query_dict({"prepared_statement_cache_size": "0"})
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = lambda: f"__booking_{uuid4().hex}__"
        kwargs = {"poolclass": NullPool}
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    event.listen(engine.sync_engine, "handle_error", _flag_lost_connection)
    return engine


def _flag_lost_connection(context: ExceptionContext) -> None:
    """A connection the server ended is a disconnect, so SQLAlchemy invalidates it (and the pool's older
    connections) instead of handing it out again. The asyncpg dialect only knows one whose socket is
    closed already, and a raw OSError (a reset) not at all."""
    if not context.is_disconnect and is_connection_lost(context.original_exception):
        context.is_disconnect = True


def _sqlite_engine(target: DatabaseTarget, busy_timeout: float) -> AsyncEngine:
    engine = create_async_engine(
        target.url, connect_args={"async_creator_fn": inline_connector(busy_timeout)}
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so that BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 0")  # a wait for a lock happens in a thread (sqlite_driver)
        if target.sqlite_file:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A Database transaction has begun on the driver already (Transaction.begin); a connection of
        # the engine's own (the migrations) begins here.
        driver: InlineConnection = connection.connection.driver_connection
        if not driver._conn.in_transaction:
            await_(begin_sqlite(driver, write=False))

    return engine


async def begin_sqlite(driver: InlineConnection, *, write: bool) -> None:
    """BEGIN, sent on the driver itself (booking.sqlite_driver): the one statement that may wait for a lock.

    Writers take the write lock up front: a read-then-write transaction in WAL mode would otherwise
    fail with SQLITE_BUSY_SNAPSHOT instead of waiting its turn."""
    statement = "BEGIN IMMEDIATE" if write else "BEGIN"
    try:
        await driver.run(_begin, statement)
    except sqlite3.Error as error:  # as SQLAlchemy would raise it (a lock still held: 503, not 500)
        raise DBAPIError.instance(statement, (), error, sqlite3.Error) from error


def _begin(connection: sqlite3.Connection, statement: str) -> None:
    connection.execute(statement)


class Transaction:
    """One transaction on one pooled connection, begun on the driver itself.

    SQLAlchemy's session around a transaction (the session, its connection, begin, commit and close,
    each through a greenlet) cost about 150 µs on SQLite, where a hot statement takes a few. So the
    hot statements (booking.driver) run on the driver connection directly, and the session, bound to
    SQLAlchemy's connection over the same pooled connection, joins the transaction only when the
    change uses it: it flushes into it, and SQLAlchemy's connection commits or rolls it back.
    """

    def __init__(self, database: Database, connection: Connection) -> None:
        self.sync_connection = connection
        self.connection = AsyncConnection(database.engine, connection)
        self.session = AsyncSession(
            bind=self.connection,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="rollback_only",  # the commit is the transaction's, not the session's
            info={TRANSACTION_KEY: self},
        )
        # booking.sqlite_driver's InlineConnection, or SQLAlchemy's asyncpg adapter (which holds the
        # asyncpg connection and its transaction).
        pooled = connection.connection
        sqlite = database.dialect == "sqlite"
        self.driver: Any = pooled.driver_connection if sqlite else pooled.dbapi_connection

    @classmethod
    async def begin(cls, database: Database, *, write: bool) -> Transaction:
        # The pool checkout may connect, which awaits inside SQLAlchemy: one greenlet.
        transaction = cls(database, await greenlet_spawn(Connection, database.engine.sync_engine))
        try:
            if database.dialect == "sqlite":
                await begin_sqlite(transaction.driver, write=write)
            # No I/O: SQLite has begun above, and the asyncpg adapter begins at the first statement.
            transaction.sync_connection.begin()
        except BaseException:
            await greenlet_spawn(transaction.sync_connection.close)
            raise
        return transaction

    async def end(self, *, commit: bool) -> None:
        await greenlet_spawn(self._end, commit)

    def _end(self, commit: bool) -> None:
        session, connection = self.session.sync_session, self.sync_connection
        try:
            if commit:
                if session.in_transaction():
                    session.commit()  # flushes what the change left pending; the commit is the next line's
                connection.commit()
        finally:
            session.close()
            connection.close()  # back to the pool; a transaction still open is rolled back first


class Database:
    """The engine of one process, and its transactions."""

    def __init__(self, target: DatabaseTarget, pool_size: int = 10, busy_timeout: float = 15.0) -> None:
        self.target = target
        self.engine = create_engine(target, pool_size, busy_timeout)

    @property
    def dialect(self) -> Dialect:
        return self.target.dialect

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        transaction = await Transaction.begin(self, write=write)
        try:
            yield transaction.session
        except BaseException:
            # Shielded: a request cancelled again while it rolls back still gives its connection back.
            await asyncio.shield(transaction.end(commit=False))
            raise
        await transaction.end(commit=True)

    async def dispose(self) -> None:
        await self.engine.dispose()


def is_transient_conflict(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES


def is_connection_lost(error: BaseException) -> bool:
    """The connection the error came from cannot be used again: invalidate it, never pool it."""
    return any(_lost(link) for link in _chain(error))


def is_unavailable(error: BaseException) -> bool:
    """The database cannot serve now (gone, unreachable, refusing, locked): a 503, not a bug's 500.

    Wrapped or not: SQLAlchemy's DBAPIError, the asyncpg adapter's errors and asyncpg's own."""
    return any(_lost(link) or _refused(link) for link in _chain(error))


async def discard(connection: AsyncConnection, error: BaseException) -> None:
    """What SQLAlchemy does on a disconnect, for one seen outside it (booking.driver): the connection
    is invalidated (closed, never pooled again), and the pool's connections opened before it are
    replaced at their next checkout, since a server that ended one has most likely ended them all."""
    sync = connection.sync_connection
    if sync is None or sync.closed or sync.invalidated:
        return
    connection.sync_engine.pool._invalidate(sync.connection, error, _checkin=False)
    await connection.invalidate(error)


def _chain(error: BaseException) -> list[BaseException]:
    """The error and what it wraps: DBAPIError.orig, the adapter's orig, `raise … from`."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain and len(chain) < 8:
        chain.append(link)
        orig = getattr(link, "orig", None)
        link = orig if isinstance(orig, BaseException) else link.__cause__
    return chain


def _lost(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return error.connection_invalidated
    if isinstance(error, OSError):  # refused, reset, timed out, unreachable (asyncio.TimeoutError too)
        return True
    if isinstance(error, (asyncpg.InterfaceError, AsyncAdapt_asyncpg_dbapi.InterfaceError)):
        return "connection is closed" in str(error)  # asyncpg's words for a connection already gone
    sqlstate = getattr(error, "sqlstate", None)  # asyncpg's errors and the adapter's alike
    return isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in SESSION_ENDED_SQLSTATES)


def _refused(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_UNAVAILABLE_CODES  # extended codes too
    return getattr(error, "sqlstate", None) in REFUSED_SQLSTATES


async def retrying(
    work: Callable[[], Awaitable[T]], *, pause: Callable[[float], Awaitable[None]] = asyncio.sleep
) -> T:
    """Run a whole transaction again when the database aborted it for a concurrent one."""
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            return await work()
        except DBAPIError as error:
            if attempt == TRANSACTION_ATTEMPTS or not is_transient_conflict(error):
                raise
        await pause(random.uniform(0, RETRY_PAUSE_SECONDS * attempt))
    raise AssertionError("unreachable")
