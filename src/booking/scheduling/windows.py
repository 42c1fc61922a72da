"""Weekly rules and date overrides in an IANA zone -> availability windows as UTC intervals.

Local wall times become instants with PEP 495 `fold=0`: a time in a spring-forward gap moves forward by
the gap, an ambiguous time in the autumn overlap is its first occurrence. `24:00` (minute 1440) is the
next local midnight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
ONE_DAY = timedelta(days=1)


class Interval(NamedTuple):
    """A half-open interval [start, end) of aware UTC instants.

    A named tuple rather than a frozen dataclass: a slot list builds hundreds, and a frozen
    dataclass's `__init__` costs several times a tuple's. Ordered by (start, end), as before."""

    start: datetime
    end: datetime

    def holds(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class WeeklyWindow:
    weekday: int  # 0 = Sunday .. 6 = Saturday, as in the contract
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class DateOverride:
    date: date
    kind: Literal["blocked", "custom"]
    start_minute: int | None = None
    end_minute: int | None = None


def contract_weekday(day: date) -> int:
    """0 = Sunday .. 6 = Saturday (Python's own weekday() starts at Monday)."""
    return day.isoweekday() % 7


@lru_cache(maxsize=16384)
def local_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of local wall time `minute` after midnight of `day`, fold=0.

    Cached: a pure function of its arguments (ZoneInfo instances are shared per key), and the same
    dates of the same zones come back with every slot list of a booking page."""
    day, minute = (day + ONE_DAY, 0) if minute == MINUTES_PER_DAY else (day, minute)
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return wall.astimezone(UTC)


def local_day_bounds(day: date, zone: ZoneInfo) -> Interval:
    """The instants that belong to local date `day`; empty for a date the zone skipped."""
    return Interval(local_instant(day, 0, zone), local_instant(day + ONE_DAY, 0, zone))


def monday_of(day: date) -> date:
    """The Monday that starts the (Monday-to-Sunday) week of `day`."""
    return day - timedelta(days=day.weekday())


def local_weeks_around(start: datetime, end: datetime, zone: ZoneInfo) -> Interval:
    """From local Monday 00:00 of the week of `start` to the Monday 00:00 after the week of `end`."""
    first = monday_of(start.astimezone(zone).date())
    last = monday_of(end.astimezone(zone).date()) + 7 * ONE_DAY
    return Interval(local_instant(first, 0, zone), local_instant(last, 0, zone))


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += ONE_DAY


def local_dates_around(start: datetime, end: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """Local dates whose windows can touch [start, end], with a day of margin for joined windows."""
    return start.astimezone(zone).date() - ONE_DAY, end.astimezone(zone).date() + ONE_DAY


def _day_minutes(
    day: date, weekly: Sequence[WeeklyWindow], overrides: dict[date, list[DateOverride]]
) -> list[tuple[int, int]]:
    """The local (start, end) minutes of one date: its overrides if it has any, else its weekly rules."""
    if day in overrides:
        return [
            (o.start_minute, o.end_minute)
            for o in overrides[day]
            if o.kind == "custom" and o.start_minute is not None and o.end_minute is not None
        ]
    weekday = contract_weekday(day)
    return [(w.start_minute, w.end_minute) for w in weekly if w.weekday == weekday]


def availability_windows(
    weekly: Sequence[WeeklyWindow],
    overrides: Iterable[DateOverride],
    zone: ZoneInfo,
    first: date,
    last: date,
) -> list[Interval]:
    """Joined availability windows, as UTC intervals, of the local dates `first`..`last`."""
    by_date: dict[date, list[DateOverride]] = {}
    for override in overrides:
        by_date.setdefault(override.date, []).append(override)
    raw: list[Interval] = []
    for day in days(first, last):
        minutes = _day_minutes(day, weekly, by_date)
        if not minutes:
            continue
        bounds = local_day_bounds(day, zone)
        for start_minute, end_minute in minutes:
            # Clipping to the day's own instants keeps a skipped date (Pacific/Apia 2011-12-30) empty
            # instead of mapping it onto the next day's wall times.
            start = max(local_instant(day, start_minute, zone), bounds.start)
            end = min(local_instant(day, end_minute, zone), bounds.end)
            if start < end:
                raw.append(Interval(start, end))
    return merge(raw)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Join intervals that touch or overlap; the result is sorted and disjoint."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=attrgetter("start", "end")):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def weekly_occurrences(first: Interval, zone: ZoneInfo, count: int, every_weeks: int) -> list[Interval]:
    """`count` sessions at `first`'s local wall-clock time in `zone`, on the local dates `first`'s date
    + 7 * `every_weeks` * k, each as long as `first`: 18:00 stays 18:00 across a DST change, and a time
    a change skips moves forward as a booking's would. Any two are at least a week apart, so no two fall
    on one local day or week, or overlap (a session and its buffer last at most a day)."""
    local = first.start.astimezone(zone)
    minute = local.hour * 60 + local.minute
    length = first.end - first.start
    occurrences = []
    for k in range(count):
        start = local_instant(local.date() + timedelta(days=7 * every_weeks * k), minute, zone)
        occurrences.append(Interval(start, start + length))
    return occurrences
