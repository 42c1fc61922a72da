"""The words of each message. Every time is in the recipient's own timezone, with the zone named."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from icalendar import Event

from booking.enums import BookingStatus, NotificationKind
from booking.notifications.facts import BookedSession, Parties
from booking.notifications.ics import calendar_of, calendar_uid, session_event
from booking.notifications.providers import Attachment, Email, Sms
from booking.scheduling import Interval


def local_time_span(starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
    """'Tuesday 1 December 2026, 10:00-11:00 Europe/Berlin (CET, UTC+01:00)'.

    ASCII only (a hyphen, not a dash): one non-GSM character would halve an SMS's length.
    """
    zone = ZoneInfo(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    offset = start.strftime("%z")
    day = f"{start:%A} {start.day} {start:%B %Y}"
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%A} {end.day} {end:%B}, {end:%H:%M}"
    return f"{day}, {start:%H:%M}-{end_text} {zone_name} ({start:%Z}, UTC{offset[:3]}:{offset[3:]})"


def _email(
    to: str, subject: str, lines: list[str], key: str, attachments: tuple[Attachment, ...] = ()
) -> Email:
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return Email(
        to=to,
        subject=subject,
        text="\n\n".join(lines),
        html=html,
        idempotency_key=key,
        attachments=attachments,
    )


def _key(booking: BookedSession, kind: str, recipient: str) -> str:
    # Resend keeps keys for 24 h: a retry of the same message for the same booking never sends twice.
    return f"booking-{booking.id}/{kind}/{recipient}"


def calendar_event(booking: BookedSession, parties: Parties, stamp: datetime) -> Event:
    """The booking's one calendar event as it stands: every .ics of a booking has the same UID."""
    return session_event(
        uid=calendar_uid(booking.id),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        stamp=stamp,
        summary=f"Coaching session with {parties.instructor_name} ({parties.brand_name})",
        description=f"Booking {booking.id}",
        status=booking.calendar_status,
        sequence=booking.calendar_sequence,
        location=booking.location,
    )


def where(booking: BookedSession) -> list[str]:
    """The line saying where the session happens, when the instructor set a location."""
    return [] if booking.location is None else [f"Where: {booking.location}"]


def calendar_file(booking: BookedSession, parties: Parties, stamp: datetime) -> Attachment:
    return Attachment("session.ics", calendar_of([calendar_event(booking, parties, stamp)]), "text/calendar")


def booking_created_student_email(booking: BookedSession, parties: Parties, stamp: datetime) -> Email:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    lines = [
        f"Hello{' ' + booking.student_name if booking.student_name else ''},",
        f"your session with {parties.instructor_name} ({parties.brand_name}) is booked for {when}.",
        *where(booking),
        "It is confirmed."
        if booking.status == BookingStatus.CONFIRMED
        else "It is pending until payment is received; we will confirm it then.",
        f"Booking reference: {booking.id}",
    ]
    subject = f"Session booked with {parties.instructor_name}: {when}"
    attachments = (calendar_file(booking, parties, stamp),)
    return _email(
        str(booking.student_email),
        subject,
        lines,
        _key(booking, NotificationKind.BOOKING_CREATED, "student"),
        attachments,
    )


def booking_created_instructor_email(booking: BookedSession, parties: Parties) -> Email:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.instructor_timezone)
    student = booking.student_name or booking.student_email or str(booking.student_id)
    lines = [
        f"Hello {parties.instructor_name},",
        f"{student} booked a session with you ({parties.brand_name}) for {when}.",
        f"Booking reference: {booking.id}",
    ]
    key = _key(booking, NotificationKind.BOOKING_CREATED, "instructor")
    return _email(parties.instructor_email, f"New booking: {when}", lines, key)


def booking_created_sms(booking: BookedSession, parties: Parties) -> Sms:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    return Sms(
        str(booking.student_phone), f"Booked: {parties.instructor_name}, {when}. Ref {str(booking.id)[:8]}"
    )


def _moved_key(booking: BookedSession, kind: str, recipient: str) -> str:
    # A booking may move more than once within Resend's 24 h: each move is its own message.
    return _key(booking, f"{kind}-{booking.reschedule_count}", recipient)


def _moved(booking: BookedSession, previous: Interval, zone_name: str) -> tuple[str, str]:
    """The old and the new time of a moved booking, in one recipient's zone."""
    return (
        local_time_span(previous.start, previous.end, zone_name),
        local_time_span(booking.starts_at, booking.ends_at, zone_name),
    )


def booking_moved_student_email(
    booking: BookedSession, previous: Interval, parties: Parties, stamp: datetime
) -> Email:
    """With the booking's one calendar event at its new time (same UID, higher SEQUENCE)."""
    was, now = _moved(booking, previous, booking.student_timezone)
    lines = [
        f"Hello{' ' + booking.student_name if booking.student_name else ''},",
        f"your session with {parties.instructor_name} ({parties.brand_name}) has moved.",
        f"New time: {now}.",
        f"It was: {was}.",
        *where(booking),
        f"Booking reference: {booking.id}",
    ]
    key = _moved_key(booking, NotificationKind.BOOKING_RESCHEDULED, "student")
    attachments = (calendar_file(booking, parties, stamp),)
    return _email(str(booking.student_email), f"Session moved to {now}", lines, key, attachments)


def booking_moved_instructor_email(booking: BookedSession, previous: Interval, parties: Parties) -> Email:
    was, now = _moved(booking, previous, booking.instructor_timezone)
    student = booking.student_name or booking.student_email or str(booking.student_id)
    lines = [
        f"Hello {parties.instructor_name},",
        f"your session with {student} ({parties.brand_name}) has moved.",
        f"New time: {now}.",
        f"It was: {was}.",
        f"Booking reference: {booking.id}",
    ]
    key = _moved_key(booking, NotificationKind.BOOKING_RESCHEDULED, "instructor")
    return _email(parties.instructor_email, f"Session moved to {now}", lines, key)


def booking_moved_sms(booking: BookedSession, previous: Interval, parties: Parties) -> Sms:
    was, now = _moved(booking, previous, booking.student_timezone)
    return Sms(str(booking.student_phone), f"Moved: {parties.instructor_name}, now {now} (was {was}).")


def status_email(booking: BookedSession, parties: Parties, stamp: datetime) -> Email:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    if booking.status == BookingStatus.CONFIRMED:
        subject = f"Session confirmed: {when}"
        lines = [
            f"Your session with {parties.instructor_name} ({parties.brand_name}) on {when} is confirmed."
        ]
    else:
        subject = f"Session cancelled: {when}"
        lines = [
            f"Your session with {parties.instructor_name} ({parties.brand_name}) on {when} was cancelled."
        ]
        if booking.cancellation_reason:
            lines.append(f"Reason: {booking.cancellation_reason}")
    lines.append(f"Booking reference: {booking.id}")
    attachments = (calendar_file(booking, parties, stamp),)
    return _email(
        str(booking.student_email), subject, lines, _key(booking, booking.status, "student"), attachments
    )


def cancellation_sms(booking: BookedSession, parties: Parties) -> Sms:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    return Sms(str(booking.student_phone), f"Cancelled: your session with {parties.instructor_name}, {when}.")


def reminder_sms(booking: BookedSession, parties: Parties) -> Sms:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    return Sms(str(booking.student_phone), f"Reminder: session with {parties.instructor_name}, {when}.")


def reminder_email(booking: BookedSession, parties: Parties) -> Email:
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    lines = [
        f"A reminder: your session with {parties.instructor_name} ({parties.brand_name}) is on {when}.",
        *where(booking),
    ]
    return _email(
        str(booking.student_email),
        f"Reminder: {when}",
        lines,
        _key(booking, NotificationKind.REMINDER, "student"),
    )


def hold_expired_email(booking: BookedSession, parties: Parties, stamp: datetime) -> Email:
    """The unpaid hold ran out: the time is free again; paying now may still revive it (SPEC §9)."""
    when = local_time_span(booking.starts_at, booking.ends_at, booking.student_timezone)
    lines = [
        f"Your session with {parties.instructor_name} ({parties.brand_name}) on {when} was not paid in "
        "time, so it was cancelled and the time was released.",
        "If you pay anyway and the time is still free, the session is confirmed; otherwise the payment "
        "is refunded.",
        f"Booking reference: {booking.id}",
    ]
    return _email(
        str(booking.student_email),
        f"Session cancelled, payment not received: {when}",
        lines,
        _key(booking, NotificationKind.HOLD_EXPIRED, "student"),
        (calendar_file(booking, parties, stamp),),
    )


# --- weekly series --------------------------------------------------------------------------------------


def series_created_student_email(
    sessions: Sequence[BookedSession], parties: Parties, stamp: datetime
) -> Email:
    """One email for a whole series: every occurrence in the student's zone, and one .ics with one event
    per occurrence (each with its own booking's UID, as every later message of that booking has)."""
    first = sessions[0]
    times = [local_time_span(s.starts_at, s.ends_at, first.student_timezone) for s in sessions]
    lines = [
        f"Hello{' ' + first.student_name if first.student_name else ''},",
        f"your {len(sessions)} sessions with {parties.instructor_name} ({parties.brand_name}) are booked:",
        *(f"{index + 1}. {when}" for index, when in enumerate(times)),
        *where(first),
        "They are confirmed."
        if first.status == BookingStatus.CONFIRMED
        else "They are pending until payment is received; we will confirm them then.",
        f"Booking reference of the first: {first.id}",
    ]
    subject = f"{len(sessions)} sessions booked with {parties.instructor_name}, from {times[0]}"
    content = calendar_of([calendar_event(s, parties, stamp) for s in sessions])
    attachments = (Attachment("sessions.ics", content, "text/calendar"),)
    key = _key(first, NotificationKind.SERIES_CREATED, "student")
    return _email(str(first.student_email), subject, lines, key, attachments)


def series_created_instructor_email(sessions: Sequence[BookedSession], parties: Parties) -> Email:
    first = sessions[0]
    student = first.student_name or first.student_email or str(first.student_id)
    times = [local_time_span(s.starts_at, s.ends_at, first.instructor_timezone) for s in sessions]
    lines = [
        f"Hello {parties.instructor_name},",
        f"{student} booked {len(sessions)} sessions with you ({parties.brand_name}):",
        *(f"{index + 1}. {when}" for index, when in enumerate(times)),
        f"Booking reference of the first: {first.id}",
    ]
    key = _key(first, NotificationKind.SERIES_CREATED, "instructor")
    return _email(parties.instructor_email, f"New series of {len(sessions)} sessions: {times[0]}", lines, key)


def series_created_sms(sessions: Sequence[BookedSession], parties: Parties) -> Sms:
    first = sessions[0]
    when = local_time_span(first.starts_at, first.ends_at, first.student_timezone)
    text = (
        f"Booked {len(sessions)} sessions: {parties.instructor_name}, first {when}. Ref {str(first.id)[:8]}"
    )
    return Sms(str(first.student_phone), text)


def series_cancelled_email(sessions: Sequence[BookedSession], parties: Parties, stamp: datetime) -> Email:
    """One email for the occurrences a series cancellation cancelled, with one CANCELLED event each."""
    first = sessions[0]
    times = [local_time_span(s.starts_at, s.ends_at, first.student_timezone) for s in sessions]
    lines = [
        f"Hello{' ' + first.student_name if first.student_name else ''},",
        f"{len(sessions)} of your sessions with {parties.instructor_name} ({parties.brand_name})"
        " are cancelled:",
        *(f"{index + 1}. {when}" for index, when in enumerate(times)),
    ]
    content = calendar_of([calendar_event(s, parties, stamp) for s in sessions])
    attachments = (Attachment("sessions.ics", content, "text/calendar"),)
    # Each cancellation of a series is its own message: keyed by the first cancelled occurrence.
    key = _key(first, NotificationKind.SERIES_CANCELLED, "student")
    subject = f"{len(sessions)} sessions cancelled with {parties.instructor_name}, from {times[0]}"
    return _email(str(first.student_email), subject, lines, key, attachments)
