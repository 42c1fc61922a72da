"""The ceiling: the service's booking transaction issued straight through asyncpg, no HTTP, no framework.

Same statements, in the same order, as one POST /api/bookings on PostgreSQL (see
booking/bookings/service.py): instructor, link (FOR SHARE), settings, weekly rules, overrides, busy
intervals, insert booking, insert its first history event, commit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta
from typing import Any

import asyncpg

from bench.harness import percentile, seed, server, tomorrow_midnight

STATEMENTS = {
    "instructor": "SELECT id, timezone, active FROM instructors WHERE id = $1",
    "link": (
        "SELECT instructor_id FROM instructors_brands WHERE instructor_id = $1 AND brand_id = $2 "
        "AND unlinked_at IS NULL FOR SHARE"
    ),
    "settings": "SELECT * FROM instructor_scheduling_settings WHERE instructor_id = $1 AND brand_id = $2",
    "weekly": "SELECT weekday, start_minute, end_minute FROM availability_weekly WHERE instructor_id = $1 AND brand_id = $2",
    "overrides": (
        "SELECT date, kind, start_minute, end_minute FROM availability_overrides "
        "WHERE instructor_id = $1 AND brand_id = $2 AND date BETWEEN $3 AND $4"
    ),
    "busy": (
        "SELECT starts_at, blocked_until FROM bookings WHERE instructor_id = $1 "
        "AND status IN ('pending', 'confirmed') AND starts_at < $2 AND blocked_until > $3"
    ),
    "insert": (
        "INSERT INTO bookings (id, brand_id, instructor_id, student_id, status, payment_status, starts_at, ends_at, "
        "blocked_until, buffer_minutes, student_timezone, instructor_timezone, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, 'pending', 'unpaid', $5, $6, $6, 0, 'UTC', 'UTC', now(), now())"
    ),
    "event": (
        "INSERT INTO booking_events (booking_id, from_status, to_status, actor, created_at) "
        "VALUES ($1, NULL, 'pending', 'bench', now())"
    ),
}


async def _book(connection: asyncpg.Connection, brand: uuid.UUID, instructor: uuid.UUID, start: Any) -> None:
    end = start + timedelta(hours=1)
    async with connection.transaction():
        await connection.fetchrow(STATEMENTS["instructor"], instructor)
        await connection.fetchrow(STATEMENTS["link"], instructor, brand)
        await connection.fetchrow(STATEMENTS["settings"], instructor, brand)
        await connection.fetch(STATEMENTS["weekly"], instructor, brand)
        await connection.fetch(STATEMENTS["overrides"], instructor, brand, start.date(), end.date())
        await connection.fetch(STATEMENTS["busy"], instructor, end, start)
        booking_id = uuid.uuid4()
        await connection.execute(STATEMENTS["insert"], booking_id, brand, instructor, uuid.uuid4(), start, end)
        await connection.execute(STATEMENTS["event"], booking_id)


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
                await _book(connection, brand_id, ids[k % len(ids)], origin + timedelta(hours=k // len(ids)))
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
