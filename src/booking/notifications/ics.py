"""A minimal RFC 5545 calendar file for one session."""

from __future__ import annotations

from datetime import UTC, datetime

from booking.models import Booking

LINE_LIMIT = 75  # octets per content line before folding (RFC 5545 §3.1)


def calendar_uid(booking: Booking) -> str:
    """The UID of the booking's one calendar event, in every .ics sent for it (SPEC §11)."""
    return f"{booking.id}@booking"


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets, never inside a UTF-8 character."""
    chunks: list[str] = []
    current = ""
    for char in line:
        limit = LINE_LIMIT if not chunks else LINE_LIMIT - 1  # continuation lines start with a space
        if len((current + char).encode()) > limit:
            chunks.append(current)
            current = ""
        current += char
    chunks.append(current)
    return "\r\n ".join(chunks)


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
    """One VEVENT; `status` is TENTATIVE, CONFIRMED or CANCELLED."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//booking//coaching sessions//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(starts_at)}",
        f"DTEND:{_utc(ends_at)}",
        f"SEQUENCE:{sequence}",
        f"STATUS:{status}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
