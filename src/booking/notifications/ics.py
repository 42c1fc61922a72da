"""The RFC 5545 calendar file of one session, written by `icalendar` (escaping, folding, CRLF)."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from booking.models import Booking


def calendar_uid(booking: Booking) -> str:
    """The UID of the booking's one calendar event, in every .ics sent for it (SPEC §11)."""
    return f"{booking.id}@booking"


def session_calendar(
    *,
    uid: str,
    starts_at: datetime,
    ends_at: datetime,
    stamp: datetime,
    summary: str,
    description: str,
    status: str,
    sequence: int = 0,
) -> bytes:
    """One VEVENT; `status` is TENTATIVE, CONFIRMED or CANCELLED. Instants are written in UTC (…Z)."""
    calendar = Calendar()
    calendar.add("prodid", "-//booking//coaching sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("status", status)
    event.add("summary", summary)
    event.add("description", description)
    calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content
