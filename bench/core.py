"""The pure scheduling core: 62 days of slots with five weekly windows, ten overrides, 1,000 bookings."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.scheduling import (
    BookingContext,
    BusyIndex,
    DateOverride,
    Interval,
    SchedulingRules,
    WeeklyWindow,
    availability_windows,
    bookable_slots,
)

ZONE = ZoneInfo("America/New_York")
FIRST = date(2027, 3, 1)  # the range crosses the spring-forward day
DAYS = 62


def scenario(seed: int = 7) -> tuple[list[WeeklyWindow], list[DateOverride], list[Interval]]:
    rng = random.Random(seed)
    weekly = [WeeklyWindow(weekday, 9 * 60, 17 * 60) for weekday in range(1, 6)]
    override_days = rng.sample(range(DAYS), 10)
    overrides = [
        DateOverride(FIRST + timedelta(days=d), "blocked")
        if i % 2
        else DateOverride(FIRST + timedelta(days=d), "custom", 10 * 60, 14 * 60)
        for i, d in enumerate(override_days)
    ]
    origin = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC)
    busy = []
    for _ in range(1000):
        start = origin + timedelta(minutes=rng.randrange(0, DAYS * 1440, 15))
        busy.append(Interval(start, start + timedelta(minutes=75)))
    return weekly, overrides, busy


def one_call(weekly: list[WeeklyWindow], overrides: list[DateOverride], busy: list[Interval]) -> int:
    """What the slots endpoint does after its queries: windows, busy index, slots."""
    now = datetime(2027, 2, 28, tzinfo=UTC)
    windows = availability_windows(
        weekly, overrides, ZONE, FIRST - timedelta(days=1), FIRST + timedelta(days=DAYS)
    )
    context = BookingContext(
        now=now,
        rules=SchedulingRules(buffer_minutes=15, advance_booking_days=365),
        windows=windows,
        busy=BusyIndex.of(busy),
    )
    start = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=ZONE).astimezone(UTC)
    return len(bookable_slots(context, timedelta(minutes=60), start, start + timedelta(days=DAYS)))


def run(repeat: int = 200) -> dict[str, Any]:
    weekly, overrides, busy = scenario()
    for _ in range(10):
        one_call(weekly, overrides, busy)
    timings = []
    slots = 0
    for _ in range(repeat):
        started = time.perf_counter()
        slots = one_call(weekly, overrides, busy)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "benchmark": "core_slots_62_days",
        "calls": repeat,
        "slots_per_call": slots,
        "median_ms": round(statistics.median(timings), 3),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 3),
        "target_ms": 5.0,
    }
