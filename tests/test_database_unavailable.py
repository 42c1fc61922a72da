"""Which database errors are a `503 database_unavailable` (booking.db.is_unavailable), and which stay a
bug's `500`: raw from asyncpg (the hot statements run on it directly), as the asyncpg adapter translates
them, and wrapped by SQLAlchemy. The outage itself, end to end: tests/reliability/test_database_outage.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi as Adapter

from booking.db import is_connection_lost, is_unavailable
from booking.http import install_error_handlers

ErrorFactory = Callable[[], BaseException]


def adapted(error: Exception, kind: type[Exception] = Adapter.Error) -> Exception:
    """As the asyncpg adapter raises it: its own class, the driver's error as `orig` and cause."""
    translated = kind(str(error), error)
    translated.__cause__ = error
    return translated


def wrapped(error: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises it."""
    dbapi_error = sa_exc.DBAPIError.instance(
        "SELECT 1", (), error, Adapter.Error, connection_invalidated=invalidated
    )
    assert isinstance(dbapi_error, sa_exc.DBAPIError)
    return dbapi_error


def sqlite_error(tmp_path: Path, statement: str) -> sqlite3.Error:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with sqlite3.connect(path, timeout=0, isolation_level=None) as other:
            other.execute(statement)
    except sqlite3.Error as error:
        return error
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    raise AssertionError("no error")


SHUTTING_DOWN = asyncpg.CannotConnectNowError("the database system is shutting down")
MID_STATEMENT = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
CLOSED = asyncpg.InterfaceError("cannot perform operation: connection is closed")

# (the error, is the connection it came from lost)
UNAVAILABLE: dict[str, tuple[ErrorFactory, bool]] = {
    "shutting down, raw": (lambda: SHUTTING_DOWN, False),
    "shutting down, adapted": (lambda: adapted(SHUTTING_DOWN), False),
    "shutting down, wrapped": (lambda: wrapped(adapted(SHUTTING_DOWN)), False),
    "admin shutdown (57P01)": (lambda: wrapped(adapted(asyncpg.AdminShutdownError("terminating"))), True),
    "crash shutdown (57P02)": (lambda: asyncpg.CrashShutdownError("crash"), True),
    "too many connections": (lambda: asyncpg.TooManyConnectionsError("sorry, too many clients"), False),
    "closed mid-statement, raw": (lambda: MID_STATEMENT, True),
    "closed mid-statement, wrapped": (lambda: wrapped(adapted(MID_STATEMENT)), True),
    "connection failure (08006)": (lambda: asyncpg.ConnectionFailureError("failure"), True),
    "closed connection, raw": (lambda: CLOSED, True),
    "closed connection, adapted": (lambda: adapted(CLOSED, Adapter.InterfaceError), True),
    "invalidated by SQLAlchemy": (lambda: wrapped(adapted(ValueError("x")), invalidated=True), True),
    "refused": (lambda: ConnectionRefusedError(111, "Connect call failed"), True),
    "reset": (lambda: ConnectionResetError(104, "Connection reset by peer"), True),
    "lost": (lambda: ConnectionError("unexpected connection_lost() call"), True),
    "connect timeout": (lambda: TimeoutError(), True),
    "no address answered": (lambda: OSError("Multiple exceptions: [Errno 111] …, [Errno 99] …"), True),
    "pool checkout timeout": (lambda: sa_exc.TimeoutError("QueuePool limit reached"), False),
    "statement cancelled or timed out (57014)": (
        lambda: wrapped(adapted(asyncpg.QueryCanceledError("canceling statement due to statement timeout"))),
        False,
    ),
    "disk full (53100)": (lambda: asyncpg.DiskFullError("could not extend file"), False),
    "wrong password (28P01)": (lambda: asyncpg.InvalidPasswordError("password authentication failed"), False),
}

BUGS: dict[str, ErrorFactory] = {
    "unique violation": lambda: wrapped(
        adapted(asyncpg.UniqueViolationError("duplicate key"), Adapter.IntegrityError)
    ),
    "syntax error": lambda: wrapped(adapted(asyncpg.PostgresSyntaxError("syntax error"))),
    "undefined column, raw": lambda: asyncpg.UndefinedColumnError("column x does not exist"),
    "bad argument": lambda: asyncpg.DataError("invalid input for query argument $1"),
    "another operation": lambda: asyncpg.InterfaceError("another operation is in progress"),
    "not a database error": lambda: ValueError("connection is closed"),
}


@pytest.mark.parametrize("name", UNAVAILABLE)
def test_unavailable(name: str) -> None:
    factory, lost = UNAVAILABLE[name]
    error = factory()
    assert is_unavailable(error)
    assert is_connection_lost(error) is lost


@pytest.mark.parametrize("name", BUGS)
def test_a_bug_is_not_unavailable(name: str) -> None:
    error = BUGS[name]()
    assert not is_unavailable(error)
    assert not is_connection_lost(error)


def test_sqlite_locked_is_unavailable_and_a_missing_table_is_not(tmp_path: Path) -> None:
    locked = sqlite_error(tmp_path, "BEGIN IMMEDIATE")
    assert is_unavailable(locked) and is_unavailable(
        sa_exc.DBAPIError.instance("", (), locked, sqlite3.Error)
    )
    assert not is_connection_lost(locked)
    missing = sqlite_error(tmp_path, "SELECT * FROM nothing")
    assert not is_unavailable(missing)


async def _anyone(_: Request) -> object:
    return None


@pytest.mark.parametrize(
    ("name", "status"), [*((name, 503) for name in UNAVAILABLE), *((name, 500) for name in BUGS)]
)
async def test_the_answer_is_503_only_when_the_database_is_away(name: str, status: int) -> None:
    factory = UNAVAILABLE[name][0] if name in UNAVAILABLE else BUGS[name]
    app = FastAPI()
    install_error_handlers(app, _anyone)

    @app.get("/fails")
    async def fails() -> None:
        raise factory()

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/fails")
    if name == "unique violation":  # an integrity error nobody expected is still the client's conflict
        assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")
        return
    code = "database_unavailable" if status == 503 else "internal_error"
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
