"""The hot statements of a booking and a slot list, sent straight to the driver.

Each is a SQLAlchemy Core statement, defined once beside the other queries of its feature and compiled
once per dialect, with SQLAlchemy's own type conversions for its parameters and columns. Only the
execution skips SQLAlchemy: its execution context, cursor adapter and result object cost about 130 µs
a statement, where the statement itself takes a few on SQLite. The statement runs on the connection of
the session's transaction (booking.db.Transaction), inside it, and a driver error surfaces as the same
`sqlalchemy.exc.DBAPIError` subclass SQLAlchemy would raise, so callers cannot tell the difference.

On PostgreSQL the statement goes to asyncpg, which prepares it once per connection and keeps it
(its statement cache; off behind a transaction-mode pooler, where asyncpg uses unnamed statements).
On SQLite it goes to the connection of `booking.sqlite_driver`, in place on the event loop.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from booking.db import TRANSACTION_KEY, Transaction, discard, is_connection_lost
from booking.sqlite_driver import InlineConnection

Processor = Callable[[Any], Any] | None
Params = Mapping[str, Any]
# Told of each single statement before it runs (sql, positional values, the driver's connection), as
# SQLAlchemy's before_cursor_execute event is of its own: the query-plan tests explain them this way.
Observer = Callable[[str, tuple[Any, ...], Any], Awaitable[None]]
OBSERVERS: list[Observer] = []


@dataclass(frozen=True)
class Compiled:
    sql: str
    names: tuple[str, ...]  # bind names in positional order
    defaults: tuple[Any, ...]  # the value bound in the statement itself; REQUIRED when the caller gives it
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]
    row: Any  # the namedtuple type of a result row

    def values(self, params: Params) -> tuple[Any, ...]:
        out = []
        for name, default, bind in zip(self.names, self.defaults, self.binds, strict=True):
            value = params[name] if default is REQUIRED else params.get(name, default)
            out.append(value if bind is None or value is None else bind(value))
        return tuple(out)

    def decode(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        """The rows, converted column by column: one `map` per converted column instead of a Python
        loop per row (a busy read brings back hundreds). SQLAlchemy's result processors take None."""
        if not raw or not self.converted:
            return list(map(self.row._make, raw))
        columns: list[Iterable[Any]] = list(zip(*raw, strict=True))
        for index, process in self.converted:
            columns[index] = map(process, columns[index])
        return list(map(self.row._make, zip(*columns, strict=True)))

    @cached_property
    def converted(self) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
        """The columns that have a conversion, with it: most rows have several that need none."""
        return tuple((index, process) for index, process in enumerate(self.results) if process is not None)


REQUIRED = object()
_DRIVER_KEY = "booking.driver"


class HotStatement:
    """A Core statement that runs on the driver. An INSERT is given every column (no Python defaults)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> Compiled:
        compiled: Any = self.statement.compile(dialect=dialect)
        sql = str(compiled)
        if "POSTCOMPILE" in sql:  # a parameter that expands per call (`IN` of a list) has no place here
            raise ValueError("a hot statement's SQL must be complete when it is compiled")
        names = tuple(compiled.positiontup or ())
        binds = [compiled.binds[name] for name in names]
        columns: Sequence[ColumnElement[Any]] = getattr(self.statement, "selected_columns", None) or ()
        if not columns:
            columns = list(getattr(self.statement, "_returning", ()))
        return Compiled(
            sql=sql,
            names=names,
            defaults=tuple(REQUIRED if bind.required else bind.effective_value for bind in binds),
            binds=tuple(bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds),
            results=tuple(_result_processor(column, dialect) for column in columns),
            row=namedtuple("Row", [column.key for column in columns], rename=True),  # type: ignore[misc]
        )

    async def rows(self, session: AsyncSession, params: Params) -> list[Any]:
        """Every row, converted as SQLAlchemy would."""
        bound = await _bound_of(session)
        compiled = self.compiled(bound.dialect)
        return compiled.decode(await bound.fetch(compiled.sql, compiled.values(params)))

    async def first(self, session: AsyncSession, params: Params) -> Any:
        rows = await self.rows(session, params)
        return rows[0] if rows else None

    async def execute(self, session: AsyncSession, params: Params) -> None:
        await self.rows(session, params)

    async def execute_many(self, session: AsyncSession, rows: Sequence[Params]) -> None:
        """The statement once per parameter set, in one driver call."""
        if not rows:
            return
        bound = await _bound_of(session)
        compiled = self.compiled(bound.dialect)
        await bound.execute_many(compiled.sql, [compiled.values(params) for params in rows])


def _result_processor(column: ColumnElement[Any], dialect: Dialect) -> Processor:
    return column.type.dialect_impl(dialect).result_processor(dialect, None)


@dataclass(frozen=True)
class _Bound:
    """A transaction as the driver sees it: SQLAlchemy's connection (to invalidate), and the driver's.

    `driver` is booking.sqlite_driver's InlineConnection, or SQLAlchemy's asyncpg adapter (which
    holds the asyncpg connection and its transaction)."""

    connection: AsyncConnection
    driver: Any
    dialect: Dialect

    @property
    def sqlite(self) -> bool:
        return isinstance(self.driver, InlineConnection)

    @property
    def raw(self) -> Any:
        """The sqlite3 or asyncpg connection itself."""
        return self.driver._conn if self.sqlite else self.driver._connection

    async def fetch(self, sql: str, values: tuple[Any, ...]) -> Sequence[Any]:
        for observe in OBSERVERS:
            await observe(sql, values, self.raw)
        try:
            if self.sqlite:
                rows: Sequence[Any] = await self.driver.run(_sqlite_fetch, sql, values)
            else:
                rows = await self.raw.fetch(sql, *values)
        except Exception as error:
            raise await self._translated(error, sql, values) from error
        return rows

    async def execute_many(self, sql: str, values: list[tuple[Any, ...]]) -> None:
        try:
            if self.sqlite:
                await self.driver.run(_sqlite_execute_many, sql, values)
            else:
                await self.raw.executemany(sql, values)
        except Exception as error:
            raise await self._translated(error, sql, values) from error

    async def _translated(self, error: Exception, sql: str, values: Any) -> Exception:
        """The error as SQLAlchemy raises it: a DBAPIError subclass whose `orig` is the DBAPI's error,
        or an OSError as it is. A lost connection is invalidated, as SQLAlchemy does (booking.db.discard),
        so the pool never hands it out again."""
        dbapi: Any = self.dialect.loaded_dbapi
        orig: Exception = error
        if not self.sqlite and not isinstance(error, dbapi.Error):
            try:
                self.driver._handle_exception(error)  # the asyncpg adapter's translation (sqlstate kept)
            except Exception as adapted:
                orig = adapted
        is_dbapi_error = isinstance(orig, dbapi.Error)
        lost = is_connection_lost(orig)
        if isinstance(orig, dbapi.Error):
            lost = lost or self.dialect.is_disconnect(orig, self.driver, None)
        if lost:
            await discard(self.connection, orig)
        if not is_dbapi_error:
            return orig  # not the driver's (an OSError): raised as it is, as SQLAlchemy raises it
        translated: Exception = exc.DBAPIError.instance(
            sql, values, orig, dbapi.Error, dialect=self.dialect, connection_invalidated=lost
        )
        return translated


async def _bound_of(session: AsyncSession) -> _Bound:
    """The driver connection of the session's transaction (booking.db.Transaction), with that
    transaction begun on it: SQLite's began with it, the asyncpg adapter's begins at the first statement.

    Kept in `session.info`: a session lives for one transaction."""
    known: _Bound | None = session.info.get(_DRIVER_KEY)
    if known is not None:
        return known
    transaction: Transaction = session.info[TRANSACTION_KEY]
    driver = transaction.driver
    bound = _Bound(transaction.connection, driver, transaction.connection.dialect)
    if transaction.connection.dialect.name == "postgresql" and driver._transaction is None:
        try:
            # BEGIN: the first I/O on a pooled connection, so where one that died in the pool shows.
            await driver._start_transaction()
        except Exception as error:
            raise await bound._translated(error, "BEGIN", ()) from error
    session.info[_DRIVER_KEY] = bound
    return bound


def _sqlite_fetch(connection: sqlite3.Connection, sql: str, values: tuple[Any, ...]) -> list[Any]:
    return connection.execute(sql, values).fetchall()


def _sqlite_execute_many(connection: sqlite3.Connection, sql: str, values: list[tuple[Any, ...]]) -> None:
    connection.executemany(sql, values)
