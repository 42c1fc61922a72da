"""Database-level guarantees (DESIGN.md) and the Supabase migration file's equivalence."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from booking.db import Database, parse_database_url
from booking.enums import BookingStatus
from booking.migrate import upgrade
from booking.models.bookings import Booking
from booking.models.brands import Brand
from booking.models.instructors import Instructor, InstructorBrand
from booking.types import MAX_BUFFER_MINUTES, MAX_SESSION_MINUTES
from tests.conftest import asyncpg_dsn, create_postgres_database, drop_postgres_database, postgres_url

# Applied in name order, as `supabase db push` does.
SUPABASE_FILES = sorted((Path(__file__).parent.parent / "supabase/migrations").glob("*.sql"))
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def _seed_pair(db: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A brand with a linked instructor and a second, unlinked brand."""
    brand, other, instructor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.transaction(write=True) as session:
        session.add_all([Brand(id=brand, slug="a", name="A"), Brand(id=other, slug="b", name="B")])
        # Only the columns every revision has: the 0011 tests seed an older schema.
        columns = {"id": instructor, "name": "I", "email": "i@example.com", "timezone": "UTC", "active": True}
        await session.execute(insert(Instructor).values(created_at=datetime.now(UTC), **columns))
        session.add(InstructorBrand(instructor_id=instructor, brand_id=brand))
    return brand, other, instructor


def booking_row(
    brand: uuid.UUID,
    instructor: uuid.UUID,
    start: datetime,
    minutes: int = 60,
    buffer: int = 15,
    status: str = "pending",
) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {
        "id": uuid.uuid4(),
        "brand_id": brand,
        "instructor_id": instructor,
        "student_id": uuid.uuid4(),
        "status": status,
        "payment_status": "unpaid",
        "starts_at": start,
        "ends_at": end,
        "blocked_until": end + timedelta(minutes=buffer),
        "buffer_minutes": buffer,
        "student_timezone": "UTC",
        "instructor_timezone": "UTC",
        "created_by": "test",
        "created_at": start,
        "updated_at": start,
    }


async def _insert(db: Database, row: dict[str, Any]) -> None:
    async with db.transaction(write=True) as session:
        await session.execute(insert(Booking).values(**row))


async def test_booking_for_unlinked_pair_is_refused_by_the_database(database_url: str) -> None:
    db = Database(parse_database_url(database_url))
    try:
        _, other, instructor = await _seed_pair(db)
        with pytest.raises(IntegrityError):
            await _insert(db, booking_row(other, instructor, START))
    finally:
        await db.dispose()


async def test_overlapping_active_rows_are_refused_by_the_database(database_url: str) -> None:
    db = Database(parse_database_url(database_url))
    try:
        brand, _, instructor = await _seed_pair(db)
        await _insert(db, booking_row(brand, instructor, START))
        # Starts inside the first booking's buffer (09:00-10:00 + 15 min).
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            await _insert(db, booking_row(brand, instructor, START + timedelta(minutes=70)))
        # Right after the buffer is free; a cancelled row may overlap anything.
        await _insert(db, booking_row(brand, instructor, START + timedelta(minutes=75)))
        await _insert(db, booking_row(brand, instructor, START, status="cancelled"))
    finally:
        await db.dispose()


async def test_reactivating_an_overlapping_row_is_refused(database_url: str) -> None:
    db = Database(parse_database_url(database_url))
    try:
        brand, _, instructor = await _seed_pair(db)
        await _insert(db, booking_row(brand, instructor, START))
        cancelled = booking_row(brand, instructor, START, status="cancelled")
        await _insert(db, cancelled)
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            async with db.transaction(write=True) as session:
                row = await session.get(Booking, cancelled["id"])
                assert row is not None
                row.status = BookingStatus.PENDING
    finally:
        await db.dispose()


# --- the SQLite guard's work -------------------------------------------------------------------------


def _sqlite_file(url: str) -> str:
    path = parse_database_url(url).sqlite_file
    assert path is not None
    return path


def _vm_steps(connection: sqlite3.Connection, statement: str, values: tuple[Any, ...]) -> int:
    """How many instructions SQLite's VM runs for the statement, its triggers included: unlike a
    time, the same count on every run and every machine."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    connection.set_progress_handler(count, 1)
    try:
        connection.execute(statement, values)
    finally:
        connection.set_progress_handler(None, 1)
        connection.rollback()
    return steps


def _sqlite_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row as SQLite stores it: uuids as 32 hex digits, instants as naive UTC text."""
    stored = {}
    for name, value in row.items():
        if isinstance(value, uuid.UUID):
            value = value.hex
        elif isinstance(value, datetime):
            value = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        stored[name] = value
    return stored


def _insert_sql(row: dict[str, Any]) -> str:
    return f"INSERT INTO bookings ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_overlap_guard_reads_a_bounded_range(database_url: str) -> None:
    """The trigger's work for one insert and one move is the same with 200 and with 2,000 earlier
    active sessions of the instructor (before migration 0007 it read all of them: ten times more)."""
    db = Database(parse_database_url(database_url))
    try:
        brand, _, instructor = await _seed_pair(db)
    finally:
        await db.dispose()
    connection = sqlite3.connect(_sqlite_file(database_url), isolation_level=None)
    try:
        steps = []
        for history in (200, 2_000):
            rows = [
                _sqlite_row(booking_row(brand, instructor, START + timedelta(hours=h), minutes=45))
                for h in range(history)
            ]
            connection.execute("DELETE FROM bookings")
            connection.executemany(_insert_sql(rows[0]), [tuple(r.values()) for r in rows])
            later = _sqlite_row(
                booking_row(brand, instructor, START + timedelta(hours=history + 1), minutes=45)
            )
            connection.execute("BEGIN")
            inserted = _vm_steps(connection, _insert_sql(later), tuple(later.values()))
            connection.execute("BEGIN")
            moved = _vm_steps(
                connection,
                "UPDATE bookings SET starts_at = ?, ends_at = ?, blocked_until = ? WHERE id = ?",
                (later["starts_at"], later["ends_at"], later["blocked_until"], rows[-1]["id"]),
            )
            steps.append((inserted, moved))
        assert steps[0] == steps[1]
        # A booking in the way is still found: the bound only leaves out rows that cannot overlap.
        in_the_way = _sqlite_row(booking_row(brand, instructor, START + timedelta(hours=1000, minutes=30)))
        with pytest.raises(sqlite3.IntegrityError, match="bookings_no_overlap"):
            connection.execute(_insert_sql(in_the_way), tuple(in_the_way.values()))
    finally:
        connection.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_guard_refuses_a_block_longer_than_its_bound(database_url: str) -> None:
    """The bounded read assumes no booking blocks more than the longest session plus the largest
    buffer (12 hours): it takes a row that blocks exactly that, still sees all of it, and refuses a
    row that would block longer."""
    db = Database(parse_database_url(database_url))
    try:
        brand, _, instructor = await _seed_pair(db)
        longest = booking_row(
            brand, instructor, START, minutes=MAX_SESSION_MINUTES, buffer=MAX_BUFFER_MINUTES
        )
        await _insert(db, longest)
        # Its last minute of buffer, 12 hours after its start, is still found by the bounded read.
        last_minute = START + timedelta(minutes=MAX_SESSION_MINUTES + MAX_BUFFER_MINUTES - 1)
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            await _insert(db, booking_row(brand, instructor, last_minute, minutes=30, buffer=0))
        later = START + timedelta(days=1)
        with pytest.raises(IntegrityError, match="bookings_block_too_long"):
            await _insert(db, booking_row(brand, instructor, later, minutes=MAX_SESSION_MINUTES, buffer=241))
    finally:
        await db.dispose()


# --- the Supabase file ------------------------------------------------------------------------------

CATALOGUE_QUERIES = {
    "columns": """
        SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'alembic_version'
        ORDER BY 1, 2""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'alembic_version'
        ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> 'alembic_version' ORDER BY 1, 2""",
    "row_security": """
        SELECT relname, relrowsecurity FROM pg_class
        WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname <> 'alembic_version'
        ORDER BY 1""",
    "extensions": "SELECT extname FROM pg_extension ORDER BY 1",
}


async def _catalogue(url: str) -> dict[str, list[tuple[Any, ...]]]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {name: [tuple(r) for r in await connection.fetch(q)] for name, q in CATALOGUE_QUERIES.items()}
    finally:
        await connection.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_supabase_file_equals_the_migration_history(backend: str) -> None:
    from_history, from_file = create_postgres_database(), create_postgres_database()
    try:
        upgrade(postgres_url(from_history))
        for supabase_file in SUPABASE_FILES:
            subprocess.run(
                ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-f", str(supabase_file), postgres_url(from_file)],
                check=True,
                capture_output=True,
            )
        history = asyncio.run(_catalogue(postgres_url(from_history)))
        file = asyncio.run(_catalogue(postgres_url(from_file)))
    finally:
        drop_postgres_database(from_history)
        drop_postgres_database(from_file)
    for part in CATALOGUE_QUERIES:
        assert file[part] == history[part], part
    assert len(history["columns"]) > 50
    assert all(enabled for _, enabled in file["row_security"]), "RLS on every table"
    assert {"bookings", "notification_log", "instructors_brands"} <= {t for t, _ in file["row_security"]}
    assert ("btree_gist",) in file["extensions"]


async def test_sqlite_0012_keeps_every_event_and_delivery(tmp_path: Path) -> None:
    """0012 copies `events` to let its booking be NULL; dropping the old table would delete its
    deliveries by cascade (foreign keys are on): they are all still there afterwards."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0011")
    db = Database(parse_database_url(url))
    try:
        brand, _, instructor = await _seed_pair(db)
        row = booking_row(brand, instructor, START)
        await _insert(db, row)
    finally:
        await db.dispose()
    endpoint, event = uuid.uuid4().hex, uuid.uuid4().hex
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        now = "2027-01-01T00:00:00.000000+00:00"
        connection.execute(
            "INSERT INTO webhook_endpoints VALUES "
            "(?, ?, 'https://example.com', '[\"*\"]', 1, NULL, 's', ?, ?)",
            (endpoint, brand.hex, now, now),
        )
        connection.execute(
            "INSERT INTO events (id, type, brand_id, booking_id, data, created_at) "
            "VALUES (?, ?, ?, ?, '{}', ?)",
            (event, "booking.created", brand.hex, row["id"].hex, now),
        )
        connection.execute(
            "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, booking_id, status, "
            "attempts, created_at) VALUES ('msg_1', ?, ?, 'booking.created', ?, 'pending', 0, ?)",
            (endpoint, event, row["id"].hex, now),
        )
    await asyncio.to_thread(upgrade, url)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        assert connection.execute("SELECT id, event_id FROM webhook_deliveries").fetchall() == [
            ("msg_1", event)
        ]
        assert connection.execute("SELECT count(*) FROM events").fetchone() == (1,)
        connection.execute(
            "INSERT INTO events (id, type, brand_id, booking_id, data, created_at) "
            "VALUES (?, ?, ?, NULL, '{}', ?)",
            (uuid.uuid4().hex, "pass.activated", brand.hex, now),
        )
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
