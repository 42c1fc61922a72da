"""The rules of SPEC §5 in the pure core: order of checks, buffers on the right side, slot stepping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.scheduling import (
    BookingContext,
    BusyIndex,
    Interval,
    Rejection,
    SchedulingRules,
    bookable_slots,
    rejection,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DAY = datetime(2026, 12, 2, tzinfo=UTC)
HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)


def context(
    busy: list[Interval] | None = None,
    *,
    buffer: int = 15,
    advance: int = 90,
    notice: int = 0,
    windows: list[Interval] | None = None,
    bookable: bool = True,
) -> BookingContext:
    return BookingContext(
        now=NOW,
        rules=SchedulingRules(buffer_minutes=buffer, advance_booking_days=advance, min_notice_minutes=notice),
        windows=windows if windows is not None else [Interval(DAY + 9 * HOUR, DAY + 17 * HOUR)],
        busy=BusyIndex.of(busy or []),
        instructor_bookable=bookable,
    )


def booked(start: datetime, minutes: int = 60, buffer: int = 15) -> Interval:
    return Interval(start, start + timedelta(minutes=minutes + buffer))


def test_acceptable_booking() -> None:
    assert rejection(context(), DAY + 9 * HOUR, DAY + 10 * HOUR) is None


@pytest.mark.parametrize(
    ("start", "kwargs", "expected"),
    [
        (DAY + 9 * HOUR, {"bookable": False}, Rejection.INSTRUCTOR_NOT_IN_BRAND),
        (NOW, {}, Rejection.IN_THE_PAST),
        (NOW - HOUR, {}, Rejection.IN_THE_PAST),
        (NOW + 30 * MIN, {"notice": 60}, Rejection.TOO_SOON),
        (DAY + 9 * HOUR, {"advance": 1}, Rejection.BEYOND_BOOKING_WINDOW),
        (DAY + 16 * HOUR + 30 * MIN, {}, Rejection.OUTSIDE_AVAILABILITY),
        (DAY + 8 * HOUR, {}, Rejection.OUTSIDE_AVAILABILITY),
    ],
)
def test_each_rule_names_its_error(start: datetime, kwargs: dict[str, int], expected: Rejection) -> None:
    assert rejection(context(**kwargs), start, start + HOUR) == expected  # type: ignore[arg-type]


def test_rules_are_checked_in_order() -> None:
    # In the past, outside availability and overlapping at once: the first rule wins.
    ctx = context([booked(NOW - HOUR)], windows=[])
    assert rejection(ctx, NOW - 30 * MIN, NOW + 30 * MIN) == Rejection.IN_THE_PAST
    assert rejection(context(notice=2000, advance=1), DAY + 9 * HOUR, DAY + 10 * HOUR) == Rejection.TOO_SOON


def test_notice_edge_is_inclusive() -> None:
    ctx = context(notice=60, windows=[Interval(NOW, NOW + 5 * HOUR)])
    assert rejection(ctx, NOW + 60 * MIN, NOW + 120 * MIN) is None
    assert rejection(ctx, NOW + 59 * MIN, NOW + 119 * MIN) == Rejection.TOO_SOON


def test_advance_edge_is_inclusive() -> None:
    edge = NOW + timedelta(days=1)
    ctx = context(advance=1, windows=[Interval(edge - HOUR, edge + 2 * HOUR)])
    assert rejection(ctx, edge, edge + HOUR) is None
    assert rejection(ctx, edge + MIN, edge + HOUR + MIN) == Rejection.BEYOND_BOOKING_WINDOW


def test_existing_bookings_own_buffer_blocks_after_it() -> None:
    ctx = context([booked(DAY + 9 * HOUR, buffer=30)], buffer=0)
    assert rejection(ctx, DAY + 10 * HOUR + 15 * MIN, DAY + 11 * HOUR) == Rejection.SLOT_UNAVAILABLE
    assert rejection(ctx, DAY + 10 * HOUR + 30 * MIN, DAY + 11 * HOUR + 30 * MIN) is None


def test_new_bookings_buffer_blocks_before_the_next_one() -> None:
    ctx = context([booked(DAY + 11 * HOUR, buffer=0)], buffer=20)
    assert (
        rejection(ctx, DAY + 10 * HOUR - 10 * MIN, DAY + 10 * HOUR + 50 * MIN) == Rejection.SLOT_UNAVAILABLE
    )
    assert rejection(ctx, DAY + 10 * HOUR - 20 * MIN, DAY + 10 * HOUR + 40 * MIN) is None


def test_buffer_is_not_applied_before_a_booking() -> None:
    # The new session may end right where an existing one starts if the new brand has no buffer.
    ctx = context([booked(DAY + 11 * HOUR)], buffer=0)
    assert rejection(ctx, DAY + 10 * HOUR, DAY + 11 * HOUR) is None


def test_long_busy_interval_found_behind_short_ones() -> None:
    busy = [Interval(DAY + 9 * HOUR, DAY + 16 * HOUR), Interval(DAY + 10 * HOUR, DAY + 10 * HOUR + MIN)]
    assert rejection(context(busy), DAY + 14 * HOUR, DAY + 15 * HOUR) == Rejection.SLOT_UNAVAILABLE


def test_slots_step_by_duration_from_window_start_and_skip_busy() -> None:
    windows = [Interval(DAY + 9 * HOUR + 10 * MIN, DAY + 12 * HOUR + 30 * MIN)]
    ctx = context([booked(DAY + 10 * HOUR + 40 * MIN, minutes=30, buffer=0)], buffer=0, windows=windows)
    slots = bookable_slots(ctx, 45 * MIN, DAY, DAY + 24 * HOUR)
    assert [s.start.strftime("%H:%M") for s in slots] == ["09:10", "09:55", "11:25"]
    assert all(s.end - s.start == 45 * MIN for s in slots)


def test_slots_are_limited_to_the_range() -> None:
    slots = bookable_slots(context(buffer=0), HOUR, DAY + 10 * HOUR, DAY + 12 * HOUR)
    assert [s.start.hour for s in slots] == [10, 11]
