"""The words of each message, in its recipient's language and zone: the student's in the booking's
`locale`, the instructor's in theirs (`Parties.instructor_locale`). Texts come from the catalogues'
`message` section; dates are CLDR's full format (Babel), times 24-hour, the zone named."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Event

from booking.enums import BookingStatus, NotificationKind
from booking.i18n import full_date, text_direction, translate
from booking.notifications.facts import BookedSession, Parties
from booking.notifications.ics import calendar_of, calendar_uid, session_event
from booking.notifications.providers import Attachment, Email, Sms
from booking.scheduling import Interval

REFERENCE_LENGTH = 8  # an SMS names the booking by the start of its id


def local_time_span(
    starts_at: datetime, ends_at: datetime, zone_name: str, locale: str = "en", *, short: bool = False
) -> str:
    """'Tuesday, December 1, 2026, 10:00-11:00 Europe/Berlin (CET, UTC+01:00)', in the locale; `short`
    (a text message's) names the zone alone.

    A hyphen, not a dash, and the zone in ASCII: a non-GSM character would halve an SMS's length.
    """
    zone = ZoneInfo(zone_name)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    values = {"date": full_date(start.date(), locale), "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
    values["zone"] = zone_name if short else _zone_label(start, zone_name)
    if end.date() == start.date():
        return translate(locale, "message.time_span", **values)
    return translate(locale, "message.time_span_overnight", end_date=full_date(end.date(), locale), **values)


def _zone_label(start: datetime, zone_name: str) -> str:
    """'Europe/Berlin (CET, UTC+01:00)'; a zone whose abbreviation is only its offset: 'Asia/Kathmandu
    (UTC+05:45)'."""
    offset = start.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    abbreviation = start.strftime("%Z")
    named = abbreviation.isalpha()
    return f"{zone_name} ({abbreviation}, {utc})" if named else f"{zone_name} ({utc})"


def _email(
    to: str,
    subject: str,
    lines: list[str],
    key: str,
    locale: str,
    attachments: tuple[Attachment, ...] = (),
) -> Email:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return Email(
        to=to,
        subject=subject,
        text="\n\n".join(lines),
        html=f'<div lang="{locale}" dir="{text_direction(locale)}">{paragraphs}</div>',
        idempotency_key=key,
        attachments=attachments,
    )


def _key(booking: BookedSession, kind: str, recipient: str) -> str:
    # Resend keeps keys for 24 h: a retry of the same message for the same booking never sends twice.
    return f"booking-{booking.id}/{kind}/{recipient}"


class Words:
    """One recipient's texts: `words("key", name=...)` in their locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def __call__(self, key: str, /, **values: Any) -> str:
        return translate(self.locale, f"message.{key}", **values)

    def span(self, starts_at: datetime, ends_at: datetime, zone_name: str) -> str:
        return local_time_span(starts_at, ends_at, zone_name, self.locale)

    def short_span(self, booking: BookedSession) -> str:
        """A text message's time of the booking: in the student's zone, the zone named alone."""
        zone = booking.student_timezone
        return local_time_span(booking.starts_at, booking.ends_at, zone, self.locale, short=True)

    def hello(self, name: str | None) -> str:
        return self("hello_name", name=name) if name else self("hello")


def _student(booking: BookedSession) -> Words:
    return Words(booking.locale)


def _instructor(parties: Parties) -> Words:
    return Words(parties.instructor_locale)


def _student_named(booking: BookedSession) -> str:
    """How an instructor's message names the student."""
    return booking.student_name or booking.student_email or str(booking.student_id)


def calendar_event(booking: BookedSession, parties: Parties, stamp: datetime) -> Event:
    """The booking's one calendar event as it stands, in the student's language: every .ics of a
    booking has the same UID."""
    words = _student(booking)
    return session_event(
        uid=calendar_uid(booking.id),
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        stamp=stamp,
        summary=words("calendar_summary", instructor=parties.instructor_name, brand=parties.brand_name),
        description=words("reference", reference=booking.id),
        status=booking.calendar_status,
        sequence=booking.calendar_sequence,
        location=booking.location,
    )


def where(booking: BookedSession) -> list[str]:
    """The line saying where the session happens, when the instructor set a location."""
    return [] if booking.location is None else [_student(booking)("where", location=booking.location)]


def calendar_file(booking: BookedSession, parties: Parties, stamp: datetime) -> Attachment:
    return Attachment("session.ics", calendar_of([calendar_event(booking, parties, stamp)]), "text/calendar")


def _student_email(
    booking: BookedSession,
    subject: str,
    lines: list[str],
    kind: str,
    attachments: tuple[Attachment, ...] = (),
) -> Email:
    key = _key(booking, kind, "student")
    return _email(str(booking.student_email), subject, lines, key, booking.locale, attachments)


def _instructor_email(parties: Parties, subject: str, lines: list[str], key: str) -> Email:
    return _email(parties.instructor_email, subject, lines, key, parties.instructor_locale)


def _sms(booking: BookedSession, text: str) -> Sms:
    return Sms(str(booking.student_phone), text)


def _reference(booking: BookedSession) -> str:
    return str(booking.id)[:REFERENCE_LENGTH]


def booking_created_student_email(booking: BookedSession, parties: Parties, stamp: datetime) -> Email:
    words = _student(booking)
    when = words.span(booking.starts_at, booking.ends_at, booking.student_timezone)
    who = {"instructor": parties.instructor_name, "brand": parties.brand_name}
    lines = [
        words.hello(booking.student_name),
        words("booked", when=when, **who),
        *where(booking),
        words("confirmed_now" if booking.status == BookingStatus.CONFIRMED else "pending_payment"),
        words("reference", reference=booking.id),
    ]
    subject = words("booked_subject", instructor=parties.instructor_name, when=when)
    attachments = (calendar_file(booking, parties, stamp),)
    return _student_email(booking, subject, lines, NotificationKind.BOOKING_CREATED, attachments)


def booking_created_instructor_email(booking: BookedSession, parties: Parties) -> Email:
    words = _instructor(parties)
    when = words.span(booking.starts_at, booking.ends_at, booking.instructor_timezone)
    lines = [
        words.hello(parties.instructor_name),
        words("booked_with_you", student=_student_named(booking), brand=parties.brand_name, when=when),
        words("reference", reference=booking.id),
    ]
    key = _key(booking, NotificationKind.BOOKING_CREATED, "instructor")
    return _instructor_email(parties, words("new_booking_subject", when=when), lines, key)


def booking_created_sms(booking: BookedSession, parties: Parties) -> Sms:
    words = _student(booking)
    when = words.short_span(booking)
    text = words("booked_sms", instructor=parties.instructor_name, when=when, reference=_reference(booking))
    return _sms(booking, text)


def _moved_key(booking: BookedSession, kind: str, recipient: str) -> str:
    # A booking may move more than once within Resend's 24 h: each move is its own message.
    return _key(booking, f"{kind}-{booking.reschedule_count}", recipient)


def _moved_lines(
    words: Words, booking: BookedSession, previous: Interval, zone: str, who: str, brand: str
) -> list[str]:
    return [
        words("moved", person=who, brand=brand),
        words("new_time", when=words.span(booking.starts_at, booking.ends_at, zone)),
        words("old_time", when=words.span(previous.start, previous.end, zone)),
    ]


def booking_moved_student_email(
    booking: BookedSession, previous: Interval, parties: Parties, stamp: datetime
) -> Email:
    """With the booking's one calendar event at its new time (same UID, higher SEQUENCE)."""
    words = _student(booking)
    zone = booking.student_timezone
    lines = [
        words.hello(booking.student_name),
        *_moved_lines(words, booking, previous, zone, parties.instructor_name, parties.brand_name),
        *where(booking),
        words("reference", reference=booking.id),
    ]
    subject = words("moved_subject", when=words.span(booking.starts_at, booking.ends_at, zone))
    key = _moved_key(booking, NotificationKind.BOOKING_RESCHEDULED, "student")
    attachments = (calendar_file(booking, parties, stamp),)
    return _email(str(booking.student_email), subject, lines, key, booking.locale, attachments)


def booking_moved_instructor_email(booking: BookedSession, previous: Interval, parties: Parties) -> Email:
    words = _instructor(parties)
    zone = booking.instructor_timezone
    lines = [
        words.hello(parties.instructor_name),
        *_moved_lines(words, booking, previous, zone, _student_named(booking), parties.brand_name),
        words("reference", reference=booking.id),
    ]
    subject = words("moved_subject", when=words.span(booking.starts_at, booking.ends_at, zone))
    key = _moved_key(booking, NotificationKind.BOOKING_RESCHEDULED, "instructor")
    return _instructor_email(parties, subject, lines, key)


def booking_moved_sms(booking: BookedSession, previous: Interval, parties: Parties) -> Sms:
    """The new time only (the email says both): two spans would not fit a two-segment UCS-2 text."""
    words = _student(booking)
    when = words.short_span(booking)
    text = words("moved_sms", instructor=parties.instructor_name, when=when, reference=_reference(booking))
    return _sms(booking, text)


def status_email(booking: BookedSession, parties: Parties, stamp: datetime) -> Email:
    words = _student(booking)
    when = words.span(booking.starts_at, booking.ends_at, booking.student_timezone)
    who = {"instructor": parties.instructor_name, "brand": parties.brand_name, "when": when}
    if booking.status == BookingStatus.CONFIRMED:
        subject = words("confirmed_subject", when=when)
        lines = [words("confirmed", **who)]
    else:
        subject = words("cancelled_subject", when=when)
        lines = [words("cancelled", **who)]
        if booking.cancellation_reason:
            lines.append(words("reason", reason=booking.cancellation_reason))
    lines.append(words("reference", reference=booking.id))
    attachments = (calendar_file(booking, parties, stamp),)
    return _student_email(booking, subject, lines, booking.status, attachments)


def cancellation_sms(booking: BookedSession, parties: Parties) -> Sms:
    words = _student(booking)
    when = words.short_span(booking)
    return _sms(booking, words("cancelled_sms", instructor=parties.instructor_name, when=when))


def reminder_sms(booking: BookedSession, parties: Parties) -> Sms:
    words = _student(booking)
    when = words.short_span(booking)
    return _sms(booking, words("reminder_sms", instructor=parties.instructor_name, when=when))


def reminder_email(booking: BookedSession, parties: Parties) -> Email:
    words = _student(booking)
    when = words.span(booking.starts_at, booking.ends_at, booking.student_timezone)
    lines = [
        words("reminder", instructor=parties.instructor_name, brand=parties.brand_name, when=when),
        *where(booking),
    ]
    return _student_email(booking, words("reminder_subject", when=when), lines, NotificationKind.REMINDER)


def hold_expired_email(booking: BookedSession, parties: Parties, stamp: datetime) -> Email:
    """The unpaid hold ran out: the time is free again; paying now may still revive it."""
    words = _student(booking)
    when = words.span(booking.starts_at, booking.ends_at, booking.student_timezone)
    lines = [
        words("hold_expired", instructor=parties.instructor_name, brand=parties.brand_name, when=when),
        words("hold_expired_pay_anyway"),
        words("reference", reference=booking.id),
    ]
    subject = words("hold_expired_subject", when=when)
    attachments = (calendar_file(booking, parties, stamp),)
    return _student_email(booking, subject, lines, NotificationKind.HOLD_EXPIRED, attachments)


# --- weekly series --------------------------------------------------------------------------------------


def _numbered(words: Words, sessions: Sequence[BookedSession], zone: str) -> list[str]:
    return [
        words("numbered", number=index + 1, when=words.span(s.starts_at, s.ends_at, zone))
        for index, s in enumerate(sessions)
    ]


def _sessions_file(sessions: Sequence[BookedSession], parties: Parties, stamp: datetime) -> Attachment:
    content = calendar_of([calendar_event(s, parties, stamp) for s in sessions])
    return Attachment("sessions.ics", content, "text/calendar")


def series_created_student_email(
    sessions: Sequence[BookedSession], parties: Parties, stamp: datetime
) -> Email:
    """One email for a whole series: every occurrence in the student's zone, and one .ics with one event
    per occurrence (each with its own booking's UID, as every later message of that booking has)."""
    first = sessions[0]
    words = _student(first)
    who = {"instructor": parties.instructor_name, "brand": parties.brand_name, "count": len(sessions)}
    lines = [
        words.hello(first.student_name),
        words("series_booked", **who),
        *_numbered(words, sessions, first.student_timezone),
        *where(first),
        words("series_confirmed" if first.status == BookingStatus.CONFIRMED else "series_pending", **who),
        words("first_reference", reference=first.id),
    ]
    when = words.span(first.starts_at, first.ends_at, first.student_timezone)
    subject = words("series_booked_subject", when=when, **who)
    attachments = (_sessions_file(sessions, parties, stamp),)
    return _student_email(first, subject, lines, NotificationKind.SERIES_CREATED, attachments)


def series_created_instructor_email(sessions: Sequence[BookedSession], parties: Parties) -> Email:
    first = sessions[0]
    words = _instructor(parties)
    count = len(sessions)
    lines = [
        words.hello(parties.instructor_name),
        words("series_booked_with_you", student=_student_named(first), brand=parties.brand_name, count=count),
        *_numbered(words, sessions, first.instructor_timezone),
        words("first_reference", reference=first.id),
    ]
    when = words.span(first.starts_at, first.ends_at, first.instructor_timezone)
    key = _key(first, NotificationKind.SERIES_CREATED, "instructor")
    return _instructor_email(parties, words("new_series_subject", count=count, when=when), lines, key)


def series_created_sms(sessions: Sequence[BookedSession], parties: Parties) -> Sms:
    first = sessions[0]
    words = _student(first)
    when = words.short_span(first)
    text = words(
        "series_booked_sms",
        count=len(sessions),
        instructor=parties.instructor_name,
        when=when,
        reference=_reference(first),
    )
    return _sms(first, text)


def series_cancelled_email(sessions: Sequence[BookedSession], parties: Parties, stamp: datetime) -> Email:
    """One email for the occurrences a series cancellation cancelled, with one CANCELLED event each."""
    first = sessions[0]
    words = _student(first)
    who = {"instructor": parties.instructor_name, "brand": parties.brand_name, "count": len(sessions)}
    lines = [
        words.hello(first.student_name),
        words("series_cancelled", **who),
        *_numbered(words, sessions, first.student_timezone),
    ]
    attachments = (_sessions_file(sessions, parties, stamp),)
    when = words.span(first.starts_at, first.ends_at, first.student_timezone)
    subject = words("series_cancelled_subject", when=when, **who)
    # Each cancellation of a series is its own message: keyed by the first cancelled occurrence.
    return _student_email(first, subject, lines, NotificationKind.SERIES_CANCELLED, attachments)
