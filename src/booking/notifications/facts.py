"""What a message needs to know, as plain data: the adapter reads no feature's tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from booking.enums import BookingStatus


@dataclass(frozen=True, slots=True)
class BookedSession:
    """What a message says of a booking, as plain data: the adapter knows no booking table."""

    id: UUID
    student_id: UUID
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    student_timezone: str
    instructor_timezone: str
    locale: str  # the language of the student's messages
    student_name: str | None
    student_email: str | None
    student_phone: str | None
    cancellation_reason: str | None
    reschedule_count: int
    calendar_sequence: int
    calendar_status: str  # the .ics STATUS: TENTATIVE, CONFIRMED or CANCELLED
    location: str | None = None  # where it happens (a link or an address)


@dataclass(frozen=True)
class Parties:
    """Who a booking's messages are about."""

    instructor_name: str
    instructor_email: str
    brand_name: str
    instructor_locale: str = "en"  # the language of the instructor's messages
