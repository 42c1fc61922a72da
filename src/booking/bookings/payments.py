"""What a payment does to a booking, whoever records it (staff, Stripe): one path for every payer.

Paid, a pending booking is confirmed; a lapsed hold is revived when its time is still free, else stays
cancelled with `refund_due`; a payment for a booking that cannot take it (cancelled for another reason,
already paid, over) is given back in full. Refunds of Stripe payments and the closing of Checkout
Sessions are payment tasks queued on the change's unit of work; the worker asks Stripe.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.bookings import holds, passes, repository
from booking.bookings.errors import refused
from booking.bookings.events import emit
from booking.bookings.lifecycle import Role, set_status, status_after_payment
from booking.bookings.messages import booked_session, parties_for
from booking.bookings.repository import OverlapRefused
from booking.enums import (
    STATUS_EVENTS,
    BookingStatus,
    EventType,
    PaymentProvider,
    PaymentStatus,
    RefundStatus,
)
from booking.models.bookings import Booking
from booking.notifications.effects import Messages
from booking.notifications.service import status_change_messages
from booking.payments.effects import PaymentTasks
from booking.scheduling import Rejection
from booking.unit_of_work import UnitOfWork

FULL = 100


@dataclass(frozen=True)
class Payment:
    provider: PaymentProvider
    amount: int
    payment_intent: str | None = None  # Stripe's: what a refund names
    session_id: str | None = None  # the Checkout Session it came through (closed by it)


def can_take_payment(booking: Booking) -> bool:
    """Unpaid and pending, or a lapsed hold (the one cancelled booking a payment may bring back)."""
    if booking.payment_status == PaymentStatus.PAID:
        return False
    return booking.status == BookingStatus.PENDING or holds.is_lapsed_hold(booking)


async def take_payment(work: UnitOfWork, booking: Booking, payment: Payment) -> tuple[BookingStatus, bool]:
    """Record `payment` on a booking that can take it; answers its status after it and whether the
    payer is owed their money back (a lapsed hold whose time was taken meanwhile)."""
    booking.payment_status = PaymentStatus.PAID
    if not _provider_payment_kept(booking, payment):
        booking.payment_provider = payment.provider
        booking.amount_paid = payment.amount
        booking.payment_intent = payment.payment_intent
    if booking.checkout_session_id == payment.session_id:
        booking.checkout_session_id = None  # closed by this payment
    holds.stop_waiting_for_payment(work, booking)
    if not holds.is_lapsed_hold(booking):
        return status_after_payment(booking.status, PaymentStatus.PAID), False
    target = await holds.revive_or_refund(work, booking)
    if target == BookingStatus.CANCELLED:
        refund(work, booking, booking.amount_paid, booking.payment_intent)
        return target, True
    return target, False


def _provider_payment_kept(booking: Booking, payment: Payment) -> bool:
    """Staff marking paid again a booking whose provider payment is still recorded (they had marked it
    unpaid): the provider's record stays, so that a cancel still refunds it through the provider."""
    return payment.provider == PaymentProvider.MANUAL and booking.payment_provider not in (
        None,
        PaymentProvider.MANUAL,
    )


async def take_online_payment(work: UnitOfWork, booking: Booking, payment: Payment, actor: str) -> None:
    """A provider's payment (Stripe): the booking goes on as for a staff payment, with its history,
    messages and events; a payment it cannot take is refunded in full and marked `refund_due`."""
    if not can_take_payment(booking):
        booking.refund_due = True
        booking.updated_at = work.now
        refund(work, booking, payment.amount, payment.payment_intent)
        emit(work, EventType.REFUND_DUE, booking)
        return
    previous = booking.status
    target, refund_due = await take_payment(work, booking, payment)
    await finish_change(work, booking, previous, target, PaymentStatus.PAID, actor)
    emit(work, EventType.PAID, booking)
    if refund_due:
        emit(work, EventType.REFUND_DUE, booking)


async def finish_change(
    work: UnitOfWork,
    booking: Booking,
    previous: BookingStatus,
    target: BookingStatus,
    payment_status: PaymentStatus | None,
    actor: str,
) -> None:
    """Write a change's history entry and status, then its messages and status event."""
    session = work.session
    if target != booking.status or payment_status is not None:
        repository.add_change(session, booking, target, payment_status, actor, work.now)
    if target == BookingStatus.CONFIRMED:
        booking.hold_expires_at = None  # only a pending booking has a hold
    set_status(booking, target)
    booking.updated_at = work.now
    try:
        await repository.save_changes(session)
    except OverlapRefused as exc:
        raise refused(Rejection.SLOT_UNAVAILABLE) from exc
    if booking.status != previous:
        outgoing = work.effect(Messages)
        parties = await parties_for(session, booking, outgoing.notifier)
        outgoing.send(*status_change_messages(outgoing.notifier, booked_session(booking), parties, work.now))
        emit(work, STATUS_EVENTS[booking.status], booking)


async def after_cancel(work: UnitOfWork, booking: Booking, role: Role) -> None:
    """A cancelled booking's money: a student cancelling gets `refund_percent` of a Stripe payment (the
    share as it was when the booking was made, rounded down), an instructor or staff cancelling gives it
    all back; an open Checkout Session is closed; a session paid with a pass goes back to the pass."""
    holds.stop_waiting_for_payment(work, booking)
    await passes.give_back(work.session, booking, work.now)
    if booking.payment_provider != PaymentProvider.STRIPE:
        return
    percent = booking.refund_percent if role == Role.STUDENT and booking.refund_percent is not None else FULL
    refund(work, booking, booking.amount_paid * percent // FULL, booking.payment_intent)


def refund(work: UnitOfWork, booking: Booking, amount: int, payment_intent: str | None) -> None:
    """Queue a refund of a Stripe payment; one of 0 asks Stripe nothing and leaves `refund_status` null.
    A manual payment is staff's to give back (`refund_due` says so)."""
    if amount <= 0 or payment_intent is None:
        return
    booking.refund_status = RefundStatus.PENDING
    work.effect(PaymentTasks).refund(booking.id, payment_intent, amount)
