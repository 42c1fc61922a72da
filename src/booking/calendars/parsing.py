"""An iCalendar feed -> the busy time it holds over a window (SPEC §13). Pure: bytes in, intervals out.

Recurrences are expanded by `recurring-ical-events` (RRULE, RDATE, EXDATE, RECURRENCE-ID instances that
move or cancel one occurrence; `X-WR-TIMEZONE` through `x-wr-timezone`), zones read by `icalendar` (IANA
names, the Windows names Outlook writes, the file's own VTIMEZONE). What stays here is the meaning for a
scheduler: which events block, floating and all-day times in the instructor's zone, and a cap on the
number of occurrences so that a hostile or broken feed costs bounded work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Component
from recurring_ical_events.occurrence import Occurrence

from booking.scheduling import Interval, local_day_bounds, merge

# Far more than any person's calendar holds in two years; a feed past it is refused, not cut short.
MAX_OCCURRENCES = 10_000
# What the recurrence expansion may iterate over, summed over the feed's rules (from each rule's DTSTART,
# as the expansion does): about a second of work here. A rule that repeats every second since 2020 is
# refused by arithmetic before anything is expanded.
MAX_EXPANSION_STEPS = 300_000
# The shortest length of each FREQ's period, and the BY parts that repeat within it.
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=28),
    "YEARLY": timedelta(days=365),
}
_TIME_PARTS = {"SECONDLY": (), "MINUTELY": ("BYSECOND",), "HOURLY": ("BYSECOND", "BYMINUTE")}
_DAYS_IN = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}
_DAY_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH")
# Busy time is stored in pieces of at most this length, so that the busy read's index range is bounded.
PIECE = timedelta(days=1)


class FeedUnreadable(ValueError):
    """The body is not an iCalendar file we can use; `str()` is the reason shown as `last_error`."""


def busy_time_of(
    body: bytes, window: Interval, zone: ZoneInfo, limit: int = MAX_OCCURRENCES
) -> list[Interval]:
    """The feed's busy time within `window`: sorted, disjoint, clipped to the window.

    Floating times and all-day dates are read in `zone` (the instructor's), unless the file names its own
    zone with `X-WR-TIMEZONE`, which then applies as the calendar app that wrote it meant.
    """
    calendar = _calendar_of(body)
    _check_expansion(calendar, window, zone)
    busy: list[Interval] = []
    for count, occurrence in enumerate(_occurrences(calendar, window), start=1):
        if count > limit:
            days = (window.end - window.start).days
            raise FeedUnreadable(f"more than {limit} events in the {days} days read")
        if not _blocks(occurrence.as_component(False)):
            continue
        begins, ends = _as_utc(occurrence.start, zone), _as_utc(occurrence.end, zone)
        if begins < window.end and window.start < ends:
            busy.append(Interval(max(begins, window.start), min(ends, window.end)))
    return merge(busy)


def pieces(intervals: list[Interval]) -> list[Interval]:
    """The same time cut into pieces of at most `PIECE`, for storage."""
    cut: list[Interval] = []
    for interval in intervals:
        start = interval.start
        while start < interval.end:
            cut.append(Interval(start, min(start + PIECE, interval.end)))
            start += PIECE
    return cut


def _calendar_of(body: bytes) -> Calendar:
    try:
        calendar = Calendar.from_ical(body)
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise FeedUnreadable(f"not an iCalendar file ({type(exc).__name__})") from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise FeedUnreadable("not an iCalendar file (no VCALENDAR)")
    return calendar


def _check_expansion(calendar: Calendar, window: Interval, zone: ZoneInfo) -> None:
    """Refuse a feed whose rules would take the expansion (which walks each rule from its DTSTART) too
    many steps, from an upper bound of each rule's steps up to the window's end."""
    steps = 0
    for event in calendar.walk("VEVENT"):
        rules, start = event.get("RRULE"), event.get("DTSTART")
        if rules is None or start is None:
            continue
        for rule in rules if isinstance(rules, list) else [rules]:
            steps += _rule_steps(rule, _as_utc(start.dt, zone), window.end, zone)
            if steps > MAX_EXPANSION_STEPS:
                freq = "".join(rule.get("FREQ", ["?"]))
                raise FeedUnreadable(
                    f"an event repeats too often to expand (FREQ={freq}, UID {event.get('UID')})"
                )


def _rule_steps(rule: Any, start: datetime, stop: datetime, zone: ZoneInfo) -> int:
    freq = "".join(rule.get("FREQ", ["DAILY"])).upper()
    period = _PERIOD.get(freq, _PERIOD["DAILY"]) * max(1, int(rule.get("INTERVAL", [1])[0]))
    if until := rule.get("UNTIL"):
        stop = min(stop, _as_utc(until[0], zone))
    periods = max(0, (stop - start) // period) + 1
    within = 1
    for part in _TIME_PARTS.get(freq, ("BYSECOND", "BYMINUTE", "BYHOUR")):
        within *= len(rule.get(part, [None]))
    if freq in _DAYS_IN and any(part in rule for part in _DAY_PARTS):
        within *= _DAYS_IN[freq]
    return periods * within


def _occurrences(calendar: Calendar, window: Interval) -> Iterator[Occurrence]:
    """Every occurrence of every event that meets the window, series by series, lazily: the cap stops a
    rule like FREQ=SECONDLY before it has been expanded."""
    # A series the library cannot expand (a broken RRULE, say) is skipped rather than failing the whole feed:
    # otherwise one bad event in a coach's calendar would freeze all their other busy time at its last sync.
    try:
        query = recurring_ical_events.of(calendar, skip_bad_series=True)
        for series in query.series:
            with contextlib.suppress(*query.suppressed_errors):
                yield from series.between(window.start, window.end)
    except (ValueError, TypeError, OverflowError, recurring_ical_events.InvalidCalendar) as exc:
        raise FeedUnreadable(f"events that cannot be read ({type(exc).__name__})") from None


def _blocks(event: Component) -> bool:
    transparent = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
    return not transparent and not cancelled


def _as_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    """An instant: aware times as they are, floating times in `zone`, dates as their midnight in `zone`."""
    if isinstance(value, datetime):
        local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return local.astimezone(UTC)
    return local_day_bounds(value, zone).start
