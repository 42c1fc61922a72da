"""Why a time is not bookable: every booking rule a session breaks, not only the first.

`rejection` answers booking creation, which stops at the first rule that fails; `rejections` judges the
same `BookingContext` and lists every rule that fails, in rule order, so that its first element is
always `rejection`'s answer and it is empty exactly when `rejection` accepts (the property tests hold
the two equal). What blocks is read off the same context: the cap reached and its count, and the
availability windows of the session's local date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from booking.scheduling.rules import BookingContext, Rejection
from booking.scheduling.windows import Interval, local_day_bounds, monday_of

# The words of each refusal, as booking creation answers them (`bookings.errors.REJECTIONS` says the
# same; a test holds the two equal). Here, below both rooms, so that availability need not reach up.
MESSAGES: dict[Rejection, str] = {
    Rejection.INSTRUCTOR_NOT_IN_BRAND: "the instructor does not take bookings in this brand",
    Rejection.IN_THE_PAST: "the start is not in the future",
    Rejection.TOO_SOON: "the start is inside the instructor's minimum notice",
    Rejection.BEYOND_BOOKING_WINDOW: "the start is beyond the advance booking window",
    Rejection.OUTSIDE_AVAILABILITY: "the session is outside the instructor's availability",
    Rejection.SLOT_UNAVAILABLE: "the time is taken (another booking or its buffer)",
    Rejection.BOOKING_LIMIT_REACHED: "the instructor takes no more bookings that day or week in this brand",
    Rejection.TOO_MANY_PENDING_BOOKINGS: (
        "the student has as many unpaid bookings in this brand as it allows; pay or cancel one first"
    ),
}


def rejections(context: BookingContext, start: datetime, end: datetime) -> list[Rejection]:
    """Every rule a booking [start, end) breaks, in rule order; [] when `rejection` accepts it.

    An instructor who takes no bookings in the brand is the whole answer: no other rule applies."""
    if not context.instructor_bookable:
        return [Rejection.INSTRUCTOR_NOT_IN_BRAND]
    broken = {
        Rejection.IN_THE_PAST: start <= context.now,
        Rejection.TOO_SOON: start < context.earliest_start,
        Rejection.BEYOND_BOOKING_WINDOW: start > context.latest_start,
        Rejection.OUTSIDE_AVAILABILITY: not context.inside_availability(start, end),
        Rejection.SLOT_UNAVAILABLE: context.busy.overlaps(start, end + context.buffer)
        or context.external.overlaps(start, end),
        Rejection.BOOKING_LIMIT_REACHED: limit_reached(context, start) is not None,
        Rejection.TOO_MANY_PENDING_BOOKINGS: context.student.at_cap,
    }
    return [reason for reason in Rejection if broken.get(reason, False)]


@dataclass(frozen=True)
class LimitReached:
    """The cap one more booking would pass: the day's first, then the week's; `count` the bookings
    already counted in that local day or Monday-to-Sunday week, not the one asked about."""

    period: Literal["day", "week"]
    limit: int
    count: int


def limit_reached(context: BookingContext, start: datetime) -> LimitReached | None:
    """Which cap a booking starting at `start` would pass (as `SessionCounts.at_cap` judges), if any."""
    counts, rules = context.counts, context.rules
    if counts is None:
        return None
    day = start.astimezone(counts.zone).date()
    per_day, per_week = rules.max_bookings_per_day, rules.max_bookings_per_week
    if per_day is not None and counts.by_day[day] >= per_day:
        return LimitReached("day", per_day, counts.by_day[day])
    week = monday_of(day)
    if per_week is not None and counts.by_week[week] >= per_week:
        return LimitReached("week", per_week, counts.by_week[week])
    return None


def day_windows(context: BookingContext, start: datetime, zone: ZoneInfo) -> list[Interval]:
    """The availability windows of the local date (in `zone`) of `start`, as UTC intervals, joined.

    The context's windows are the joined windows of the dates around the session, each date's clipped
    to its own instants: cut back to one date's instants, they are that date's windows, joined."""
    bounds = local_day_bounds(start.astimezone(zone).date(), zone)
    return [
        Interval(max(window.start, bounds.start), min(window.end, bounds.end))
        for window in context.windows
        if window.overlaps(bounds.start, bounds.end)
    ]
