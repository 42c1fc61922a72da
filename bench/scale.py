"""`python -m bench scale`: the hot calls through HTTP with no history and with 1,005,000 bookings.

The history: one brand, 2,000 instructors with 500 bookings each, one every 36 hours: 450 in the past
(mostly completed, some cancelled or no-show, a few left pending or confirmed), 50 to come (pending,
confirmed, cancelled). The instructor the calls are made for also has 5,000 older sessions.
tests/test_query_plans.py loads the same shape with 200 instructors (105,000 bookings).

Two PostgreSQL databases, each served by its own one-process `booking serve`: one holds only the
bench's own 151 bookings, the other also the history (analysed). Every call is made on both sides in
turn, so that the load of this shared machine falls on both figures alike; the ratio is the result.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from bench.harness import (
    MON_FRI_9_TO_17,
    SERVICE,
    Seeded,
    database,
    percentile,
    seed,
    server,
    student_headers,
    tomorrow_midnight,
)

INSTRUCTORS = 200  # the plan tests' history
BENCH_INSTRUCTORS = 2_000  # the benchmark's: a million bookings
PER_INSTRUCTOR = 500
PAST_PER_INSTRUCTOR = 450
LONG_HISTORY = 5_000
SPACING = timedelta(hours=36)
LONG_SPACING = timedelta(hours=6)

INSTRUCTORS_SQL = """
WITH made AS (
    INSERT INTO instructors (id, user_id, name, email, phone, timezone, active, created_at)
    SELECT gen_random_uuid(), NULL, 'Coach ' || n, 'coach' || n || '@example.com', NULL, 'UTC', true, $2
    FROM generate_series(1, $3) AS n
    RETURNING id
)
INSERT INTO instructors_brands (instructor_id, brand_id, created_at, unlinked_at)
SELECT id, $1, $2, NULL FROM made
RETURNING instructor_id
"""

# Booking k of the n-th instructor starts at $first + k * $spacing + (n mod 24) hours; its status
# follows from where that lies against $now. Past sessions that were held had their reminder sent.
HISTORY_SQL = """
WITH planned AS (
    SELECT instructor.id AS instructor_id, instructor.n, k,
           $3::timestamptz + k * $5::interval + (instructor.n % 24) * interval '1 hour' AS starts_at
    FROM unnest($2::uuid[]) WITH ORDINALITY AS instructor(id, n), generate_series(0, $4 - 1) AS k
), judged AS (
    SELECT *, CASE
        WHEN starts_at < $6 THEN CASE
            WHEN (k + n) % 20 = 0 THEN 'cancelled' WHEN (k + n) % 20 = 1 THEN 'no_show'
            WHEN (k + n) % 100 = 2 THEN 'confirmed' WHEN (k + n) % 100 = 3 THEN 'pending'
            ELSE 'completed' END
        ELSE CASE WHEN (k + n) % 10 = 0 THEN 'cancelled' WHEN (k + n) % 3 = 0 THEN 'pending'
            ELSE 'confirmed' END
    END AS status,
    least(starts_at - ((k * 7) % 30 + 1) * interval '1 day',
          $6::timestamptz - ((k * 13 + n) % 500 + 1) * interval '1 minute') AS created_at
    FROM planned
)
INSERT INTO bookings (
    id, brand_id, instructor_id, student_id, status, payment_status, starts_at, ends_at,
    blocked_until, buffer_minutes, student_timezone, instructor_timezone, student_name,
    student_email, student_phone, instructor_notes, cancellation_reason, reminder_claimed_at,
    created_by, created_at, updated_at
)
SELECT gen_random_uuid(), $1, instructor_id, gen_random_uuid(), status,
       CASE WHEN status IN ('completed', 'confirmed') THEN 'paid' ELSE 'unpaid' END,
       starts_at, starts_at + interval '60 minutes', starts_at + interval '75 minutes', 15,
       'Europe/Berlin', 'UTC', 'Student ' || k, 'student@example.com', NULL, NULL, NULL,
       CASE WHEN starts_at < $6 AND status <> 'cancelled' THEN starts_at - interval '1 day' END,
       'service', created_at, greatest(created_at, least(starts_at + interval '1 hour', $6))
FROM judged
"""


# One busy calendar per instructor with one busy hour a day (12:00-13:00 UTC) from 400 days back: 100,000
# rows of busy time over 200 instructors, as many as their bookings.
BUSY_PER_INSTRUCTOR = 500
BUSY_SQL = """
WITH calendars AS (
    INSERT INTO busy_calendars (id, instructor_id, url, position, created_at, busy_count, next_sync_at)
    SELECT gen_random_uuid(), id, 'https://calendar.example.com/' || id || '.ics', 0, $1::timestamptz, $2,
           $1::timestamptz + interval '10 minutes'
    FROM instructors
    RETURNING id, instructor_id
)
INSERT INTO busy_intervals (calendar_id, instructor_id, starts_at, ends_at)
SELECT calendars.id, calendars.instructor_id, $3::timestamptz + k * interval '1 day',
       $3::timestamptz + k * interval '1 day' + interval '1 hour'
FROM calendars, generate_series(0, $2 - 1) AS k
"""


async def load_busy_time(connection: asyncpg.Connection, now: datetime) -> int:
    """Busy-calendar time for every instructor (SPEC §13); answers the rows of busy time."""
    first = datetime(now.year, now.month, now.day, 12, tzinfo=UTC) - timedelta(days=400)
    await connection.execute(BUSY_SQL, now, BUSY_PER_INSTRUCTOR, first)
    await connection.execute("ANALYZE busy_intervals")
    count: int = await connection.fetchval("SELECT count(*) FROM busy_intervals")
    return count


async def load_history(
    connection: asyncpg.Connection,
    brand_id: UUID,
    instructor_id: UUID,
    now: datetime,
    instructors: int = INSTRUCTORS,
) -> int:
    """Bookings of `instructor_id` and of `instructors` - 1 new instructors linked to `brand_id`;
    answers the count."""
    others = [row[0] for row in await connection.fetch(INSTRUCTORS_SQL, brand_id, now, instructors - 1)]
    first = now - PAST_PER_INSTRUCTOR * SPACING
    ids = [instructor_id, *others]
    await connection.execute(HISTORY_SQL, brand_id, ids, first, PER_INSTRUCTOR, SPACING, now)
    long_first = first - LONG_HISTORY * LONG_SPACING
    await connection.execute(
        HISTORY_SQL, brand_id, [instructor_id], long_first, LONG_HISTORY, LONG_SPACING, now
    )
    await connection.execute("ANALYZE bookings")
    count: int = await connection.fetchval("SELECT count(*) FROM bookings WHERE brand_id = $1", brand_id)
    return count


# --- the timed calls --------------------------------------------------------------------------------

REMINDER_KEY = "bench-reminder-key"
BOOKINGS = 150
# Within this factor of the figure without history (the target).
TARGET_RATIO = 1.2
TARGETED = {"list page (staff, 50)", "booking", "slots 62 days"}
Send = Callable[[httpx.Client, Seeded, int], httpx.Response]


@dataclass
class Side:
    """One server process on its own database: without history, or with it."""

    client: httpx.Client
    seeded: Seeded
    timings: dict[str, list[float]] = field(default_factory=dict)


def _free_starts(side: Side, first: date, days: int) -> list[str]:
    seeded = side.seeded
    params = {"brand_id": seeded.brand_id, "from": str(first), "to": str(first + timedelta(days=days - 1))}
    response = side.client.get(f"/api/instructors/{seeded.instructor_ids[0]}/slots", params=params)
    response.raise_for_status()
    return [slot["starts_at"] for slot in response.json()["slots"]]


def _timed(name: str, sides: list[Side], send: Send, calls: int, expected: int) -> None:
    """`calls` calls on each side, alternating (and which goes first), so the machine's load falls on both."""
    for side in sides:
        send(side.client, side.seeded, -1)  # warm-up
    for index in range(calls):
        for side in sides if index % 2 else reversed(sides):
            began = time.perf_counter()
            response = send(side.client, side.seeded, index)
            side.timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)
            if response.status_code != expected:
                raise RuntimeError(f"{name}: {response.status_code} {response.text}")


def _measure(sides: list[Side], starts: list[str], calls: int) -> None:
    """Bookings first (so that a list page has a page to show on both sides), then the reads."""
    student = student_headers()
    first = tomorrow_midnight().date()
    week = (starts[0], (datetime.fromisoformat(starts[0]) + timedelta(days=7)).isoformat())
    reminders = {"x-booking-reminder-key": REMINDER_KEY}

    def book(client: httpx.Client, seeded: Seeded, index: int) -> httpx.Response:
        body = {"brand_id": seeded.brand_id, "instructor_id": seeded.instructor_ids[0]}
        body |= {"starts_at": starts[index + 1], "student_timezone": "UTC"}
        return client.post("/api/bookings", json=body, headers=student)

    def listed(client: httpx.Client, seeded: Seeded, _: int, **extra: str) -> httpx.Response:
        params = {"brand_id": seeded.brand_id, "limit": "50"} | extra
        return client.get("/api/bookings", params=params, headers=SERVICE)

    def slots(client: httpx.Client, seeded: Seeded, _: int) -> httpx.Response:
        span = {"brand_id": seeded.brand_id, "from": str(first), "to": str(first + timedelta(days=61))}
        return client.get(f"/api/instructors/{seeded.instructor_ids[0]}/slots", params=span)

    def calendar(client: httpx.Client, seeded: Seeded, _: int) -> httpx.Response:
        window = {"brand_id": seeded.brand_id, "from": week[0], "to": week[1]}
        return client.get(
            f"/api/instructors/{seeded.instructor_ids[0]}/calendar", params=window, headers=SERVICE
        )

    def claim(client: httpx.Client, _: Seeded, __: int) -> httpx.Response:
        return client.post("/api/bookings/reminders", headers=reminders)

    _timed("booking", sides, book, len(starts) - 1, 201)
    _timed("list page (staff, 50)", sides, listed, calls, 200)
    _timed(
        "list page (staff, status=pending, 50)",
        sides,
        lambda client, seeded, index: listed(client, seeded, index, status="pending"),
        calls,
        200,
    )
    _timed("slots 62 days", sides, slots, calls, 200)
    _timed("calendar (7 days)", sides, calendar, calls, 200)
    # The warm-up claims whatever is due; the timed calls are a cron's usual case: nothing new.
    _timed("reminder claim", sides, claim, calls, 200)


async def _load(url: str, seeded: Seeded) -> int:
    connection = await asyncpg.connect(url)
    try:
        brand, instructor = UUID(seeded.brand_id), UUID(seeded.instructor_ids[0])
        return await load_history(connection, brand, instructor, datetime.now(UTC), BENCH_INSTRUCTORS)
    finally:
        await connection.close()


def _row(call: str, empty: list[float], full: list[float], sizes: tuple[int, int]) -> dict[str, Any]:
    ratio = statistics.median(full) / statistics.median(empty)
    targeted = call in TARGETED
    return {
        "call": call,
        "rows": f"{sizes[0]:,} / {sizes[1]:,}",
        "empty_median_ms": round(statistics.median(empty), 2),
        "empty_p95_ms": round(percentile(empty, 0.95), 2),
        "history_median_ms": round(statistics.median(full), 2),
        "history_p95_ms": round(percentile(full, 0.95), 2),
        "ratio": f"{ratio:.2f}",
        "target": f"<= {TARGET_RATIO}" if targeted else "",
        "met": ("yes" if ratio <= TARGET_RATIO else "no") if targeted else "",
    }


@contextmanager
def _side(url: str) -> Iterator[Side]:
    with server(url, extra_env={"BOOKING_REMINDER_API_KEY": REMINDER_KEY}) as base:
        seeded = seed(base, weekly=MON_FRI_9_TO_17, timezone="Europe/Berlin")
        with httpx.Client(base_url=base, timeout=30) as client:
            yield Side(client, seeded)


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Two databases, each with its own one-process server: empty, and with the history."""
    calls = 50 if quick else 200
    with (
        database("postgresql") as empty_url,
        database("postgresql") as full_url,
        _side(empty_url) as empty,
        _side(full_url) as full,
    ):
        loaded = asyncio.run(_load(full_url, full.seeded))
        # Bookings go to days 100-161: past the history's sessions to come and the slots' 62 days.
        starts = _free_starts(empty, tomorrow_midnight().date() + timedelta(days=100), 62)
        if len(starts) <= BOOKINGS:
            raise RuntimeError(f"only {len(starts)} free starts for the bookings")
        _measure([empty, full], starts[: BOOKINGS + 1], calls)
    # Bookings in each database while the reads were timed.
    sizes = (BOOKINGS + 1, loaded + BOOKINGS + 1)
    return [_row(call, empty.timings[call], full.timings[call], sizes) for call in empty.timings]
