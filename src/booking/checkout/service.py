"""Checkout: a Stripe Checkout Session for a pending priced booking, and the refresh that asks Stripe
how it went when the student comes back.

One open session per booking: the booking row is locked while the session is made, so concurrent calls
wait for the first and answer its session. Stripe is asked inside that transaction (bounded by
STRIPE_TIMEOUT_SECONDS), with an Idempotency-Key made of the booking and the request's own parameters,
so a retried transaction gets Stripe's first answer back rather than a second session.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booking.auth import Principal
from booking.availability.repository import instructor_in_brand
from booking.bookings import holds
from booking.bookings.errors import InvalidTransition
from booking.bookings.lifecycle import Role
from booking.bookings.reads import visible_booking
from booking.bookings.render import render
from booking.bookings.repository import booking_by_id
from booking.bookings.schemas import BookingOut
from booking.brands.repository import brand_by_id
from booking.checkout.errors import NothingToPay, PaymentProviderFailed, PaymentsNotConfigured
from booking.checkout.outcomes import apply_session
from booking.checkout.schemas import CheckoutIn, CheckoutSessionOut, PayerView
from booking.enums import BookingStatus, CheckoutStatus, PaymentStatus
from booking.errors import Forbidden, NotFound, Unauthorized, field_error
from booking.models.bookings import Booking
from booking.models.payments import CheckoutSession
from booking.payments import repository
from booking.payments.providers import PaymentError, PaymentProvider, SessionRequest, session_params
from booking.unit_of_work import UnitOfWork

# Stripe's bounds on a Checkout Session's expiry, counted from when Stripe makes it: a minute inside them
# each way, so that the time the request takes never puts it outside.
MARGIN = timedelta(minutes=1)
SHORTEST = timedelta(minutes=30) + MARGIN
LONGEST = timedelta(hours=24) - MARGIN
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


@dataclass(frozen=True)
class ReturnTo:
    """The service's own base URL (the default return goes to its booking page) and the origins a
    caller's return URLs may point to."""

    base: str
    origins: list[str]


def require_provider(provider: PaymentProvider | None) -> PaymentProvider:
    if provider is None:
        raise PaymentsNotConfigured("online payment is off: STRIPE_SECRET_KEY is not set")
    return provider


async def start_checkout(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    booking_id: UUID,
    data: CheckoutIn,
    back: ReturnTo,
) -> CheckoutSessionOut:
    """POST /api/bookings/{id}/checkout: the booking's open session, or a new one."""
    stripe = require_provider(provider)

    async def change(work: UnitOfWork) -> CheckoutSessionOut:
        session = work.session
        booking, role = await visible_booking(session, principal, booking_id, for_update=True)
        if role == Role.INSTRUCTOR:
            raise Forbidden("the instructor does not pay for the session")
        check_payable(booking, work.now)
        success_url, cancel_url = await return_urls(work, booking, data, back)
        found = await repository.open_session(session, booking.id, work.now)
        if found is not None:
            return CheckoutSessionOut(id=found.id, url=found.url, expires_at=found.expires_at)
        request = await session_request(work, booking, success_url, cancel_url)
        earlier = await repository.count_sessions(session, booking.id)
        try:
            made = await stripe.create_session(request, idempotency_key(request, earlier))
        except PaymentError as exc:
            raise PaymentProviderFailed(f"Stripe did not make the checkout: {exc.reason}") from exc
        if made.url is None:
            raise PaymentProviderFailed("Stripe answered a checkout session without a URL")
        repository.add_session(
            session,
            CheckoutSession(
                id=made.id,
                booking_id=booking.id,
                url=made.url,
                expires_at=made.expires_at,
                status=CheckoutStatus.OPEN,
                created_at=work.now,
            ),
        )
        booking.checkout_session_id = made.id
        return CheckoutSessionOut(id=made.id, url=made.url, expires_at=made.expires_at)

    return await work.run(change)


def check_payable(booking: Booking, now: datetime) -> None:
    if not booking.price_amount:
        raise NothingToPay("this booking has no price to pay")
    if (
        booking.status != BookingStatus.PENDING
        or booking.payment_status == PaymentStatus.PAID
        or holds.is_expired_hold(booking, now)
    ):
        raise InvalidTransition("only a pending, unpaid booking whose hold has not expired can be paid")


async def return_urls(
    work: UnitOfWork, booking: Booking, data: CheckoutIn, back: ReturnTo
) -> tuple[str, str]:
    """The URLs Stripe sends the payer back to: given ones on an allowed origin, else the booking page."""
    for name in ("success_url", "cancel_url"):
        url = getattr(data, name)
        if url is not None and origin_of(url) not in back.origins:
            raise field_error("must be on the service's own origin or one of EMBED_ORIGINS", "body", name)
    if data.success_url is not None and data.cancel_url is not None:
        return data.success_url, data.cancel_url
    brand = await brand_by_id(work.session, booking.brand_id)
    page = f"{back.base}/book/{brand.slug if brand else ''}?booking={booking.id}"
    success = f"{page}&checkout=success&session_id={SESSION_ID_PLACEHOLDER}"
    return data.success_url or success, data.cancel_url or f"{page}&checkout=cancelled"


def origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


async def session_request(
    work: UnitOfWork, booking: Booking, success_url: str, cancel_url: str
) -> SessionRequest:
    instructor = await instructor_in_brand(work.session, booking.instructor_id, booking.brand_id)
    name = instructor.name if instructor is not None else "your instructor"
    local = booking.starts_at.astimezone(ZoneInfo(booking.instructor_timezone))
    product = f"Session with {name}, {local:%Y-%m-%d %H:%M} {booking.instructor_timezone}"
    assert booking.price_amount is not None and booking.price_currency is not None
    return SessionRequest(
        booking_id=booking.id,
        amount=booking.price_amount,
        currency=booking.price_currency,
        product_name=product,
        customer_email=booking.student_email,
        expires_at=session_expiry(booking.hold_expires_at, work.now),
        success_url=success_url,
        cancel_url=cancel_url,
    )


def session_expiry(hold_expires_at: datetime | None, now: datetime) -> datetime:
    """The later of the hold's end and now + 30 min, at most now + 24 h (a hold that never ends: 24 h),
    each a minute inside Stripe's bounds. Whole seconds: Stripe counts in them, and the idempotency key
    must see what Stripe sees."""
    if hold_expires_at is None:
        ends = now + LONGEST
    else:
        ends = min(max(hold_expires_at, now + SHORTEST), now + LONGEST)
    return ends.replace(microsecond=0)


def idempotency_key(request: SessionRequest, earlier: int) -> str:
    """The same booking, its same count of earlier sessions and the same parameters: the same key
    (Stripe answers its first session); once a session is closed, the next one gets a new key."""
    params = json.dumps(session_params(request), sort_keys=True, default=str)
    digest = hashlib.sha256(params.encode()).hexdigest()[:32]
    return f"checkout-{request.booking_id}-{earlier}-{digest}"


# --- refresh ------------------------------------------------------------------------------------------


async def refresh(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    booking_id: UUID,
    session_id: str | None,
) -> BookingOut | PayerView:
    """POST /api/bookings/{id}/checkout/refresh: ask Stripe for the booking's latest (or named) session
    and apply it as its webhook would. A caller without a token proves itself with the session's id."""
    stripe = require_provider(provider)
    role: Role | None = None
    async with work.db.transaction(write=False) as session:
        staff_view = principal.is_authenticated
        if staff_view:
            _, role = await visible_booking(session, principal, booking_id)
            if role == Role.INSTRUCTOR:
                raise Forbidden("the instructor does not pay for the session")
        known = await _session_of(session, booking_id, session_id, required=not staff_view)
    try:
        found = await stripe.get_session(known.id)
    except PaymentError as exc:
        raise PaymentProviderFailed(f"Stripe did not answer: {exc.reason}") from exc

    async def change(work: UnitOfWork) -> BookingOut | PayerView:
        await apply_session(work, found)
        booking = await booking_by_id(work.session, booking_id)
        assert booking is not None
        if staff_view:
            return render(booking, staff=role == Role.STAFF)
        return PayerView.model_validate(booking, from_attributes=True)

    return await work.run(change)


async def _session_of(
    session: AsyncSession, booking_id: UUID, session_id: str | None, *, required: bool
) -> CheckoutSession:
    """The session to ask Stripe about: the named one (it must be this booking's), else the latest."""
    if session_id is None:
        if required:
            raise Unauthorized("send a bearer token, or the session_id Stripe put in the return URL")
        found = await repository.latest_session(session, booking_id)
    else:
        found = await repository.session_by_id(session, session_id)
    if found is None or found.booking_id != booking_id:
        raise NotFound("no such checkout session for this booking")
    return found
