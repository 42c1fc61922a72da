"""Database-level guarantees (DESIGN.md) and the Supabase migration file's equivalence."""

from __future__ import annotations

import asyncio
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
from booking.models import Booking, Brand, Instructor, InstructorBrand
from tests.conftest import asyncpg_dsn, create_postgres_database, drop_postgres_database, postgres_url

# Applied in name order, as `supabase db push` does.
SUPABASE_FILES = sorted((Path(__file__).parent.parent / "supabase/migrations").glob("*.sql"))
START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def _seed_pair(db: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A brand with a linked instructor and a second, unlinked brand."""
    brand, other, instructor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.transaction(write=True) as session:
        session.add_all([Brand(id=brand, slug="a", name="A"), Brand(id=other, slug="b", name="B")])
        session.add(Instructor(id=instructor, name="I", email="i@example.com", timezone="UTC", active=True))
        await session.flush()
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
