"""What Stripe reports, applied to bookings: a session paid, closed or still waiting; a refund
succeeded or failed. The webhook, the refresh and the worker all come through here, so a payment is
applied once whichever of them sees it first (a payment already recorded is recognised by its intent)."""

from __future__ import annotations

import json
import logging
from uuid import UUID

from booking.bookings.events import emit
from booking.bookings.payments import Payment, take_online_payment
from booking.bookings.repository import booking_by_id
from booking.enums import CheckoutStatus, EventType, PassStatus, PaymentProvider, RefundStatus
from booking.models.bookings import Booking
from booking.packages.repository import pass_by_id
from booking.packages.service import activate
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
    """A Checkout Session as Stripe shows it now: paid, it pays what it sold (a booking, a series'
    occurrences, a pass); closed, it is closed."""
    if "series_id" in found.metadata or "pass_id" in found.metadata:
        await apply_program_session(work, found)
        return
    booking_id = booking_id_of(found.reference)
    booking = None if booking_id is None else await booking_by_id(work.session, booking_id, for_update=True)
    if booking is None:
        log.info("Stripe session %s names no booking of ours", found.id)
        return
    if not await record_session_status(work, found):
        return
    if booking.checkout_session_id == found.id and not found.paid:
        booking.checkout_session_id = None  # the next checkout makes a new session
    if found.paid:
        await apply_payment(work, booking, found)


async def record_session_status(work: UnitOfWork, found: ProviderSession) -> bool:
    """The session's status as Stripe shows it; False while it is still payable (nothing more to do)."""
    if found.open:
        if found.status == "complete":  # a delayed method: paid later, or failed
            await repository.set_session_status(work.session, found.id, CheckoutStatus.PROCESSING)
        return False
    closed = CheckoutStatus.COMPLETE if found.status == "complete" else CheckoutStatus.EXPIRED
    await repository.set_session_status(work.session, found.id, closed)
    return True


async def apply_payment(work: UnitOfWork, booking: Booking, found: ProviderSession) -> None:
    if not paid_as_priced(found, booking.price_amount, booking.price_currency, f"booking {booking.id}"):
        return
    await pay_booking(work, booking, found)


async def pay_booking(work: UnitOfWork, booking: Booking, found: ProviderSession) -> None:
    """The booking's own price paid through the session (once: a payment already recorded is known by
    its intent)."""
    if found.payment_intent is not None and booking.payment_intent == found.payment_intent:
        return
    payment = Payment(PaymentProvider.STRIPE, booking.price_amount or 0, found.payment_intent, found.id)
    await take_online_payment(work, booking, payment, STRIPE_ACTOR)


def paid_as_priced(found: ProviderSession, amount: int | None, currency: str | None, what: str) -> bool:
    """A payment applies only when Stripe took exactly the price asked (else a log line, nothing more)."""
    if found.amount_total is not None and found.amount_total == amount and found.currency == currency:
        return True
    log.warning(
        "Stripe session %s paid %s %s for %s priced %s %s: not applied",
        found.id,
        found.amount_total,
        found.currency,
        what,
        amount,
        currency,
    )
    return False


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


async def apply_program_session(work: UnitOfWork, found: ProviderSession) -> None:
    """A session of a weekly series (paying each occurrence it covers its own price) or of a pass
    (activating it). The session must be one of ours: what it covers is on our row of it."""
    row = await repository.session_by_id(work.session, found.id)
    if row is None or row.amount is None:
        log.info("Stripe session %s is not one of ours", found.id)
        return
    if not await record_session_status(work, found):
        return
    covered = [] if row.covers is None else [UUID(value) for value in json.loads(row.covers)]
    bookings = [await booking_by_id(work.session, booking_id, for_update=True) for booking_id in covered]
    if not found.paid:
        for booking in bookings:
            if booking is not None and booking.checkout_session_id == found.id:
                booking.checkout_session_id = None
        return
    if row.pass_id is not None:
        await pay_pass(work, row.pass_id, found)
        return
    currency = next((b.price_currency for b in bookings if b is not None), None)
    if not paid_as_priced(found, row.amount, currency, f"series {row.series_id}"):
        return
    for booking in bookings:
        if booking is not None:
            await pay_booking(work, booking, found)


async def pay_pass(work: UnitOfWork, pass_id: UUID, found: ProviderSession) -> None:
    """A pending pass paid is activated; a payment for a pass that cannot take it (cancelled, paid
    already by other means) is logged for staff to give back: no money is refunded on its own."""
    bought = await pass_by_id(work.session, pass_id, for_update=True)
    if bought is None or not paid_as_priced(
        found, bought.price_amount, bought.price_currency, f"pass {pass_id}"
    ):
        return
    if found.payment_intent is not None and bought.payment_intent == found.payment_intent:
        return  # recorded already
    if bought.status != PassStatus.PENDING:
        log.warning(
            "Stripe session %s paid pass %s, which is %s: refund it in Stripe",
            found.id,
            pass_id,
            bought.status,
        )
        return
    await activate(work, bought, PaymentProvider.STRIPE, found.amount_total or 0, found.payment_intent)
