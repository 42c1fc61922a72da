"""The ceiling: the service's booking transaction issued straight through asyncpg, no HTTP, no framework.

The same statements, in the same order, as one POST /api/bookings on PostgreSQL with providers
unconfigured (see booking/availability/store.py and booking/bookings/service.py): the instructor with
the share-locked link and the brand's settings, the weekly rules and overrides, the busy time, the
insert of the booking and of its three `skipped` notification_log rows, commit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from bench.harness import percentile, seed, server, tomorrow_midnight

INSTRUCTOR_IN_BRAND = """
SELECT i.id, i.name, i.email, i.timezone, i.active, l.brand_id, s.buffer_minutes, s.advance_booking_days,
       s.cancellation_cutoff_hours, s.session_minutes, s.min_notice_minutes
FROM instructors i
JOIN instructors_brands l ON l.instructor_id = i.id AND l.brand_id = $2 AND l.unlinked_at IS NULL
LEFT OUTER JOIN instructor_scheduling_settings s ON s.instructor_id = i.id AND s.brand_id = $2
WHERE i.id = $1 FOR SHARE OF l"""
RULES = """
SELECT 'weekly' AS kind, weekday, CAST(NULL AS DATE) AS date, start_minute, end_minute
FROM availability_weekly WHERE instructor_id = $1 AND brand_id = $2
UNION ALL
SELECT kind, CAST(NULL AS SMALLINT), date, start_minute, end_minute
FROM availability_overrides WHERE instructor_id = $1 AND brand_id = $2 AND date BETWEEN $3 AND $4"""
BUSY = """
SELECT starts_at, blocked_until FROM bookings
WHERE instructor_id = $1 AND status IN ('pending', 'confirmed') AND starts_at < $2 AND starts_at > $4
  AND blocked_until > $3"""
INSERT_BOOKING = """
INSERT INTO bookings (id, brand_id, instructor_id, student_id, status, payment_status, starts_at, ends_at,
    blocked_until, buffer_minutes, student_timezone, instructor_timezone, student_email, created_by,
    created_at, updated_at)
VALUES ($1, $2, $3, $4, 'pending', 'unpaid', $5, $6, $6, 0, 'UTC', 'UTC', 's@example.com', 'bench', $7, $7)"""
INSERT_LOG = """
INSERT INTO notification_log (id, booking_id, channel, kind, recipient, status, error, created_at)
VALUES ($1, $2, $3, $4, $5, 'skipped', $6, $7)"""


LONGEST_BLOCK = timedelta(hours=12)  # the longest session plus the largest buffer, as the service bounds it


async def book(
    connection: asyncpg.Connection, brand: uuid.UUID, instructor: uuid.UUID, start: datetime
) -> None:
    end = start + timedelta(hours=1)
    now = datetime.now(start.tzinfo)
    async with connection.transaction():
        await connection.fetchrow(INSTRUCTOR_IN_BRAND, instructor, brand)
        await connection.fetch(RULES, instructor, brand, start.date() - timedelta(days=1), end.date())
        await connection.fetch(BUSY, instructor, end, start, start - LONGEST_BLOCK)
        booking_id = uuid.uuid4()
        await connection.execute(INSERT_BOOKING, booking_id, brand, instructor, uuid.uuid4(), start, end, now)
        await connection.executemany(
            INSERT_LOG,
            [
                (
                    uuid.uuid4(),
                    booking_id,
                    "email",
                    "booking_created",
                    "s@example.com",
                    "resend_not_configured",
                    now,
                ),
                (uuid.uuid4(), booking_id, "sms", "booking_created", None, "no_phone", now),
                (uuid.uuid4(), booking_id, "email", "booking_created_instructor", "c@example.com", "x", now),
            ],
        )


async def _run(dsn: str, brand: str, instructors: list[str], clients: int, seconds: float) -> dict[str, Any]:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    brand_id, ids = uuid.UUID(brand), [uuid.UUID(i) for i in instructors]
    counter = iter(range(10**9))
    origin = tomorrow_midnight() + timedelta(days=365)  # clear of the HTTP runs
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def one_client() -> None:
        async with pool.acquire() as connection:
            while time.monotonic() < deadline:
                k = next(counter)
                began = time.perf_counter()
                await book(connection, brand_id, ids[k % len(ids)], origin + timedelta(hours=k // len(ids)))
                latencies.append((time.perf_counter() - began) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    elapsed = time.monotonic() - started
    await pool.close()
    return {
        "benchmark": "driver-only limit (asyncpg, same transaction)",
        "database": "postgresql",
        "bookings_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "errors": 0,
        "bookings": len(latencies),
    }


def driver_limit(database_url: str, clients: int, seconds: float, instructors: int) -> dict[str, Any]:
    with server(database_url) as base:
        seeded = seed(base, instructors=instructors)
    dsn = database_url.replace("postgresql://", "postgres://", 1)
    return asyncio.run(_run(dsn, seeded.brand_id, seeded.instructor_ids, clients, seconds))
