"""Property tests of the "why not?" list: over the same random contexts as the slot list's, every rule
`rejections` names fails, its first is `rejection()`'s answer, and it is empty exactly when that accepts;
the cap's details and the day's windows agree with the rules that judged them."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.scheduling import (
    BookingContext,
    BusyIndex,
    DateOverride,
    Interval,
    Rejection,
    SchedulingRules,
    StudentPending,
    WeeklyWindow,
    availability_windows,
    local_day_bounds,
    rejection,
)
from booking.scheduling.explain import day_windows, limit_reached, rejections
from tests.scheduling.test_properties import FIRST_DAYS, SPAN_DAYS, ZONES, local_window, scenario

ORDER = list(Rejection)
Case = tuple[BookingContext, list[Interval], timedelta, ZoneInfo, date]


@settings(max_examples=1000, deadline=None)
@given(scenario(), st.integers(-2 * 1440, SPAN_DAYS * 1440), st.booleans())
def test_the_first_reason_is_rejections_and_none_means_bookable(
    case: Case, offset: int, on_grid: bool
) -> None:
    context, _, duration, _, first = case
    origin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    # Starts on the hour's quarters meet window edges, bookings and `now` often; any minute too.
    start = origin + timedelta(minutes=offset - offset % 15 if on_grid else offset)
    end = start + duration
    reasons = rejections(context, start, end)
    first_reason = rejection(context, start, end)
    assert (reasons[0] if reasons else None) == first_reason
    assert [ORDER.index(r) for r in reasons] == sorted({ORDER.index(r) for r in reasons}), "rule order"
    if Rejection.INSTRUCTOR_NOT_IN_BRAND in reasons:
        assert reasons == [Rejection.INSTRUCTOR_NOT_IN_BRAND], "it ends the list"
    # Each rule is named exactly when it fails on its own: judged with every other rule out of its way.
    if context.instructor_bookable:
        for reason in ORDER[1:]:
            alone = rejection(_only(context, reason, start, end), start, end)
            assert (alone == reason) == (reason in reasons), reason
    # The cap's details: a cap is named exactly when the rule fails, the day's first.
    limit = limit_reached(context, start)
    assert (limit is not None) == (context.counts is not None and context.counts.at_cap(start, context.rules))
    if limit is not None:
        assert limit.count >= limit.limit
        assert limit.limit == getattr(context.rules, f"max_bookings_per_{limit.period}")


FAR = 10_000  # days: an advance window nothing reaches beyond


def _only(context: BookingContext, reason: Rejection, start: datetime, end: datetime) -> BookingContext:
    """The context with every rule but `reason`'s made to pass for [start, end)."""
    now, rules = (
        start - timedelta(minutes=1),
        replace(context.rules, min_notice_minutes=0, advance_booking_days=FAR),
    )
    if reason in (Rejection.IN_THE_PAST, Rejection.BEYOND_BOOKING_WINDOW):
        now = context.now
        if reason == Rejection.BEYOND_BOOKING_WINDOW:
            rules = replace(rules, advance_booking_days=context.rules.advance_booking_days)
    elif reason == Rejection.TOO_SOON:
        # Now moved back before the start by whole minutes, the notice lengthened as much: the same
        # earliest start, and a start that is not in the past.
        back = max(0, -(-(context.now - start) // timedelta(minutes=1)) + 1)
        now = context.now - timedelta(minutes=back)
        rules = replace(rules, min_notice_minutes=context.rules.min_notice_minutes + back)
    return BookingContext(
        now=now,
        rules=rules,
        windows=context.windows if reason == Rejection.OUTSIDE_AVAILABILITY else [Interval(start, end)],
        busy=context.busy if reason == Rejection.SLOT_UNAVAILABLE else BusyIndex(),
        external=context.external if reason == Rejection.SLOT_UNAVAILABLE else BusyIndex(),
        counts=context.counts if reason == Rejection.BOOKING_LIMIT_REACHED else None,
        student=context.student if reason == Rejection.TOO_MANY_PENDING_BOOKINGS else StudentPending(),
    )


@st.composite
def schedule(draw: st.DrawFn) -> tuple[list[WeeklyWindow], list[DateOverride], ZoneInfo, date]:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    first = draw(st.sampled_from(FIRST_DAYS))
    weekly = [
        WeeklyWindow(draw(st.integers(0, 6)), *draw(local_window())) for _ in range(draw(st.integers(0, 8)))
    ]
    overrides = []
    for offset in draw(st.sets(st.integers(0, SPAN_DAYS - 1), max_size=4)):
        day = first + timedelta(days=offset)
        if draw(st.booleans()):
            overrides.append(DateOverride(day, "blocked"))
        else:
            overrides.extend(
                DateOverride(day, "custom", *draw(local_window())) for _ in range(draw(st.integers(1, 3)))
            )
    return weekly, overrides, zone, first


@settings(max_examples=500, deadline=None)
@given(schedule(), st.integers(1, SPAN_DAYS - 2), st.integers(0, 1439))
def test_a_days_windows_are_that_dates_own_joined(
    case: tuple[list[WeeklyWindow], list[DateOverride], ZoneInfo, date], day_offset: int, minute: int
) -> None:
    """Cut from the joined windows around a session (as a booking reads them), a date's windows are
    exactly those of the date alone, joined, whatever joins them across midnight."""
    weekly, overrides, zone, first = case
    last = first + timedelta(days=SPAN_DAYS - 1)
    context = BookingContext(
        now=datetime(2000, 1, 1, tzinfo=UTC),
        rules=SchedulingRules(),
        windows=availability_windows(weekly, overrides, zone, first, last),
    )
    day = first + timedelta(days=day_offset)
    bounds = local_day_bounds(day, zone)
    if bounds.start >= bounds.end:
        return  # a date the zone skipped
    start = min(bounds.start + timedelta(minutes=minute), bounds.end - timedelta(minutes=1))
    windows = day_windows(context, start, zone)
    assert windows == availability_windows(weekly, overrides, zone, day, day)
    for earlier, later in itertools.pairwise(windows):
        assert earlier.end < later.start, "joined: sorted, disjoint, never touching"
    # Outside availability is never inside one of the date's windows.
    if not context.inside_availability(start, start + timedelta(minutes=30)):
        assert not any(w.start <= start and start + timedelta(minutes=30) <= w.end for w in windows)
