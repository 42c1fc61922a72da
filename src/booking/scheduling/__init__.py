"""The scheduling core: pure functions of rules, time zones and `now`. No I/O, no ORM, no clock."""

from booking.scheduling.rules import (
    BookingContext,
    BusyIndex,
    Rejection,
    SchedulingRules,
    SessionCounts,
    StudentPending,
    bookable_slots,
    rejection,
)
from booking.scheduling.windows import (
    DateOverride,
    Interval,
    WeeklyWindow,
    availability_windows,
    local_dates_around,
    local_day_bounds,
    local_weeks_around,
    merge,
    monday_of,
    weekly_occurrences,
)

__all__ = [
    "BookingContext",
    "BusyIndex",
    "DateOverride",
    "Interval",
    "Rejection",
    "SchedulingRules",
    "SessionCounts",
    "StudentPending",
    "WeeklyWindow",
    "availability_windows",
    "bookable_slots",
    "local_dates_around",
    "local_day_bounds",
    "local_weeks_around",
    "merge",
    "monday_of",
    "rejection",
    "weekly_occurrences",
]
