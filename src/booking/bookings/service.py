"""Bookings: the rules of creating and changing them (SPEC §5, §8); reads are in `reads.py`.

Writes run inside a `UnitOfWork`: it owns the transaction, and the messages and events a change causes
are recorded on its effects (`work.effect(Messages).send`, `emit`) rather than sent from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking import metrics
from booking.access import require_authenticated
from booking.auth import Principal
from booking.availability.repository import instructor_in_brand, scheduling_settings
from booking.availability.service import Asker, booking_context_and_busy
from booking.bookings import holds, idempotency, passes, repository
from booking.bookings.creation import cap_locks, emit_created, insert, new_booking, parties_of_new
from booking.bookings.errors import refused
from booking.bookings.events import emit
from booking.bookings.lifecycle import Role, check_fields, check_transition
from booking.bookings.messages import booked_session
from booking.bookings.payments import Payment, after_cancel, finish_change, take_payment
from booking.bookings.policy import student_of
from booking.bookings.prices import take_back_staff_payment
from booking.bookings.reads import visible_booking
from booking.bookings.render import PENDING_NOTIFICATIONS, Answer, answer_body, notifications_report
from booking.bookings.schemas import BookingCreate, BookingUpdate, NotificationsOut
from booking.enums import BookingStatus, EventType, PaymentProvider, PaymentStatus
from booking.errors import AppError, field_error
from booking.models.bookings import Booking
from booking.notifications.effects import Messages
from booking.notifications.service import BookingMessages, booking_created_messages
from booking.scheduling import Interval, Rejection, rejection
from booking.unit_of_work import UnitOfWork

DEFAULT_PAGE = 50
MAX_PAGE = 200

# --- create ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A booking as a write left it, the messages that write causes (None: it changed nothing), and
    whether the answer shows it as staff see it."""

    booking: Booking
    messages: BookingMessages | None
    staff: bool = False

    def body(self, notifications: NotificationsOut | None = None) -> dict[str, Any]:
        report = notifications or notifications_report(self.messages)
        return answer_body(self.booking, report, staff=self.staff)


async def book(work: UnitOfWork, principal: Principal, data: BookingCreate, key: str | None) -> Answer:
    """POST /api/bookings: check every rule and insert in one transaction, then the messages go out."""
    require_authenticated(principal)
    try:
        answer = await idempotent_write(
            work,
            principal,
            key,
            data.model_dump(mode="json"),
            201,
            lambda w: create_booking(w, principal, data),
        )
    except AppError as refusal:
        metrics.booking_refused(refusal.code)
        raise
    if not answer.replayed:
        metrics.booking_created()
    return answer


class Outcome(Protocol):
    """What a booking write answers: a booking (`Written`), or a series."""

    @property
    def messages(self) -> BookingMessages | None: ...

    def body(self, notifications: NotificationsOut | None = None) -> dict[str, Any]: ...


async def idempotent_write(
    work: UnitOfWork,
    principal: Principal,
    key: str | None,
    request: dict[str, Any],
    status: int,
    write: Callable[[UnitOfWork], Awaitable[Outcome]],
) -> Answer:
    """Run `write` in one transaction and answer `status` with its booking and notifications.

    With an Idempotency-Key, the key is claimed and the answer stored in that same transaction; a
    request that finds the key taken replays the stored answer instead.
    """
    fingerprint = None if key is None else idempotency.request_fingerprint(request)

    async def change(work: UnitOfWork) -> Outcome | Answer:
        if key is not None and fingerprint is not None:
            replay = await idempotency.claim_or_replay(
                work.session, principal.actor, key, fingerprint, work.now
            )
            if replay is not None:
                return replay
        written = await write(work)
        if key is not None:
            await _store_answer(work, principal.actor, key, status, written)
        return written

    outcome = await work.run(change)
    return outcome if isinstance(outcome, Answer) else Answer(status, outcome.body())


async def _store_answer(work: UnitOfWork, caller: str, key: str, status: int, written: Outcome) -> None:
    """The answer as known at the commit; completed with the delivery outcomes once they are known."""
    if written.messages is None or not written.messages.waiting:
        await idempotency.store_answer(work.session, caller, key, status, written.body())
        return
    await idempotency.store_answer(work.session, caller, key, status, written.body(PENDING_NOTIFICATIONS))

    async def complete(session: AsyncSession) -> None:
        await idempotency.store_answer(session, caller, key, status, written.body())

    work.effect(Messages).after_delivery(complete)


async def create_booking(work: UnitOfWork, principal: Principal, data: BookingCreate) -> Written:
    """Check every rule of SPEC §5 and §10 in order, insert, and hand the messages to the unit of work."""
    session = work.session
    contact = await student_of(session, principal, data)
    instructor = await instructor_in_brand(session, data.instructor_id, data.brand_id, for_booking=True)
    if instructor is None:
        raise refused(Rejection.INSTRUCTOR_NOT_IN_BRAND)
    start = data.starts_at.astimezone(UTC)
    end = start + timedelta(minutes=data.duration_minutes or instructor.settings.session_minutes)
    await repository.serialise(session, cap_locks(instructor, contact.student_id))
    context, busy = await booking_context_and_busy(
        session, instructor, data.brand_id, work.now, Interval(start, end), Asker(contact.student_id)
    )
    if (reason := rejection(context, start, end)) is not None:
        raise refused(reason)
    if data.pass_id is not None:
        await passes.spend(
            session, data.pass_id, contact.student_id, data.brand_id, instructor.id, [start], work.now
        )
    blocked = Interval(start, end + context.rules.buffer)
    await holds.cancel_expired_overlapping(work, instructor.id, blocked, busy.expired)
    booking = new_booking(work, principal, data, contact, instructor, blocked, Interval(start, end))
    await insert(session, booking)
    outgoing = work.effect(Messages)
    parties = parties_of_new(instructor)
    messages = booking_created_messages(outgoing.notifier, booked_session(booking), parties, work.now)
    outgoing.send(*messages.all)
    emit_created(work, booking)
    return Written(booking, messages)


# --- change ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changed:
    booking: Booking
    role: Role


async def change_booking(
    work: UnitOfWork, principal: Principal, booking_id: UUID, data: BookingUpdate
) -> Changed:
    """PATCH /api/bookings/{id} in one transaction; a new status's messages go out after the commit."""
    return await work.run(lambda work: update_booking(work, principal, booking_id, data))


async def update_booking(
    work: UnitOfWork, principal: Principal, booking_id: UUID, data: BookingUpdate
) -> Changed:
    """Apply a PATCH with the lifecycle and permissions of SPEC §8 and the holds of §9."""
    session = work.session
    booking, role = await visible_booking(session, principal, booking_id, for_update=True)
    previous = booking.status
    changes = data.model_dump(exclude_unset=True)
    check_fields(
        role,
        payment="payment_status" in changes,
        notes="instructor_notes" in changes,
        hold="hold_expires_at" in changes,
    )
    if "hold_expires_at" in changes:
        holds.change_hold(booking, data.hold_expires_at, work.now)
    target = booking.status
    refund_due = paid = False
    if data.payment_status is not None and data.payment_status != booking.payment_status:
        paid = data.payment_status == PaymentStatus.PAID
        if paid:
            staff_payment = Payment(PaymentProvider.MANUAL, booking.price_amount or 0)
            target, refund_due = await take_payment(work, booking, staff_payment)
        else:
            take_back_staff_payment(booking)
    if data.status is not None and data.status != target:
        settings = await scheduling_settings(session, booking.instructor_id, booking.brand_id)
        cutoff = settings.cancellation_cutoff_hours
        check_transition(
            role, target, data.status, starts_at=booking.starts_at, now=work.now, cutoff_hours=cutoff
        )
        target = data.status
    if "cancellation_reason" in changes:
        if target != BookingStatus.CANCELLED:
            message = "cancellation_reason goes with status 'cancelled'"
            raise field_error(message, "body", "cancellation_reason")
        booking.cancellation_reason = data.cancellation_reason
    if "instructor_notes" in changes:
        booking.instructor_notes = data.instructor_notes
    if target == BookingStatus.CANCELLED and previous != BookingStatus.CANCELLED:
        await after_cancel(work, booking, role)
    payment_status = data.payment_status if "payment_status" in changes else None
    await finish_change(work, booking, previous, target, payment_status, principal.actor)
    if paid:
        emit(work, EventType.PAID, booking)
    if refund_due:
        emit(work, EventType.REFUND_DUE, booking)
    return Changed(booking, role)
