"""Which messages a change causes, and a reminder's text with its fallback email.

A message whose outcome is known before anything is sent (no recipient, provider not configured) is
decided at once; the others wait for the caller to deliver them after its commit (see
`booking.notifications.effects`). Nothing here can fail or roll back a booking.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from booking.enums import Audience, BookingStatus, NotificationKind
from booking.notifications import messages
from booking.notifications.facts import BookedSession, Parties
from booking.notifications.notifier import Notifier, Outgoing
from booking.notifications.outbox import FALLBACK_NOT_NEEDED
from booking.notifications.providers import Email, Sms
from booking.notifications.results import Delivery, skipped
from booking.scheduling import Interval

log = logging.getLogger(__name__)

# What messages say when none can be sent: no provider configured means no message is composed.
UNNAMED = Parties(instructor_name="", instructor_email="", brand_name="")


# --- booking created or moved -----------------------------------------------------------------------


@dataclass
class BookingMessages:
    """The messages of a new or a moved booking: email and text to the student, email to the instructor."""

    student_email: Outgoing
    student_sms: Outgoing
    instructor_email: Outgoing

    @property
    def all(self) -> list[Outgoing]:
        return [self.student_email, self.student_sms, self.instructor_email]

    @property
    def waiting(self) -> bool:
        return any(item.waiting for item in self.all)


def _student_and_instructor(
    notifier: Notifier,
    session: BookedSession,
    parties: Parties,
    kinds: tuple[NotificationKind, NotificationKind],
    compose: tuple[Callable[[], Email], Callable[[], Sms], Callable[[], Email]],
) -> BookingMessages:
    """An email and an SMS to the student and an email to the instructor, logged against `session`:
    `kinds` are the student's and the instructor's, `compose` writes the three."""
    student_kind, instructor_kind = kinds
    student_email, sms, instructor_email = compose
    return BookingMessages(
        student_email=notifier.email_to(session.id, student_kind, session.student_email, student_email),
        student_sms=notifier.sms_to(session.id, student_kind, session.student_phone, sms),
        instructor_email=notifier.email_to(
            session.id, instructor_kind, parties.instructor_email, instructor_email, Audience.INSTRUCTOR
        ),
    )


def booking_created_messages(
    notifier: Notifier, booking: BookedSession, parties: Parties, now: datetime
) -> BookingMessages:
    """An email (with the .ics) and an SMS to the student, an email to the instructor."""
    return _student_and_instructor(
        notifier,
        booking,
        parties,
        (NotificationKind.BOOKING_CREATED, NotificationKind.BOOKING_CREATED_INSTRUCTOR),
        (
            lambda: messages.booking_created_student_email(booking, parties, now),
            lambda: messages.booking_created_sms(booking, parties),
            lambda: messages.booking_created_instructor_email(booking, parties),
        ),
    )


def booking_moved_messages(
    notifier: Notifier, booking: BookedSession, previous: Interval, parties: Parties, now: datetime
) -> BookingMessages:
    """The same three for a reschedule, each naming the old and the new time."""
    return _student_and_instructor(
        notifier,
        booking,
        parties,
        (NotificationKind.BOOKING_RESCHEDULED, NotificationKind.BOOKING_RESCHEDULED_INSTRUCTOR),
        (
            lambda: messages.booking_moved_student_email(booking, previous, parties, now),
            lambda: messages.booking_moved_sms(booking, previous, parties),
            lambda: messages.booking_moved_instructor_email(booking, previous, parties),
        ),
    )


def series_created_messages(
    notifier: Notifier, sessions: Sequence[BookedSession], parties: Parties, now: datetime
) -> BookingMessages:
    """A new series: one email to the student (every occurrence, one .ics of them all), one SMS (the
    first time and the count), one email to the instructor; logged against the first occurrence."""
    return _student_and_instructor(
        notifier,
        sessions[0],
        parties,
        (NotificationKind.SERIES_CREATED, NotificationKind.SERIES_CREATED_INSTRUCTOR),
        (
            lambda: messages.series_created_student_email(sessions, parties, now),
            lambda: messages.series_created_sms(sessions, parties),
            lambda: messages.series_created_instructor_email(sessions, parties),
        ),
    )


def series_cancelled_messages(
    notifier: Notifier, sessions: Sequence[BookedSession], parties: Parties, now: datetime
) -> list[Outgoing]:
    """A series cancellation: one email to the student for every occurrence it cancelled."""
    first = sessions[0]
    return [
        notifier.email_to(
            first.id,
            NotificationKind.SERIES_CANCELLED,
            first.student_email,
            lambda: messages.series_cancelled_email(sessions, parties, now),
        )
    ]


# --- status changes ---------------------------------------------------------------------------------

STATUS_CHANGE_KINDS = {
    BookingStatus.CONFIRMED: NotificationKind.BOOKING_CONFIRMED,
    BookingStatus.CANCELLED: NotificationKind.BOOKING_CANCELLED,
}


def status_change_messages(
    notifier: Notifier, booking: BookedSession, parties: Parties, now: datetime
) -> list[Outgoing]:
    """Confirmed: email the student. Cancelled: email and text them. Other statuses: nothing."""
    kind = STATUS_CHANGE_KINDS.get(booking.status)
    if kind is None:
        return []
    outgoing = [
        notifier.email_to(
            booking.id, kind, booking.student_email, lambda: messages.status_email(booking, parties, now)
        )
    ]
    if booking.status == BookingStatus.CANCELLED:
        outgoing.append(
            notifier.sms_to(
                booking.id, kind, booking.student_phone, lambda: messages.cancellation_sms(booking, parties)
            )
        )
    return outgoing


# --- reminders --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminded:
    booking_id: UUID
    sms: Delivery
    email: Delivery


@dataclass
class Reminder:
    """A reminder's text and its fallback email; the email goes only if the text cannot or does not."""

    booking_id: UUID
    sms: Outgoing
    email: Outgoing

    def outcome(self) -> Reminded:
        email = self.email.result
        if self.sms.outcome.sent or email is None:
            email = skipped(FALLBACK_NOT_NEEDED)
        return Reminded(self.booking_id, self.sms.outcome, email)


def reminder(notifier: Notifier, booking: BookedSession, parties: Parties) -> Reminder:
    kind = NotificationKind.REMINDER
    sms = notifier.sms_to(
        booking.id, kind, booking.student_phone, lambda: messages.reminder_sms(booking, parties)
    )
    email = notifier.email_to(
        booking.id, kind, booking.student_email, lambda: messages.reminder_email(booking, parties)
    )
    if sms.waiting:
        email.fallback_of = sms.id
    return Reminder(booking.id, sms, email)


def reminder_key_matches(configured: str | None, presented: str | None) -> bool:
    """Constant-time comparison; with no key configured, nothing matches."""
    if not configured or presented is None:
        return False
    return hmac.compare_digest(configured.encode(), presented.encode())
