"""The scheduling core: pure functions of rules, time zones and `now`. No I/O, no ORM, no clock."""

from booking.scheduling.rules import (
    BookingContext,
    BusyIndex,
    Rejection,
    SchedulingRules,
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
    merge,
)

__all__ = [
    "BookingContext",
    "BusyIndex",
    "DateOverride",
    "Interval",
    "Rejection",
    "SchedulingRules",
    "WeeklyWindow",
    "availability_windows",
    "bookable_slots",
    "local_dates_around",
    "local_day_bounds",
    "merge",
    "rejection",
]
