"""The RFC 5545 calendar file of one session, written by `icalendar` (escaping, folding, CRLF)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from icalendar import Calendar, Event


def calendar_uid(booking_id: UUID) -> str:
    """The UID of the booking's one calendar event, in every .ics sent for it and in the instructor's
    feed (SPEC §11, §13)."""
    return f"{booking_id}@booking"


def session_event(
    *,
    uid: str,
    starts_at: datetime,
    ends_at: datetime,
    stamp: datetime,
    summary: str,
    description: str,
    status: str,
    sequence: int = 0,
    location: str | None = None,
) -> Event:
    """One session's VEVENT; `status` is TENTATIVE, CONFIRMED or CANCELLED. Instants are written in UTC."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("status", status)
    event.add("summary", summary)
    event.add("description", description)
    if location is not None:
        event.add("location", location)
    return event


def calendar_of(events: Iterable[Event], **properties: str) -> bytes:
    """An RFC 5545 file of the events, with extra calendar properties (e.g. `x_wr_calname`)."""
    calendar = Calendar()
    calendar.add("prodid", "-//booking//coaching sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for name, value in properties.items():
        calendar.add(name.replace("_", "-"), value)
    for event in events:
        calendar.add_component(event)
    content: bytes = calendar.to_ical()
    return content
