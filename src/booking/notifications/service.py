"""Sending after the commit: booking created, status changes, reminders; every attempt is logged.

Nothing here can fail or roll back a booking: the booking is committed before anything is sent, each
provider call is bounded by a timeout, and an unexpected error becomes a `failed` result.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select, update

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
TIMEOUT_MARGIN_SECONDS = 0.5


@dataclass(frozen=True)
class Attempt:
    """One message and its outcome, as it goes into notification_log."""

    channel: str
    kind: str
    recipient: str | None
    result: ChannelResult


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

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send_email(self, kind: str, email: Email | None) -> Attempt:
        if email is None:
            return Attempt("email", kind, None, skipped("no_email: no address for the recipient"))
        if self.email is None:
            return Attempt("email", kind, email.to, skipped("resend_not_configured"))
        return Attempt("email", kind, email.to, await self._bounded("resend", self.email.send(email)))

    async def send_sms(self, kind: str, sms: Sms | None) -> Attempt:
        if sms is None:
            return Attempt("sms", kind, None, skipped("no_phone: no phone number for the student"))
        if self.sms is None:
            return Attempt("sms", kind, sms.to, skipped("twilio_not_configured"))
        return Attempt("sms", kind, sms.to, await self._bounded("twilio", self.sms.send(sms)))

    async def _bounded(self, provider: str, call: Awaitable[ChannelResult]) -> ChannelResult:
        try:
            async with asyncio.timeout(self.timeout + TIMEOUT_MARGIN_SECONDS):
                return await call
        except TimeoutError:
            return failed(f"{provider}_timeout: no answer in time")
        except Exception as exc:  # a bug must not cost a booking; it is logged and reported
            log.exception("%s call failed unexpectedly", provider)
            return failed(f"{provider}_error: {type(exc).__name__}")


async def _parties(db: Database, booking: Booking) -> Parties:
    async with db.transaction(write=False) as session:
        instructor = await session.get(Instructor, booking.instructor_id)
        brand = await session.get(Brand, booking.brand_id)
    return Parties(
        instructor_name=instructor.name if instructor else "your instructor",
        instructor_email=instructor.email if instructor else "",
        brand_name=brand.name if brand else "",
    )


async def record(db: Database, booking_id: object, attempts: list[Attempt], now: datetime) -> None:
    try:
        async with db.transaction(write=True) as session:
            session.add_all(
                NotificationLog(
                    booking_id=booking_id,
                    channel=a.channel,
                    kind=a.kind,
                    recipient=a.recipient,
                    status=a.result.status,
                    provider_message_id=a.result.provider_message_id,
                    error=a.result.reason if a.result.status != "sent" else None,
                    created_at=now,
                )
                for a in attempts
            )
    except Exception:  # the messages went out; a lost log row must not turn into an error answer
        log.exception("could not write notification_log for booking %s", booking_id)


def sms_blocker(sms: ChannelResult) -> str | None:
    return None if sms.status == "sent" else sms.reason or sms.status


async def notify_booking_created(
    notifier: Notifier, db: Database, booking: Booking, now: datetime
) -> NotificationsOut:
    parties = await _parties(db, booking)
    student_email, student_sms, instructor_email = await asyncio.gather(
        notifier.send_email(
            "booking_created",
            messages.booking_created_student_email(booking, parties, now) if booking.student_email else None,
        ),
        notifier.send_sms(
            "booking_created",
            messages.booking_created_sms(booking, parties) if booking.student_phone else None,
        ),
        notifier.send_email(
            "booking_created_instructor",
            messages.booking_created_instructor_email(booking, parties) if parties.instructor_email else None,
        ),
    )
    await record(db, booking.id, [student_email, student_sms, instructor_email], now)
    return NotificationsOut(
        email=student_email.result,
        sms=student_sms.result,
        sms_blocker=sms_blocker(student_sms.result),
        instructor_email=instructor_email.result,
    )


async def notify_status_change(notifier: Notifier, db: Database, booking: Booking, now: datetime) -> None:
    """Confirmed: email the student. Cancelled: email and text them."""
    if booking.status not in ("confirmed", "cancelled"):
        return
    parties = await _parties(db, booking)
    kind = f"booking_{booking.status}"
    sends = [
        notifier.send_email(
            kind, messages.status_email(booking, parties, now) if booking.student_email else None
        )
    ]
    if booking.status == "cancelled":
        sends.append(
            notifier.send_sms(
                kind, messages.cancellation_sms(booking, parties) if booking.student_phone else None
            )
        )
    await record(db, booking.id, list(await asyncio.gather(*sends)), now)


# --- reminders --------------------------------------------------------------------------------------


async def claim_due_reminders(db: Database, now: datetime) -> list[Booking]:
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
        return list(rows)


async def remind(notifier: Notifier, db: Database, booking: Booking, now: datetime) -> ReminderResult:
    """One SMS; email when the SMS is impossible or fails."""
    parties = await _parties(db, booking)
    sms = await notifier.send_sms(
        "reminder", messages.reminder_sms(booking, parties) if booking.student_phone else None
    )
    attempts = [sms]
    if sms.result.status == "sent":
        email_result = skipped("sms_sent: email is only the fallback")
    else:
        email = await notifier.send_email(
            "reminder", messages.reminder_email(booking, parties) if booking.student_email else None
        )
        attempts.append(email)
        email_result = email.result
    await record(db, booking.id, attempts, now)
    return ReminderResult(booking_id=booking.id, sms=sms.result, email=email_result)


async def send_due_reminders(notifier: Notifier, db: Database, now: datetime) -> list[ReminderResult]:
    due = await claim_due_reminders(db, now)
    return list(await asyncio.gather(*(remind(notifier, db, booking, now) for booking in due)))


def reminder_key_matches(configured: str | None, presented: str | None) -> bool:
    """Constant-time comparison; with no key configured, nothing matches."""
    if not configured or presented is None:
        return False
    return hmac.compare_digest(configured.encode(), presented.encode())
