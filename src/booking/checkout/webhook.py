"""Stripe's webhook: a signed event, applied at most once (its id is recorded in the transaction that
applies it), in whatever order events come. Unknown bookings and event types are answered and ignored."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from booking.bookings.repository import booking_by_id, booking_by_payment_intent
from booking.checkout.errors import InvalidSignature
from booking.checkout.outcomes import apply_session, booking_id_of, refund_settled
from booking.models.bookings import Booking
from booking.payments import repository
from booking.payments.providers import session_from
from booking.payments.signature import is_signed
from booking.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SESSION_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
REFUND_EVENTS = frozenset({"refund.updated", "charge.refunded"})


def verified_event(body: bytes, header: str | None, secrets: list[str], now: datetime) -> Mapping[str, Any]:
    """The event of a correctly signed body; 400 invalid_signature otherwise (nothing is read)."""
    if not secrets or not is_signed(header, body, secrets, now):
        raise InvalidSignature("the Stripe-Signature header does not sign this body with a known secret")
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidSignature("a signed body that is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise InvalidSignature("a signed body that is not a Stripe event")
    return event


APPLIED, REPEAT, IGNORED = "applied", "repeat", "ignored"


async def apply_event(work: UnitOfWork, event: Mapping[str, Any]) -> str:
    """Apply one event in one transaction with the record of its id; a repeat changes nothing.
    Answers what became of it: applied, repeat or ignored."""
    kind = str(event.get("type") or "")
    data = event.get("data")
    thing = data.get("object") if isinstance(data, dict) else None
    if kind not in SESSION_EVENTS | REFUND_EVENTS or not isinstance(thing, dict):
        return IGNORED
    if not await repository.claim_event(work.session, str(event["id"]), kind, work.now):
        return REPEAT
    try:
        if kind in SESSION_EVENTS:
            await _apply_session_event(work, kind, thing)
        else:
            await _apply_refund_event(work, kind, thing)
    except (KeyError, TypeError, ValueError):
        log.warning("Stripe event %s (%s) has a shape we do not know: ignored", event["id"], kind)
        return IGNORED
    return APPLIED


# What an async payment event says of its session, whatever the object's own fields still show.
ASYNC_OUTCOMES = {
    "checkout.session.async_payment_failed": {"status": "expired", "payment_status": "unpaid"},
    "checkout.session.async_payment_succeeded": {"status": "complete", "payment_status": "paid"},
}


async def _apply_session_event(work: UnitOfWork, kind: str, thing: dict[str, Any]) -> None:
    await apply_session(work, session_from(thing | ASYNC_OUTCOMES.get(kind, {})))


async def _apply_refund_event(work: UnitOfWork, kind: str, thing: dict[str, Any]) -> None:
    if kind == "refund.updated":
        booking = await _booking_of_refund(work, thing)
        if booking is not None:
            amount = (
                booking.amount_refunded + int(thing["amount"]) if thing.get("status") == "succeeded" else 0
            )
            await refund_settled(work, booking, str(thing.get("status")), amount)
        return
    # A charge counts a refund as refunded while it is still pending: only the refunds it lists, with
    # their own status, say how it went (a charge without them leaves it to `refund.updated`). One
    # charge may have paid several occurrences of a series: each refund names its booking.
    listed = thing.get("refunds")
    refunds = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(refunds, list) or not refunds:
        return
    for booking_id, own in _refunds_by_booking(refunds).items():
        if booking_id is None:
            booking = await _booking_of_refund(work, thing)
        else:
            booking = await booking_by_id(work.session, booking_id, for_update=True)
        if booking is not None:
            await _settle_listed(work, booking, own)


def _refunds_by_booking(refunds: list[dict[str, Any]]) -> dict[UUID | None, list[dict[str, Any]]]:
    grouped: dict[UUID | None, list[dict[str, Any]]] = {}
    for refund in refunds:
        metadata = refund.get("metadata")
        booking_id = booking_id_of(metadata.get("booking_id")) if isinstance(metadata, dict) else None
        grouped.setdefault(booking_id, []).append(refund)
    return grouped


async def _settle_listed(work: UnitOfWork, booking: Booking, refunds: list[dict[str, Any]]) -> None:
    statuses = {str(refund.get("status")) for refund in refunds}
    if statuses == {"succeeded"}:
        await refund_settled(work, booking, "succeeded", sum(int(refund["amount"]) for refund in refunds))
    elif statuses & {"failed", "canceled"}:
        await refund_settled(work, booking, "failed", booking.amount_refunded)


async def _booking_of_refund(work: UnitOfWork, thing: dict[str, Any]) -> Booking | None:
    metadata = thing.get("metadata")
    booking_id = booking_id_of(metadata.get("booking_id")) if isinstance(metadata, dict) else None
    if booking_id is not None:
        return await booking_by_id(work.session, booking_id, for_update=True)
    intent = thing.get("payment_intent")
    if isinstance(intent, str):
        return await booking_by_payment_intent(work.session, intent)
    return None
