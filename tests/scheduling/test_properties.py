"""Property tests of the scheduling core over random rules, overrides, bookings, zones and durations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.scheduling import (
    BookingContext,
    BusyIndex,
    DateOverride,
    Interval,
    SchedulingRules,
    SessionCounts,
    StudentPending,
    WeeklyWindow,
    availability_windows,
    bookable_slots,
    rejection,
)
from booking.scheduling.rules import candidate_starts

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "Pacific/Apia",
    "America/Santiago",
    "Asia/Tehran",
]
# Ranges straddle transitions in both hemispheres.
FIRST_DAYS = [date(2026, 3, 5), date(2026, 3, 26), date(2026, 4, 2), date(2026, 9, 24), date(2026, 10, 29)]
SPAN_DAYS = 10


@st.composite
def local_window(draw: st.DrawFn) -> tuple[int, int]:
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(start + 1, 1440))
    return start, end


@st.composite
def busy_time(draw: st.DrawFn, origin: datetime) -> list[Interval]:
    busy = []
    for _ in range(draw(st.integers(0, 12))):
        start = origin + timedelta(minutes=draw(st.integers(-600, SPAN_DAYS * 1440)))
        busy.append(Interval(start, start + timedelta(minutes=draw(st.integers(5, 600)))))
    return busy


@st.composite
def scenario(draw: st.DrawFn) -> tuple[BookingContext, list[Interval], timedelta, ZoneInfo, date]:
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
                DateOverride(day, "custom", *draw(local_window())) for _ in range(draw(st.integers(1, 2)))
            )
    windows = availability_windows(weekly, overrides, zone, first, first + timedelta(days=SPAN_DAYS - 1))
    origin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    busy = draw(busy_time(origin))
    external = draw(busy_time(origin))
    rules = SchedulingRules(
        buffer_minutes=draw(st.integers(0, 240)),
        advance_booking_days=draw(st.integers(1, SPAN_DAYS)),
        min_notice_minutes=draw(st.integers(0, 3000)),
        max_bookings_per_day=draw(st.none() | st.integers(0, 3)),
        max_bookings_per_week=draw(st.none() | st.integers(0, 8)),
    )
    now = origin + timedelta(minutes=draw(st.integers(-1440, 3 * 1440)))
    counts = None
    if rules.capped:  # the instructor's counted sessions in the brand, as the service reads them
        counts = SessionCounts.of([interval.start for interval in busy if draw(st.booleans())], zone)
    context = BookingContext(
        now=now,
        rules=rules,
        windows=windows,
        busy=BusyIndex.of(busy),
        external=BusyIndex.of(external),
        instructor_bookable=draw(st.booleans()) or draw(st.booleans()),
        counts=counts,
        student=StudentPending(count=draw(st.integers(0, 3)), cap=draw(st.none() | st.integers(1, 4))),
    )
    duration = timedelta(minutes=draw(st.integers(1, 96)) * 5)
    return context, busy, duration, zone, first


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_windows_are_sorted_disjoint_and_never_touch(
    case: tuple[BookingContext, list[Interval], timedelta, ZoneInfo, date],
) -> None:
    context = case[0]
    for window in context.windows:
        assert window.start < window.end
        assert window.start.tzinfo is not None
    for earlier, later in zip(context.windows, context.windows[1:], strict=False):
        assert earlier.end < later.start


@settings(max_examples=500, deadline=None)
@given(scenario(), st.integers(-1440, SPAN_DAYS * 1440), st.integers(0, SPAN_DAYS * 1440))
def test_slots_and_single_booking_check_agree(
    case: tuple[BookingContext, list[Interval], timedelta, ZoneInfo, date], offset: int, length: int
) -> None:
    """The slot list is exactly the candidates in the range that `rejection` accepts, one by one, in
    order, whichever rule refuses the others (time, window, own or calendar busy time, caps, pending)."""
    context, busy, duration, _, first = case
    range_start = datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(minutes=offset)
    range_end = range_start + timedelta(minutes=length)
    slots = bookable_slots(context, duration, range_start, range_end)
    buffer = context.rules.buffer
    for slot in slots:
        assert slot.end - slot.start == duration
        assert any(w.start <= slot.start and slot.end <= w.end for w in context.windows), "inside a window"
        for interval in busy:
            assert not (interval.start < slot.end + buffer and slot.start < interval.end), "keeps the buffer"
        assert slot.start > context.now
    accepted = [
        Interval(start, start + duration)
        for start in candidate_starts(context.windows, duration)
        if range_start <= start < range_end and rejection(context, start, start + duration) is None
    ]
    assert slots == accepted
