"""The booking rules of SPEC §5 and §10, one implementation answering two questions.

`rejection` says whether one booking is acceptable and, if not, which rule fails first;
`bookable_slots` lists the aligned starts that `rejection` accepts. It applies the same rules to the
candidates in one ascending pass (a 90-day list has hundreds, and a binary search of the busy time for
each cost more than the rest of the call): the property tests hold it equal to `rejection` asked
candidate by candidate, over every rule, so what is listed is bookable and nothing else is.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from operator import attrgetter
from zoneinfo import ZoneInfo

from booking.enums import ErrorCode
from booking.scheduling.windows import Interval, monday_of


class Rejection(StrEnum):
    """Why a booking is refused, in the order the rules are checked; each is its error code."""

    INSTRUCTOR_NOT_IN_BRAND = ErrorCode.INSTRUCTOR_NOT_IN_BRAND
    IN_THE_PAST = ErrorCode.IN_THE_PAST
    TOO_SOON = ErrorCode.TOO_SOON
    BEYOND_BOOKING_WINDOW = ErrorCode.BEYOND_BOOKING_WINDOW
    OUTSIDE_AVAILABILITY = ErrorCode.OUTSIDE_AVAILABILITY
    SLOT_UNAVAILABLE = ErrorCode.SLOT_UNAVAILABLE
    BOOKING_LIMIT_REACHED = ErrorCode.BOOKING_LIMIT_REACHED
    TOO_MANY_PENDING_BOOKINGS = ErrorCode.TOO_MANY_PENDING_BOOKINGS


@dataclass(frozen=True)
class SchedulingRules:
    buffer_minutes: int = 15
    advance_booking_days: int = 90
    min_notice_minutes: int = 0
    max_bookings_per_day: int | None = None
    max_bookings_per_week: int | None = None
    slot_interval_minutes: int | None = None  # the step of the slot list; None: the session's length

    @property
    def capped(self) -> bool:
        return self.max_bookings_per_day is not None or self.max_bookings_per_week is not None

    @property
    def buffer(self) -> timedelta:
        return timedelta(minutes=self.buffer_minutes)


@dataclass(frozen=True)
class BusyIndex:
    """Active bookings of the instructor in every brand, as [starts_at, blocked_until) intervals.

    Sorted by start with a running maximum of the ends, so "does anything overlap [s, e)?" is one
    binary search however many bookings there are.
    """

    starts: tuple[datetime, ...] = ()
    max_end_through: tuple[datetime, ...] = ()

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> BusyIndex:
        ordered = sorted(intervals, key=attrgetter("start"))
        running: list[datetime] = []
        for interval in ordered:
            running.append(max(running[-1], interval.end) if running else interval.end)
        return cls(tuple(i.start for i in ordered), tuple(running))

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether some busy interval [s', e') meets [start, end): s' < end and start < e'."""
        count = bisect.bisect_left(self.starts, end)
        return count > 0 and self.max_end_through[count - 1] > start


@dataclass(frozen=True)
class SessionCounts:
    """The instructor's counted bookings in one brand (pending holds not expired, and confirmed),
    by the instructor-local date of their start and by its Monday-to-Sunday week."""

    zone: ZoneInfo
    by_day: Counter[date]
    by_week: Counter[date]  # keyed by the week's Monday

    @classmethod
    def of(cls, starts: Iterable[datetime], zone: ZoneInfo) -> SessionCounts:
        local_dates = [start.astimezone(zone).date() for start in starts]
        return cls(zone, Counter(local_dates), Counter(monday_of(day) for day in local_dates))

    def at_cap(self, start: datetime, rules: SchedulingRules) -> bool:
        """Whether one more booking starting at `start` would pass a cap."""
        day = start.astimezone(self.zone).date()
        per_day, per_week = rules.max_bookings_per_day, rules.max_bookings_per_week
        return (per_day is not None and self.by_day[day] >= per_day) or (
            per_week is not None and self.by_week[monday_of(day)] >= per_week
        )


@dataclass(frozen=True)
class StudentPending:
    """The student's pending bookings (holds not expired) in the brand, and the brand's cap."""

    count: int = 0
    cap: int | None = None

    @property
    def at_cap(self) -> bool:
        return self.cap is not None and self.count >= self.cap


@dataclass(frozen=True)
class BookingContext:
    """Everything the rules need about one instructor in one brand at one moment."""

    now: datetime
    rules: SchedulingRules
    windows: Sequence[Interval]  # joined, sorted, disjoint
    busy: BusyIndex = field(default_factory=BusyIndex)
    external: BusyIndex = field(default_factory=BusyIndex)  # busy-calendar time (SPEC §13): no buffer
    instructor_bookable: bool = True  # active and linked to the brand
    counts: SessionCounts | None = None  # read only when the rules cap bookings
    student: StudentPending = field(default_factory=StudentPending)  # none for an anonymous slot list

    # Derived once per context: `rejection` runs for every candidate of a slot list.
    @cached_property
    def earliest_start(self) -> datetime:
        return self.now + timedelta(minutes=self.rules.min_notice_minutes)

    @cached_property
    def latest_start(self) -> datetime:
        return self.now + timedelta(days=self.rules.advance_booking_days)

    @cached_property
    def buffer(self) -> timedelta:
        return self.rules.buffer

    @cached_property
    def window_starts(self) -> tuple[datetime, ...]:
        return tuple(window.start for window in self.windows)

    @cached_property
    def window_ends(self) -> tuple[datetime, ...]:
        return tuple(window.end for window in self.windows)

    def inside_availability(self, start: datetime, end: datetime) -> bool:
        # Windows are disjoint: only the last one starting at or before `start` can hold the booking.
        index = bisect.bisect_right(self.window_starts, start) - 1
        return index >= 0 and end <= self.window_ends[index]


def rejection(context: BookingContext, start: datetime, end: datetime) -> Rejection | None:
    """The first rule of SPEC §5 that a booking [start, end) breaks, or None when it is acceptable."""
    if not context.instructor_bookable:
        return Rejection.INSTRUCTOR_NOT_IN_BRAND
    if start <= context.now:
        return Rejection.IN_THE_PAST
    if start < context.earliest_start:
        return Rejection.TOO_SOON
    if start > context.latest_start:
        return Rejection.BEYOND_BOOKING_WINDOW
    if not context.inside_availability(start, end):
        return Rejection.OUTSIDE_AVAILABILITY
    if context.busy.overlaps(start, end + context.buffer) or context.external.overlaps(start, end):
        return Rejection.SLOT_UNAVAILABLE
    if context.counts is not None and context.counts.at_cap(start, context.rules):
        return Rejection.BOOKING_LIMIT_REACHED
    if context.student.at_cap:
        return Rejection.TOO_MANY_PENDING_BOOKINGS
    return None


def candidate_starts(
    windows: Sequence[Interval], duration: timedelta, step: timedelta | None = None
) -> Iterable[datetime]:
    """Starts at each window's start, stepping by `step` (default: the duration), while the session fits."""
    step = step or duration
    for window in windows:
        start = window.start
        while start + duration <= window.end:
            yield start
            start += step


def bookable_slots(
    context: BookingContext, duration: timedelta, range_start: datetime, range_end: datetime
) -> list[Interval]:
    """The aligned starts in [range_start, range_end) that `rejection` accepts.

    Every candidate lies inside its window by construction (windows are disjoint), and candidates come
    in ascending order: the time bounds end the pass, and the busy time is swept, not searched."""
    if not context.instructor_bookable or context.student.at_cap:
        return []  # rules that refuse every start alike
    earliest = max(range_start, context.earliest_start)
    latest = context.latest_start
    busy, external = _Sweep(context.busy, context.buffer), _Sweep(context.external, timedelta(0))
    counts, rules, now = context.counts, context.rules, context.now
    slots = []
    interval = rules.slot_interval_minutes
    step = None if interval is None else timedelta(minutes=interval)
    for start in candidate_starts(context.windows, duration, step):
        if start < earliest or start <= now:
            continue
        if start >= range_end or start > latest:
            break
        end = start + duration
        if busy.overlaps(start, end) or external.overlaps(start, end):
            continue
        if counts is not None and counts.at_cap(start, rules):
            continue
        slots.append(Interval(start, end))
    return slots


class _Sweep:
    """`BusyIndex.overlaps(start, end + pad)` for queries whose ends never decrease: the count of busy
    intervals starting before the end only grows, so it is advanced rather than searched for."""

    __slots__ = ("count", "max_end_through", "pad", "starts", "total")

    def __init__(self, index: BusyIndex, pad: timedelta) -> None:
        self.starts, self.max_end_through, self.pad = index.starts, index.max_end_through, pad
        self.count, self.total = 0, len(index.starts)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if not self.total:
            return False
        end += self.pad
        starts, count = self.starts, self.count
        while count < self.total and starts[count] < end:
            count += 1
        self.count = count
        return count > 0 and self.max_end_through[count - 1] > start
