"""The ceiling: the service's booking transaction issued straight through asyncpg, no HTTP, no framework.

The same statements, compiled from the service's own definitions (booking.driver's hot statements),
in the same order, as one POST /api/bookings on PostgreSQL with providers unconfigured and no caps:
the instructor with the share-locked link and the brand's settings, the weekly rules and overrides,
the busy time (bookings and busy-calendar time in one read), the insert of the booking, of its
`booking.created` event and of its three `skipped` notification_log rows, commit.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from bench.harness import percentile, seed, server, tomorrow_midnight
from booking.availability.repository import BUSY, INSTRUCTOR_LINKED_FOR_BOOKING, RULES
from booking.bookings.repository import BOOKING_COLUMNS, INSERT_BOOKING
from booking.calendars.parsing import PIECE
from booking.driver import Compiled, HotStatement
from booking.events import INSERT_EVENT
from booking.notifications.repository import INSERT_LOG_ROW
from booking.types import LONGEST_BLOCK

DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


def _compiled(statement: HotStatement) -> Compiled:
    return statement.compiled(DIALECT)


def _booking_row(brand: uuid.UUID, instructor: uuid.UUID, start: datetime, now: datetime) -> dict[str, Any]:
    end = start + timedelta(hours=1)
    values: dict[str, Any] = dict.fromkeys(BOOKING_COLUMNS)
    values |= {
        "id": uuid.uuid4(),
        "brand_id": brand,
        "instructor_id": instructor,
        "student_id": uuid.uuid4(),
        "status": "pending",
        "payment_status": "unpaid",
        "starts_at": start,
        "ends_at": end,
        "blocked_until": end,
        "buffer_minutes": 0,
        "student_timezone": "UTC",
        "instructor_timezone": "UTC",
        "student_email": "s@example.com",
        "hold_expires_at": now + timedelta(minutes=30),
        "refund_due": False,
        "reschedule_count": 0,
        "calendar_sequence": 0,
        "created_by": "bench",
        "created_at": now,
        "updated_at": now,
    }
    return values


def _log_rows(booking_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
    outcomes = [
        ("email", "booking_created", "s@example.com", "resend_not_configured"),
        ("sms", "booking_created", None, "no_phone"),
        ("email", "booking_created_instructor", "c@example.com", "resend_not_configured"),
    ]
    return [
        {
            "id": uuid.uuid4(),
            "booking_id": booking_id,
            "channel": channel,
            "kind": kind,
            "recipient": recipient,
            "status": "skipped",
            "provider_message_id": None,
            "error": error,
            "created_at": now,
        }
        for channel, kind, recipient, error in outcomes
    ]


async def book(
    connection: asyncpg.Connection, brand: uuid.UUID, instructor: uuid.UUID, start: datetime
) -> None:
    end = start + timedelta(hours=1)
    now = datetime.now(start.tzinfo)
    linked, rules, busy = _compiled(INSTRUCTOR_LINKED_FOR_BOOKING), _compiled(RULES), _compiled(BUSY)
    booking, event, log = _compiled(INSERT_BOOKING), _compiled(INSERT_EVENT), _compiled(INSERT_LOG_ROW)
    ids = {"instructor_id": instructor, "brand_id": brand}
    span = {"since": start, "until": end, "earliest": start - LONGEST_BLOCK, "earliest_piece": start - PIECE}
    async with connection.transaction():
        await connection.fetchrow(linked.sql, *linked.values(ids))
        days = {"first": start.date() - timedelta(days=1), "last": end.date()}
        await connection.fetch(rules.sql, *rules.values(ids | days))
        await connection.fetch(busy.sql, *busy.values(ids | span | {"now": now}))
        row = _booking_row(brand, instructor, start, now)
        await connection.execute(booking.sql, *booking.values(row))
        created = {
            "id": uuid.uuid4(),
            "type": "booking.created",
            "brand_id": brand,
            "booking_id": row["id"],
            "data": json.dumps({"booking": {"id": str(row["id"])}}),
            "created_at": now,
            "dispatched_at": None,
        }
        await connection.executemany(event.sql, [event.values(created)])
        await connection.executemany(log.sql, [log.values(entry) for entry in _log_rows(row["id"], now)])


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
