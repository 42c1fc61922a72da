"""Busy time read from iCalendar feeds as Google, Outlook and Apple export them (SPEC §13).

Each fixture in tests/fixtures/calendars/ is asserted against busy intervals computed by hand from the
zone rules (the UTC offsets are written beside each one), never against the library's own output.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from booking.calendars.parsing import (
    MAX_EXPANSION_STEPS,
    PIECE,
    FeedUnreadable,
    busy_time_of,
    pieces,
)
from booking.scheduling import Interval

FIXTURES = Path(__file__).parent / "fixtures" / "calendars"
WINDOW = Interval(datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC))


def feed(name: str) -> bytes:
    # As the providers serve them: CRLF line ends.
    return (FIXTURES / name).read_bytes().replace(b"\n", b"\r\n")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spans(*pairs: tuple[str, str]) -> list[Interval]:
    return [Interval(utc(start), utc(end)) for start, end in pairs]


def test_google_weekly_meeting_across_dst_with_a_moved_a_cancelled_and_an_excluded_occurrence() -> None:
    busy = busy_time_of(feed("google.ics"), WINDOW, ZoneInfo("Europe/Berlin"))
    assert busy == spans(
        ("2027-03-16T09:00", "2027-03-16T10:00"),  # Tue 10:00 CET (+01)
        ("2027-03-17T23:00", "2027-03-19T23:00"),  # all day 18-19 March in Berlin (CET)
        ("2027-03-22T16:00", "2027-03-22T17:00"),  # 17:00 CET, written as 16:00Z
        ("2027-03-24T13:00", "2027-03-24T14:00"),  # the 23rd's meeting moved to Wed 14:00 CET
        ("2027-03-29T15:00", "2027-03-29T16:00"),  # still 17:00 Berlin, now CEST (+02): X-WR-TIMEZONE
        ("2027-03-30T08:00", "2027-03-30T09:00"),  # Tue 10:00 CEST (+02)
        # 6 April excluded (EXDATE), 13 April cancelled (RECURRENCE-ID + STATUS:CANCELLED);
        # the free lunch, the cancelled dentist and the 2026 event block nothing.
    )


def test_outlook_windows_zone_names_and_vtimezone_blocks() -> None:
    busy = busy_time_of(feed("outlook.ics"), WINDOW, ZoneInfo("America/New_York"))
    assert busy == spans(
        ("2027-03-08T14:00", "2027-03-08T15:00"),  # Mon 09:00 EST (-05)
        ("2027-03-10T04:30", "2027-03-10T05:30"),  # 10:00 in the file's own +05:30 VTIMEZONE
        ("2027-03-11T00:00", "2027-03-11T01:00"),  # 09:00 "Tokyo Standard Time" (+09)
        ("2027-03-12T05:00", "2027-03-13T05:00"),  # out of office all day 12 March in New York (EST)
        ("2027-03-15T13:00", "2027-03-15T14:00"),  # Mon 09:00 EDT (-04) after 14 March
        ("2027-03-22T13:00", "2027-03-22T14:00"),
        # Focus time is TRANSP:TRANSPARENT: free.
    )


def test_apple_all_day_far_from_utc_floating_times_rdate_and_duration() -> None:
    busy = busy_time_of(feed("apple.ics"), WINDOW, ZoneInfo("Pacific/Auckland"))
    assert busy == spans(
        ("2027-03-05T02:00", "2027-03-05T03:00"),  # Thu 18:00 PST (-08)
        ("2027-03-09T20:00", "2027-03-09T21:00"),  # floating 09:00 read in Auckland, NZDT (+13)
        ("2027-03-12T02:00", "2027-03-12T03:00"),  # Thu 18:00 PST, the last week before US DST
        ("2027-03-15T19:00", "2027-03-15T20:00"),  # 12:00 PDT (-07)
        ("2027-03-17T19:00", "2027-03-17T20:00"),  # the RDATE, 12:00 PDT
        ("2027-03-19T01:00", "2027-03-19T02:00"),  # Thu 18:00 PDT (-07)
        ("2027-03-20T10:00", "2027-03-20T11:30"),  # DURATION:PT1H30M
        # 4 April in Auckland: from midnight NZDT (+13) to midnight NZST (+12), a 25-hour day.
        ("2027-04-03T11:00", "2027-04-04T12:00"),
    )


def test_only_the_window_is_read_and_what_overlaps_is_joined() -> None:
    window = Interval(utc("2027-03-16T09:30"), utc("2027-03-18T12:00"))
    busy = busy_time_of(feed("google.ics"), window, ZoneInfo("Europe/Berlin"))
    assert busy == spans(("2027-03-16T09:30", "2027-03-16T10:00"), ("2027-03-17T23:00", "2027-03-18T12:00"))
    overlapping = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
BEGIN:VEVENT\r
UID:a\r
DTSTART:20270310T090000Z\r
DTEND:20270310T110000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:b\r
DTSTART:20270310T100000Z\r
DTEND:20270310T120000Z\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:c\r
DTSTART:20270310T120000Z\r
DTEND:20270310T120000Z\r
END:VEVENT\r
END:VCALENDAR\r
"""
    assert busy_time_of(overlapping, WINDOW, ZoneInfo("UTC")) == spans(
        ("2027-03-10T09:00", "2027-03-10T12:00")
    )


def test_long_busy_time_is_stored_in_pieces_of_at_most_a_day() -> None:
    week = spans(("2027-03-01T10:00", "2027-03-08T10:00"))
    cut = pieces(week)
    assert len(cut) == 7 and all(piece.end - piece.start <= PIECE for piece in cut)
    assert cut[0].start == week[0].start and cut[-1].end == week[0].end
    assert all(a.end == b.start for a, b in itertools.pairwise(cut))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<!doctype html><html><body>Sign in to continue</body></html>",
        b'{"error": "not found"}',
        b"\xff\xfe\x00garbage",
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Maya\r\nEND:VCARD\r\n",
    ],
)
def test_what_is_not_icalendar_is_refused(body: bytes) -> None:
    with pytest.raises(FeedUnreadable, match="not an iCalendar file"):
        busy_time_of(body, WINDOW, ZoneInfo("UTC"))


def rule_feed(rule: str, start: str = "20270301T000000Z") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r\r\n"
        f"DTSTART:{start}\r\nDURATION:PT1S\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("rule", "start"),
    [
        ("FREQ=SECONDLY", "20270301T000000Z"),
        ("FREQ=MINUTELY", "20200101T000000Z"),  # few in the window, but walked from 2020
        # 144 a day (12 hours x 12 minutes), walked from 2020.
        (
            "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11;BYMINUTE=0,5,10,15,20,25,30,35,40,45,50,55",
            "20200101T000000Z",
        ),
    ],
)
def test_rules_that_repeat_absurdly_often_are_refused_before_expanding(rule: str, start: str) -> None:
    with pytest.raises(FeedUnreadable, match="repeats too often"):
        busy_time_of(rule_feed(rule, start), WINDOW, ZoneInfo("UTC"))


def test_a_daily_meeting_for_years_is_fine_and_the_occurrence_cap_holds() -> None:
    daily = busy_time_of(rule_feed("FREQ=DAILY", "20050301T090000Z"), WINDOW, ZoneInfo("UTC"))
    assert len(daily) == 61  # March and April 2027
    assert (WINDOW.end - utc("2005-03-01T09:00")).days < MAX_EXPANSION_STEPS
    hourly = rule_feed("FREQ=HOURLY", "20270301T000000Z")
    assert len(busy_time_of(hourly, WINDOW, ZoneInfo("UTC"))) == 61 * 24
    with pytest.raises(FeedUnreadable, match="more than 100 events"):
        busy_time_of(hourly, WINDOW, ZoneInfo("UTC"), limit=100)
