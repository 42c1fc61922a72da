"""Windows on real transition days. Transition dates come from the tz database, not from a calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.scheduling import DateOverride, Interval, WeeklyWindow, availability_windows, merge
from booking.scheduling.windows import contract_weekday

H = 60


def transitions(zone: ZoneInfo, year: int) -> list[tuple[date, timedelta]]:
    """Local dates on which the zone's UTC offset changes, with the change (positive: spring forward)."""
    found = []
    day = date(year, 1, 1)
    while day.year == year:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).utcoffset()
        next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).utcoffset()
        assert midnight is not None and next_midnight is not None
        if midnight != next_midnight:
            found.append((day, next_midnight - midnight))
        day += timedelta(days=1)
    return found


def spring_forward(zone: ZoneInfo, year: int) -> date:
    return next(day for day, change in transitions(zone, year) if change > timedelta(0))


def fall_back(zone: ZoneInfo, year: int) -> date:
    return next(day for day, change in transitions(zone, year) if change < timedelta(0))


def one_day(zone: ZoneInfo, day: date, start: int, end: int) -> list[Interval]:
    return availability_windows([WeeklyWindow(contract_weekday(day), start, end)], [], zone, day, day)


def length(windows: list[Interval]) -> timedelta:
    return sum((w.end - w.start for w in windows), timedelta())


NEW_YORK = ZoneInfo("America/New_York")


def test_new_york_spring_forward_rule_of_four_wall_hours_is_three_real_hours() -> None:
    day = spring_forward(NEW_YORK, 2026)
    windows = one_day(NEW_YORK, day, 1 * H, 5 * H)
    assert length(windows) == timedelta(hours=3)
    assert windows[0].start.astimezone(NEW_YORK).hour == 1
    assert windows[0].end.astimezone(NEW_YORK).hour == 5


def test_new_york_fall_back_half_past_midnight_to_half_past_two_is_three_hours() -> None:
    day = fall_back(NEW_YORK, 2026)
    windows = one_day(NEW_YORK, day, 30, 2 * H + 30)
    assert length(windows) == timedelta(hours=3)


def test_gap_time_moves_forward_by_the_gap() -> None:
    day = spring_forward(NEW_YORK, 2026)
    [window] = one_day(NEW_YORK, day, 2 * H + 30, 4 * H)
    local_start = window.start.astimezone(NEW_YORK)
    assert (local_start.hour, local_start.minute) == (3, 30)
    assert window.end - window.start == timedelta(minutes=30)


def test_ambiguous_time_is_its_first_occurrence() -> None:
    day = fall_back(NEW_YORK, 2026)
    [window] = one_day(NEW_YORK, day, 1 * H + 30, 3 * H)
    first = datetime.combine(day, time(1, 30), tzinfo=NEW_YORK)
    second = first.replace(fold=1)
    assert window.start == first.astimezone(UTC) < second.astimezone(UTC)
    assert window.end - window.start == timedelta(hours=2, minutes=30)


def test_berlin_nine_local_is_eight_utc_before_and_seven_after_spring_forward() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    day = spring_forward(berlin, 2026)
    monday = 1
    windows = availability_windows(
        [WeeklyWindow(monday, 9 * H, 17 * H)], [], berlin, day - timedelta(days=7), day + timedelta(days=7)
    )
    assert [(w.start.date(), w.start.hour) for w in windows] == [
        (day - timedelta(days=6), 8),
        (day + timedelta(days=1), 7),
    ]


def test_lord_howe_shifts_by_thirty_minutes() -> None:
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    forward = one_day(lord_howe, spring_forward(lord_howe, 2026), 1 * H, 3 * H)
    backward = one_day(lord_howe, fall_back(lord_howe, 2026), 1 * H, 3 * H)
    assert length(forward) == timedelta(hours=1, minutes=30)
    assert length(backward) == timedelta(hours=2, minutes=30)


def test_kathmandu_quarter_hour_offset() -> None:
    kathmandu = ZoneInfo("Asia/Kathmandu")
    [window] = one_day(kathmandu, date(2026, 12, 2), 9 * H, 10 * H)
    assert window.start == datetime(2026, 12, 2, 3, 15, tzinfo=UTC)


def test_auckland_blocked_local_date_that_is_the_previous_utc_day() -> None:
    auckland = ZoneInfo("Pacific/Auckland")
    every_day = [WeeklyWindow(weekday, 9 * H, 12 * H) for weekday in range(7)]
    blocked = date(2026, 12, 2)
    windows = availability_windows(
        every_day, [DateOverride(blocked, "blocked")], auckland, date(2026, 12, 1), date(2026, 12, 3)
    )
    local_dates = [w.start.astimezone(auckland).date() for w in windows]
    assert local_dates == [date(2026, 12, 1), date(2026, 12, 3)]
    # The blocked local morning starts on the previous UTC date: an override taken in UTC would miss it.
    assert datetime(2026, 12, 2, 9, tzinfo=auckland).astimezone(UTC).date() == date(2026, 12, 1)


def test_custom_override_replaces_the_weekly_rules_of_its_date() -> None:
    zone = ZoneInfo("Europe/Berlin")
    day = date(2026, 12, 2)
    windows = availability_windows(
        [WeeklyWindow(contract_weekday(day), 9 * H, 17 * H)],
        [DateOverride(day, "custom", 13 * H, 14 * H), DateOverride(day, "custom", 18 * H, 19 * H)],
        zone,
        day,
        day,
    )
    assert [(w.start.astimezone(zone).hour, w.end.astimezone(zone).hour) for w in windows] == [
        (13, 14),
        (18, 19),
    ]


def test_apia_day_that_did_not_exist_has_no_windows() -> None:
    apia = ZoneInfo("Pacific/Apia")
    every_day = [WeeklyWindow(weekday, 9 * H, 17 * H) for weekday in range(7)]
    windows = availability_windows(every_day, [], apia, date(2011, 12, 29), date(2011, 12, 31))
    assert [w.start.astimezone(apia).date() for w in windows] == [date(2011, 12, 29), date(2011, 12, 31)]
    assert all(w.end - w.start == timedelta(hours=8) for w in windows)


def test_end_of_day_is_next_midnight_and_touching_windows_join() -> None:
    zone = ZoneInfo("Asia/Tokyo")
    monday = date(2026, 12, 7)
    windows = availability_windows(
        [WeeklyWindow(1, 22 * H, 24 * H), WeeklyWindow(2, 0, 2 * H)],
        [],
        zone,
        monday,
        monday + timedelta(days=1),
    )
    assert len(windows) == 1
    assert windows[0].end - windows[0].start == timedelta(hours=4)


def test_merge_joins_touching_and_overlapping() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    joined = merge(
        [Interval(t + 2 * hour, t + 3 * hour), Interval(t, t + hour), Interval(t + hour, t + 2 * hour)]
    )
    assert joined == [Interval(t, t + 3 * hour)]
    assert merge([Interval(t, t + 3 * hour), Interval(t + hour, t + 2 * hour)]) == [Interval(t, t + 3 * hour)]
