"""booking.driver and booking.sqlite_driver: the hot statements on the driver, the SQLite lock wait."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime, Executable, exc, insert, select
from sqlalchemy.dialects import sqlite

from booking.availability.repository import BUSY, INSTRUCTOR_SEEN_FROM_BRAND
from booking.calendars.parsing import PIECE
from booking.clock import FixedClock
from booking.db import RETRY_PAUSE_SECONDS, TRANSACTION_ATTEMPTS, Database, parse_database_url, retrying
from booking.driver import HotStatement
from booking.models.base import UTCDateTime
from booking.models.brands import Brand
from booking.types import LONGEST_BLOCK
from tests.booking_world import MONDAY, make_world
from tests.support import Api

NEW_BRAND = HotStatement(insert(Brand))
BRAND_NAME = HotStatement(select(Brand.name).where(Brand.slug == "driver-test"))


def brand_row() -> dict[str, object]:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return {
        "id": uuid.uuid4(),
        "name": "Driver test",
        "slug": "driver-test",
        "max_pending_per_student": 3,
        "currency": "usd",
        "timezone": "UTC",
        "locale": "en",
        "created_at": now,
    }


@pytest.fixture
async def db(database_url: str) -> Database:
    return Database(parse_database_url(database_url), busy_timeout=5)


async def test_a_hot_statement_reads_what_sqlalchemy_reads(
    api: Api, clock: FixedClock, database_url: str
) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    await world.booked("2026-12-01T10:00:00+01:00")
    db = Database(parse_database_url(database_url))
    instructor, brand = uuid.UUID(world.instructor["id"]), uuid.UUID(world.brand["id"])
    since = datetime(2026, 11, 30, tzinfo=UTC)
    params = {
        "instructor_id": instructor,
        "brand_id": brand,
        "since": since,
        "until": since + timedelta(days=7),
        "earliest": since - LONGEST_BLOCK,
        "earliest_piece": since - PIECE,
        "now": MONDAY,
    }
    try:
        for statement in (BUSY, INSTRUCTOR_SEEN_FROM_BRAND):
            async with db.transaction(write=False) as session:
                ours = await statement.rows(session, params)
                theirs = (await session.execute(cast(Executable, statement.statement), params)).all()
            assert ours, "a comparison of nothing proves nothing"
            assert [tuple(row) for row in ours] == [tuple(row) for row in theirs]
            assert [type(value) for value in ours[0]] == [type(value) for value in theirs[0]]
    finally:
        await db.dispose()


async def test_a_hot_statement_is_part_of_the_sessions_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction(write=True) as session:
            # The first statement of the transaction: on PostgreSQL it must begin the transaction too.
            await NEW_BRAND.execute(session, brand_row())
            assert (await BRAND_NAME.first(session, {})).name == "Driver test"
            raise RuntimeError("roll back")
    async with db.transaction(write=False) as session:
        assert await BRAND_NAME.first(session, {}) is None
    await db.dispose()


async def test_a_driver_error_is_sqlalchemys_error(db: Database) -> None:
    row = brand_row()
    async with db.transaction(write=True) as session:
        await NEW_BRAND.execute(session, row)
    with pytest.raises(exc.IntegrityError) as raised:
        async with db.transaction(write=True) as session:
            await NEW_BRAND.execute(session, row | {"id": uuid.uuid4()})  # the same slug
    assert "slug" in str(raised.value.orig)
    if db.dialect == "postgresql":
        assert raised.value.orig.sqlstate == "23505"  # type: ignore[union-attr]
    await db.dispose()


def test_a_statement_that_would_expand_per_call_is_refused() -> None:
    statement = HotStatement(select(Brand.name).where(Brand.slug.in_(["a", "b"])))
    with pytest.raises(ValueError, match="complete when it is compiled"):
        statement.compiled(Database(parse_database_url("sqlite://")).engine.dialect)


async def test_a_wait_for_the_sqlite_write_lock_leaves_the_event_loop_running(sqlite_database: str) -> None:
    """Statements run on the loop itself; one that must wait for another connection's lock waits in
    the connection's thread, with the busy timeout, while the loop goes on."""
    db = Database(parse_database_url(sqlite_database), busy_timeout=5)
    holder = sqlite3.connect(sqlite_database.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    async def write() -> None:
        async with db.transaction(write=True) as session:
            await NEW_BRAND.execute(session, brand_row() | {"slug": f"lock-{uuid.uuid4().hex[:8]}"})

    try:
        writer = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # 0.2 s of a loop that would stand still if the wait held it
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writer.done()
        assert ticks == 20
        holder.execute("COMMIT")
        await asyncio.wait_for(writer, timeout=5)
    finally:
        holder.close()
        await db.dispose()


async def test_the_sqlite_busy_timeout_still_bounds_the_wait(sqlite_database: str) -> None:
    db = Database(parse_database_url(sqlite_database), busy_timeout=0.2)
    holder = sqlite3.connect(sqlite_database.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(exc.OperationalError, match="locked"):
            async with db.transaction(write=True) as session:
                await NEW_BRAND.execute(session, brand_row())
        assert asyncio.get_running_loop().time() - started >= 0.2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        await db.dispose()


@given(st.datetimes(timezones=st.timezones()))
def test_an_instant_is_stored_in_sqlalchemys_sqlite_format_and_read_back(instant: datetime) -> None:
    """UTCDateTime writes SQLite's text itself: exactly what SQLAlchemy's DATETIME would store for the
    instant in UTC (string order is time order), and read back as the same instant."""
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = DateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:  # the first or last day of the calendar, shifted out of it
        return
    stored = ours(instant)
    assert stored == theirs(utc.replace(tzinfo=None))
    reader = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    # Compared in UTC: an instant in a zone's gap or fold compares unequal across zones (PEP 495).
    assert reader is not None and reader(stored) == utc


def test_a_naive_instant_is_refused_on_sqlite_too() -> None:
    dialect = sqlite.dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 12, 4, 12, 0))


class _Deadlock(Exception):
    sqlstate = "40P01"


async def test_a_transaction_aborted_for_a_concurrent_one_runs_again_after_a_pause() -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    runs = 0

    async def work() -> str:
        nonlocal runs
        runs += 1
        if runs < TRANSACTION_ATTEMPTS:
            raise exc.DBAPIError("INSERT", None, _Deadlock())
        return "done"

    assert await retrying(work, pause=pause) == "done"
    assert runs == TRANSACTION_ATTEMPTS
    assert len(pauses) == TRANSACTION_ATTEMPTS - 1
    assert all(0 <= pause <= RETRY_PAUSE_SECONDS * attempt for attempt, pause in enumerate(pauses, 1))


async def test_a_transaction_runs_at_most_three_times_and_only_for_a_transient_conflict() -> None:
    runs = 0

    async def deadlocks() -> None:
        nonlocal runs
        runs += 1
        raise exc.DBAPIError("INSERT", None, _Deadlock())

    with pytest.raises(exc.DBAPIError):
        await retrying(deadlocks)
    assert runs == TRANSACTION_ATTEMPTS

    runs = 0

    async def violates() -> None:
        nonlocal runs
        runs += 1
        raise exc.IntegrityError("INSERT", None, Exception("duplicate key"))

    with pytest.raises(exc.IntegrityError):
        await retrying(violates)
    assert runs == 1
