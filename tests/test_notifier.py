"""Fallback, reminder and dispatch logic against in-memory providers (the loopback-HTTP tests beside
these exercise the real Resend and Twilio adapters); the unit of work on both databases."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.bookings.messages import booked_session, unit_of_work
from booking.bookings.reminders import send_due_reminders
from booking.clock import FixedClock
from booking.enums import (
    Audience,
    BookingStatus,
    Channel,
    DeliveryStatus,
    EventType,
    NotificationKind,
    PaymentStatus,
)
from booking.events import Events
from booking.models.bookings import Booking
from booking.models.events import Event
from booking.models.notifications import NotificationLog
from booking.notifications.effects import Messages
from booking.notifications.facts import BookedSession, Parties
from booking.notifications.notifier import Notifier, Outgoing
from booking.notifications.providers import Email, Sms
from booking.notifications.results import Delivery, failed, sent
from booking.notifications.service import (
    booking_created_messages,
    reminder,
    status_change_messages,
)
from booking.unit_of_work import UnitOfWork
from tests.booking_world import MONDAY, make_world
from tests.support import SERVICE, Api, user_headers

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
PARTIES = Parties(instructor_name="Ada", instructor_email="ada@example.com", brand_name="Brand")


class MemoryProvider:
    """Keeps what it is asked to send and answers every call the same way."""

    name = "memory"

    def __init__(self, answer: Delivery | None = None) -> None:
        self.sent: list[Any] = []
        self.answer = answer or sent("memory-1")

    async def send(self, message: Any) -> Delivery:
        self.sent.append(message)
        return self.answer


class SilentSms:
    """A provider that never answers."""

    name = "silent_sms"

    async def send(self, sms: Sms) -> Delivery:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def a_booking(**changes: object) -> BookedSession:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "brand_id": uuid.uuid4(),
        "instructor_id": uuid.uuid4(),
        "student_id": uuid.uuid4(),
        "status": BookingStatus.CONFIRMED,
        "payment_status": PaymentStatus.PAID,
        "starts_at": NOW + timedelta(hours=3),
        "ends_at": NOW + timedelta(hours=4),
        "student_timezone": "Asia/Tokyo",
        "instructor_timezone": "Europe/Berlin",
        "locale": "en",
        "student_email": "student@example.com",
        "student_phone": "+15551234567",
        "cancellation_reason": None,
        "reschedule_count": 0,
        "calendar_sequence": 0,
    }
    return booked_session(Booking(**(values | changes)))


def test_a_reminder_is_a_text_with_its_email_held_as_the_fallback() -> None:
    planned = reminder(
        Notifier(email=MemoryProvider(), sms=MemoryProvider(), timeout=1), a_booking(), PARTIES
    )
    assert planned.sms.waiting and planned.email.waiting
    assert planned.email.fallback_of == planned.sms.id
    no_phone = reminder(
        Notifier(email=MemoryProvider(), sms=MemoryProvider(), timeout=1),
        a_booking(student_phone=None),
        PARTIES,
    )
    assert no_phone.sms.outcome.reason is not None and no_phone.sms.outcome.reason.startswith("no_phone")
    assert no_phone.email.waiting and no_phone.email.fallback_of is None  # the email is all there is


async def test_a_provider_that_never_answers_is_a_failed_attempt_not_a_hang() -> None:
    notifier = Notifier(email=MemoryProvider(), sms=SilentSms(), timeout=0.01)
    (text,) = [notifier.sms_to(uuid.uuid4(), "test", "+15551234567", lambda: Sms("+15551234567", "x"))]
    await asyncio.wait_for(notifier.deliver([text]), timeout=5)
    assert text.outcome.status == DeliveryStatus.FAILED and text.outcome.reason is not None
    assert text.outcome.reason.startswith("silent_sms_timeout") and not text.outcome.retryable


# --- reminders through the outbox, on both databases ----------------------------------------------

SMS_FAILS = failed("twilio_error: HTTP 500", retryable=True)


@pytest.mark.parametrize(
    ("text", "phone", "sms_status", "email_status", "emails_sent"),
    [
        (None, "+15551234567", DeliveryStatus.SENT, DeliveryStatus.SKIPPED, 0),
        (SMS_FAILS, "+15551234567", DeliveryStatus.FAILED, DeliveryStatus.SENT, 1),
        (None, None, DeliveryStatus.SKIPPED, DeliveryStatus.SENT, 1),
    ],
    ids=["text sent", "text failed: the email goes", "no phone: the email goes"],
)
async def test_a_due_reminder_is_one_text_or_its_fallback_email(
    api: Api,
    clock: FixedClock,
    text: Delivery | None,
    phone: str | None,
    sms_status: DeliveryStatus,
    email_status: DeliveryStatus,
    emails_sent: int,
) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    student = user_headers(uuid.uuid4(), email="student@example.com", **({"phone": phone} if phone else {}))
    booking = await world.booked("2026-12-01T10:00:00+01:00", headers=student)
    assert (await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)).status_code == 200
    email, sms = MemoryProvider(), MemoryProvider(text)
    notifier = Notifier(email=email, sms=sms, timeout=1)
    (reminded,) = await send_due_reminders(notifier, api.app.state.context.db, MONDAY + timedelta(days=1))
    assert (reminded.sms.status, reminded.email.status) == (sms_status, email_status)
    assert len(email.sent) == emails_sent
    assert await send_due_reminders(notifier, api.app.state.context.db, MONDAY + timedelta(days=1)) == []


def test_messages_that_cannot_go_out_are_decided_before_anything_is_sent() -> None:
    notifier = Notifier(email=MemoryProvider(), sms=None, timeout=1)
    planned = booking_created_messages(notifier, a_booking(status=BookingStatus.PENDING), PARTIES, NOW)
    assert planned.student_email.waiting and planned.instructor_email.waiting
    assert planned.student_sms.outcome.reason == "twilio_not_configured"


def test_status_changes_message_the_student_for_confirmation_and_cancellation_only() -> None:
    notifier = Notifier(email=MemoryProvider(), sms=MemoryProvider(), timeout=1)
    confirmed = status_change_messages(notifier, a_booking(), PARTIES, NOW)
    cancelled = status_change_messages(notifier, a_booking(status=BookingStatus.CANCELLED), PARTIES, NOW)
    completed = status_change_messages(notifier, a_booking(status=BookingStatus.COMPLETED), PARTIES, NOW)
    assert [(m.channel, m.kind) for m in confirmed] == [(Channel.EMAIL, NotificationKind.BOOKING_CONFIRMED)]
    assert [(m.channel, m.kind) for m in cancelled] == [
        (Channel.EMAIL, NotificationKind.BOOKING_CANCELLED),
        (Channel.SMS, NotificationKind.BOOKING_CANCELLED),
    ]
    assert completed == []


# --- the unit of work, on both databases --------------------------------------------------------


async def _log_rows(api: Api, booking_id: uuid.UUID) -> int:
    async with api.app.state.context.db.transaction(write=False) as session:
        query = (
            select(func.count()).select_from(NotificationLog).where(NotificationLog.booking_id == booking_id)
        )
        return int(await session.scalar(query) or 0)


async def _events(api: Api, booking_id: uuid.UUID) -> list[str]:
    async with api.app.state.context.db.transaction(write=False) as session:
        return list((await session.scalars(select(Event.type).where(Event.booking_id == booking_id))).all())


async def test_a_rolled_back_change_sends_logs_and_emits_nothing(api: Api, clock: FixedClock) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    booking_id = uuid.UUID((await world.booked("2026-12-01T10:00:00+01:00"))["id"])
    email = MemoryProvider()
    notifier = Notifier(email=email, sms=None, timeout=1)
    work = unit_of_work(api.app.state.context.db, notifier, MONDAY)

    async def change(work: UnitOfWork) -> None:
        booking = await work.session.get(Booking, booking_id)
        assert booking is not None
        booking.instructor_notes = "never committed"
        work.effect(Events).emit(
            EventType.CANCELLED, brand_id=booking.brand_id, booking_id=booking_id, data={}
        )
        work.effect(Messages).send(
            notifier.email_to(booking_id, "test", "a@example.com", lambda: _email("a@example.com"))
        )
        work.effect(Messages).send(
            notifier.sms_to(booking_id, "test", "+15551234567", lambda: Sms("+15551234567", "x"))
        )
        await work.session.flush()
        raise RuntimeError("the change fails after its writes")

    logged_before, events_before = await _log_rows(api, booking_id), await _events(api, booking_id)
    with pytest.raises(RuntimeError):
        await work.run(change)
    assert email.sent == []
    assert await _log_rows(api, booking_id) == logged_before
    assert await _events(api, booking_id) == events_before


async def test_a_committed_change_is_delivered_after_its_commit_and_every_attempt_logged(
    api: Api, clock: FixedClock
) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    booking_id = uuid.UUID((await world.booked("2026-12-01T10:00:00+01:00"))["id"])
    db = api.app.state.context.db
    seen_at_send: list[str | None] = []

    class CommittedCheckingEmail(MemoryProvider):
        async def send(self, message: Any) -> Delivery:
            # Another connection sees the change: the message goes out only once it is committed.
            async with db.transaction(write=False) as session:
                seen_at_send.append(
                    await session.scalar(select(Booking.instructor_notes).where(Booking.id == booking_id))
                )
            delivery: Delivery = await super().send(message)
            return delivery

    notifier = Notifier(email=CommittedCheckingEmail(), sms=None, timeout=5)
    followed: list[bool] = []

    async def change(work: UnitOfWork) -> str:
        booking = await work.session.get(Booking, booking_id)
        assert booking is not None
        booking.instructor_notes = "committed"
        work.effect(Events).emit(
            EventType.CANCELLED, brand_id=booking.brand_id, booking_id=booking_id, data={}
        )
        work.effect(Messages).send(
            notifier.email_to(booking_id, "test", "a@example.com", lambda: _email("a@example.com"))
        )
        work.effect(Messages).send(
            notifier.sms_to(booking_id, "test", "+15551234567", lambda: Sms("+15551234567", "x"))
        )

        async def after(_: object) -> None:
            followed.append(True)

        work.effect(Messages).after_delivery(after)
        return "done"

    logged_before = await _log_rows(api, booking_id)
    assert await _events(api, booking_id) == [EventType.CREATED]
    assert await unit_of_work(db, notifier, MONDAY).run(change) == "done"
    assert sorted(await _events(api, booking_id)) == sorted([EventType.CREATED, EventType.CANCELLED])
    assert seen_at_send == ["committed"]
    assert followed == [True]
    # The sent email and the skipped SMS (no provider) are both attempts in the log.
    assert await _log_rows(api, booking_id) == logged_before + 2


def _email(to: str) -> Email:
    return Email(to=to, subject="s", text="t", html="<p>t</p>", idempotency_key=f"test/{to}")


def test_outgoing_reports_only_after_delivery() -> None:
    item = Outgoing(
        uuid.uuid4(),
        Channel.EMAIL,
        "test",
        "a@example.com",
        Audience.STUDENT,
        message=_email("a@example.com"),
    )
    assert item.waiting
    with pytest.raises(AssertionError):
        _ = item.outcome
