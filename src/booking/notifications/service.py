"""Booking created, status changes and reminders: what to send, sending it, and notification_log.

A message whose outcome is known before anything is sent (no recipient, provider not configured) is
`skipped` and logged inside the booking's own transaction. The others go out after the commit, in
parallel, each bounded by a timeout, and are logged in a second transaction. Nothing here can fail
or roll back a booking: an unexpected error becomes a `failed` result.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import httpx
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.bookings.schemas import ChannelResult, NotificationsOut, ReminderResult
from booking.config import Settings
from booking.db import Database
from booking.models import Booking, Brand, Instructor, NotificationLog
from booking.notifications import messages
from booking.notifications.messages import Parties
from booking.notifications.providers import Email, ResendEmail, Sms, TwilioSms
from booking.notifications.results import failed, skipped

log = logging.getLogger(__name__)

REMINDER_HORIZON = timedelta(hours=24)
INSERT_LOG_ROW = insert(NotificationLog)
TIMEOUT_MARGIN_SECONDS = 0.5
NO_EMAIL = "no_email: no address for the recipient"
NO_PHONE = "no_phone: no phone number for the student"


class Notifier:
    """The configured providers of one process, sharing one HTTP connection pool."""

    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.notification_timeout_seconds
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(self.timeout), follow_redirects=False)
        self.email: ResendEmail | None = None
        self.sms: TwilioSms | None = None
        if settings.resend_api_key and settings.resend_from_email:
            self.email = ResendEmail(
                self.client,
                api_key=settings.resend_api_key,
                sender=settings.resend_from_email,
                base_url=settings.resend_api_url,
            )
        if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
            self.sms = TwilioSms(
                self.client,
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                sender=settings.twilio_from_number,
                base_url=settings.twilio_api_base_url,
            )

    @property
    def configured(self) -> bool:
        return self.email is not None or self.sms is not None

    async def aclose(self) -> None:
        await self.client.aclose()

    async def bounded(self, provider: str, call: Awaitable[ChannelResult]) -> ChannelResult:
        try:
            async with asyncio.timeout(self.timeout + TIMEOUT_MARGIN_SECONDS):
                return await call
        except TimeoutError:
            return failed(f"{provider}_timeout: no answer in time")
        except Exception as exc:  # a bug must not cost a booking; it is logged and reported
            log.exception("%s call failed unexpectedly", provider)
            return failed(f"{provider}_error: {type(exc).__name__}")


@dataclass
class Outgoing:
    """One message: already decided (`result` set) or waiting to be sent (`message` set)."""

    channel: Literal["email", "sms"]
    kind: str
    recipient: str | None
    message: Email | Sms | None = None
    result: ChannelResult | None = None

    @property
    def outcome(self) -> ChannelResult:
        assert self.result is not None, "deliver() first"
        return self.result


def email_to(notifier: Notifier, kind: str, recipient: str | None, compose: Callable[[], Email]) -> Outgoing:
    if not recipient:
        return Outgoing("email", kind, None, result=skipped(NO_EMAIL))
    if notifier.email is None:
        return Outgoing("email", kind, recipient, result=skipped("resend_not_configured"))
    return Outgoing("email", kind, recipient, message=compose())


def sms_to(notifier: Notifier, kind: str, recipient: str | None, compose: Callable[[], Sms]) -> Outgoing:
    if not recipient:
        return Outgoing("sms", kind, None, result=skipped(NO_PHONE))
    if notifier.sms is None:
        return Outgoing("sms", kind, recipient, result=skipped("twilio_not_configured"))
    return Outgoing("sms", kind, recipient, message=compose())


async def deliver(notifier: Notifier, outgoing: Sequence[Outgoing]) -> None:
    """Send every message still waiting, in parallel, and note each outcome."""

    async def send(item: Outgoing) -> None:
        if isinstance(item.message, Email) and notifier.email is not None:
            item.result = await notifier.bounded("resend", notifier.email.send(item.message))
        elif isinstance(item.message, Sms) and notifier.sms is not None:
            item.result = await notifier.bounded("twilio", notifier.sms.send(item.message))

    await asyncio.gather(*(send(item) for item in outgoing if item.result is None))


def log_rows(booking_id: UUID, outgoing: Sequence[Outgoing], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "booking_id": booking_id,
            "channel": item.channel,
            "kind": item.kind,
            "recipient": item.recipient,
            "status": item.outcome.status,
            "provider_message_id": item.outcome.provider_message_id,
            "error": item.outcome.reason if item.outcome.status != "sent" else None,
            "created_at": now,
        }
        for item in outgoing
    ]


async def add_log_rows(
    session: AsyncSession, booking_id: UUID, outgoing: Sequence[Outgoing], now: datetime
) -> None:
    if outgoing:
        connection = await session.connection()
        await connection.execute(INSERT_LOG_ROW, log_rows(booking_id, outgoing, now))


async def record(db: Database, booking_id: UUID, outgoing: Sequence[Outgoing], now: datetime) -> None:
    """Log what was sent after the commit, in a transaction of its own."""
    if not outgoing:
        return
    try:
        async with db.transaction(write=True) as session:
            await add_log_rows(session, booking_id, outgoing, now)
    except Exception:  # the messages went out; a lost log row must not turn into an error answer
        log.exception("could not write notification_log for booking %s", booking_id)


# What messages say when none can be sent: no provider configured means no message is composed.
UNNAMED = Parties(instructor_name="", instructor_email="", brand_name="")


async def parties_of(session: AsyncSession, booking: Booking, notifier: Notifier) -> Parties:
    """Who a booking's messages name; nothing is read when no provider could send a message."""
    if not notifier.configured:
        return UNNAMED
    instructor = await session.get(Instructor, booking.instructor_id)
    brand_name = await session.scalar(select(Brand.name).where(Brand.id == booking.brand_id))
    return Parties(
        instructor_name=instructor.name if instructor else "your instructor",
        instructor_email=instructor.email if instructor else "",
        brand_name=brand_name or "",
    )


# --- booking created --------------------------------------------------------------------------------


@dataclass
class BookingCreatedMessages:
    student_email: Outgoing
    student_sms: Outgoing
    instructor_email: Outgoing

    @property
    def all(self) -> list[Outgoing]:
        return [self.student_email, self.student_sms, self.instructor_email]

    @property
    def decided(self) -> list[Outgoing]:
        return [item for item in self.all if item.result is not None]

    @property
    def waiting(self) -> list[Outgoing]:
        return [item for item in self.all if item.result is None]

    def answer(self) -> NotificationsOut:
        sms = self.student_sms.outcome
        return NotificationsOut(
            email=self.student_email.outcome,
            sms=sms,
            sms_blocker=None if sms.status == "sent" else sms.reason or sms.status,
            instructor_email=self.instructor_email.outcome,
        )


def booking_created_messages(
    notifier: Notifier, booking: Booking, parties: Parties, now: datetime
) -> BookingCreatedMessages:
    return BookingCreatedMessages(
        student_email=email_to(
            notifier,
            "booking_created",
            booking.student_email,
            lambda: messages.booking_created_student_email(booking, parties, now),
        ),
        student_sms=sms_to(
            notifier,
            "booking_created",
            booking.student_phone,
            lambda: messages.booking_created_sms(booking, parties),
        ),
        instructor_email=email_to(
            notifier,
            "booking_created_instructor",
            parties.instructor_email,
            lambda: messages.booking_created_instructor_email(booking, parties),
        ),
    )


async def send_booking_created(
    notifier: Notifier, db: Database, booking: Booking, planned: BookingCreatedMessages, now: datetime
) -> NotificationsOut:
    """After the commit: send what waits, log it, and answer for all three messages."""
    waiting = planned.waiting
    await deliver(notifier, waiting)
    await record(db, booking.id, waiting, now)
    return planned.answer()


# --- status changes ---------------------------------------------------------------------------------


async def notify_status_change(notifier: Notifier, db: Database, booking: Booking, now: datetime) -> None:
    """Confirmed: email the student. Cancelled: email and text them."""
    if booking.status not in ("confirmed", "cancelled"):
        return
    parties = UNNAMED
    if notifier.configured:
        async with db.transaction(write=False) as session:
            parties = await parties_of(session, booking, notifier)
    kind = f"booking_{booking.status}"
    outgoing = [
        email_to(notifier, kind, booking.student_email, lambda: messages.status_email(booking, parties, now))
    ]
    if booking.status == "cancelled":
        outgoing.append(
            sms_to(notifier, kind, booking.student_phone, lambda: messages.cancellation_sms(booking, parties))
        )
    await deliver(notifier, outgoing)
    await record(db, booking.id, outgoing, now)


# --- reminders --------------------------------------------------------------------------------------


async def claim_due_reminders(
    notifier: Notifier, db: Database, now: datetime
) -> list[tuple[Booking, Parties]]:
    """Mark every due, unreminded, confirmed booking as reminded, in one conditional write.

    Concurrent callers (threads, processes, hosts) each get a disjoint set: a row another caller
    claimed no longer matches `reminder_claimed_at IS NULL` when this write reaches it.
    """
    async with db.transaction(write=True) as session:
        claimed = await session.scalars(
            update(Booking)
            .where(
                Booking.status == "confirmed",
                Booking.starts_at > now,
                Booking.starts_at <= now + REMINDER_HORIZON,
                Booking.reminder_claimed_at.is_(None),
            )
            .values(reminder_claimed_at=now)
            .returning(Booking.id)
        )
        ids = list(claimed)
        if not ids:
            return []
        rows = await session.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.starts_at))
        return [(booking, await parties_of(session, booking, notifier)) for booking in rows.all()]


async def remind(
    notifier: Notifier, db: Database, booking: Booking, parties: Parties, now: datetime
) -> ReminderResult:
    """One SMS; email when the SMS is impossible or fails."""
    sms = sms_to(notifier, "reminder", booking.student_phone, lambda: messages.reminder_sms(booking, parties))
    await deliver(notifier, [sms])
    outgoing = [sms]
    if sms.outcome.status == "sent":
        email_result = skipped("sms_sent: email is only the fallback")
    else:
        email = email_to(
            notifier, "reminder", booking.student_email, lambda: messages.reminder_email(booking, parties)
        )
        await deliver(notifier, [email])
        outgoing.append(email)
        email_result = email.outcome
    await record(db, booking.id, outgoing, now)
    return ReminderResult(booking_id=booking.id, sms=sms.outcome, email=email_result)


async def send_due_reminders(notifier: Notifier, db: Database, now: datetime) -> list[ReminderResult]:
    due = await claim_due_reminders(notifier, db, now)
    return list(
        await asyncio.gather(*(remind(notifier, db, booking, parties, now) for booking, parties in due))
    )


def reminder_key_matches(configured: str | None, presented: str | None) -> bool:
    """Constant-time comparison; with no key configured, nothing matches."""
    if not configured or presented is None:
        return False
    return hmac.compare_digest(configured.encode(), presented.encode())
