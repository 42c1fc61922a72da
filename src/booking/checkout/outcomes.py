"""What Stripe reports, applied to bookings: a session paid, closed or still waiting; a refund
succeeded or failed. The webhook, the refresh and the worker all come through here, so a payment is
applied once whichever of them sees it first (a payment already recorded is recognised by its intent)."""

from __future__ import annotations

import logging
from uuid import UUID

from booking.bookings.events import emit
from booking.bookings.payments import Payment, take_online_payment
from booking.bookings.repository import booking_by_id
from booking.enums import CheckoutStatus, EventType, PaymentProvider, RefundStatus
from booking.models.bookings import Booking
from booking.payments import repository
from booking.payments.providers import ProviderSession
from booking.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

STRIPE_ACTOR = "stripe"  # the history's actor of a payment Stripe reported


def booking_id_of(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


async def apply_session(work: UnitOfWork, found: ProviderSession) -> None:
    """A Checkout Session as Stripe shows it now: paid, it pays its booking; closed, it is closed."""
    booking_id = booking_id_of(found.booking_id)
    booking = None if booking_id is None else await booking_by_id(work.session, booking_id, for_update=True)
    if booking is None:
        log.info("Stripe session %s names no booking of ours", found.id)
        return
    if found.open:
        if found.status == "complete":  # a delayed method: paid later, or failed
            await repository.set_session_status(work.session, found.id, CheckoutStatus.PROCESSING)
        return
    closed = CheckoutStatus.COMPLETE if found.status == "complete" else CheckoutStatus.EXPIRED
    await repository.set_session_status(work.session, found.id, closed)
    if booking.checkout_session_id == found.id and not found.paid:
        booking.checkout_session_id = None  # the next checkout makes a new session
    if found.paid:
        await apply_payment(work, booking, found)


async def apply_payment(work: UnitOfWork, booking: Booking, found: ProviderSession) -> None:
    if found.payment_intent is not None and booking.payment_intent == found.payment_intent:
        return  # this payment is recorded already
    paid = found.amount_total
    if paid is None or paid != booking.price_amount or found.currency != booking.price_currency:
        log.warning(
            "Stripe session %s paid %s %s for booking %s priced %s %s: not applied",
            found.id,
            paid,
            found.currency,
            booking.id,
            booking.price_amount,
            booking.price_currency,
        )
        return
    payment = Payment(PaymentProvider.STRIPE, paid, found.payment_intent, found.id)
    await take_online_payment(work, booking, payment, STRIPE_ACTOR)


async def refund_settled(work: UnitOfWork, booking: Booking, status: str, amount_refunded: int) -> None:
    """Stripe's word on a booking's refund: `succeeded` sets what was refunded (`booking.refunded`),
    `failed` or `canceled` mark it failed (`booking.refund_failed`); anything else is still pending."""
    if status == "succeeded" and booking.refund_status != RefundStatus.SUCCEEDED:
        booking.refund_status = RefundStatus.SUCCEEDED
        booking.amount_refunded = amount_refunded
        booking.updated_at = work.now
        emit(work, EventType.REFUNDED, booking)
    elif status in ("failed", "canceled") and booking.refund_status != RefundStatus.FAILED:
        refund_failed(work, booking)


def refund_failed(work: UnitOfWork, booking: Booking) -> None:
    """Stripe refused the refund (or gave up on it); a refund it reported succeeded stays so."""
    if booking.refund_status == RefundStatus.SUCCEEDED:
        return
    booking.refund_status = RefundStatus.FAILED
    booking.updated_at = work.now
    emit(work, EventType.REFUND_FAILED, booking)
