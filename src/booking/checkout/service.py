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
from collections.abc import Awaitable, Callable
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
        booking, role = await visible_booking(work.session, principal, booking_id, for_update=True)
        if role == Role.INSTRUCTOR:
            raise Forbidden("the instructor does not pay for the session")
        check_payable(booking, work.now)
        urls = await return_urls(work, booking.brand_id, f"booking={booking.id}", data, back)

        async def request() -> SessionRequest:
            return await session_request(work, booking, *urls)

        sale = Sale("booking", booking.id, request)
        made = await open_or_new_session(work, stripe, sale)
        booking.checkout_session_id = made.id
        return made

    return await work.run(change)


@dataclass(frozen=True)
class Sale:
    """What one checkout sells: a booking, a series' pending occurrences (`covers`) or a pass; its
    session request is made only when no open session can be answered instead."""

    kind: str  # booking, series, pass
    owner_id: UUID
    request: Callable[[], Awaitable[SessionRequest]]
    covers: list[UUID] | None = None

    def owns(self, found: CheckoutSession) -> bool:
        """An open session still sells this: a series' must cover the same occurrences."""
        return self.covers is None or found.covers == covers_json(self.covers)


def covers_json(ids: list[UUID]) -> str:
    return json.dumps([str(booking_id) for booking_id in ids])


async def open_or_new_session(work: UnitOfWork, stripe: PaymentProvider, sale: Sale) -> CheckoutSessionOut:
    """The sale's open session (concurrent calls wait on the caller's row lock and answer it), or a new
    one from Stripe; 502 with nothing changed when Stripe refuses or cannot be reached."""
    session = work.session
    owner = repository.sessions_of(sale.kind, sale.owner_id)
    found = await repository.open_session(session, owner, work.now)
    if found is not None and sale.owns(found):
        return CheckoutSessionOut(id=found.id, url=found.url, expires_at=found.expires_at)
    request = await sale.request()
    earlier = await repository.count_sessions(session, owner)
    try:
        made = await stripe.create_session(request, idempotency_key(request, earlier))
    except PaymentError as exc:
        raise PaymentProviderFailed(f"Stripe did not make the checkout: {exc.reason}") from exc
    if made.url is None:
        raise PaymentProviderFailed("Stripe answered a checkout session without a URL")
    row = CheckoutSession(
        id=made.id,
        url=made.url,
        expires_at=made.expires_at,
        status=CheckoutStatus.OPEN,
        created_at=work.now,
        amount=request.amount,
        covers=None if sale.covers is None else covers_json(sale.covers),
    )
    setattr(row, f"{sale.kind}_id", sale.owner_id)
    repository.add_session(session, row)
    return CheckoutSessionOut(id=made.id, url=made.url, expires_at=made.expires_at)


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
    work: UnitOfWork, brand_id: UUID, query: str, data: CheckoutIn, back: ReturnTo
) -> tuple[str, str]:
    """The URLs Stripe sends the payer back to: given ones on an allowed origin, else the brand's
    booking page with `query` (`booking=<id>`, `series=<id>`, `pass=<id>`)."""
    for name in ("success_url", "cancel_url"):
        url = getattr(data, name)
        if url is not None and origin_of(url) not in back.origins:
            raise field_error("must be on the service's own origin or one of EMBED_ORIGINS", "body", name)
    if data.success_url is not None and data.cancel_url is not None:
        return data.success_url, data.cancel_url
    brand = await brand_by_id(work.session, brand_id)
    page = f"{back.base}/book/{brand.slug if brand else ''}?{query}"
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
        reference=booking.id,
        metadata={"booking_id": str(booking.id)},
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
    return f"checkout-{request.reference}-{earlier}-{digest}"


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
    role: Role | None = None

    async def access(session: AsyncSession) -> None:
        nonlocal role
        _, role = await visible_booking(session, principal, booking_id)
        if role == Role.INSTRUCTOR:
            raise Forbidden("the instructor does not pay for the session")

    await refresh_sale(work, provider, principal, ("booking", booking_id), session_id, access)
    async with work.db.transaction(write=False) as session:
        booking = await booking_by_id(session, booking_id)
    assert booking is not None
    if principal.is_authenticated:
        return render(booking, staff=role == Role.STAFF)
    return PayerView.model_validate(booking, from_attributes=True)


async def refresh_sale(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    owner: tuple[str, UUID],
    session_id: str | None,
    access: Callable[[AsyncSession], Awaitable[None]],
) -> None:
    """Ask Stripe for the latest (or named) session of a booking, series or pass (`owner`: kind, id)
    and apply it as its webhook would. A caller with a token must pass `access`; one without proves
    itself with the session id Stripe put in the return URL."""
    stripe = require_provider(provider)
    async with work.db.transaction(write=False) as session:
        if principal.is_authenticated:
            await access(session)
        known = await _session_of(session, owner, session_id, required=not principal.is_authenticated)
    try:
        found = await stripe.get_session(known.id)
    except PaymentError as exc:
        raise PaymentProviderFailed(f"Stripe did not answer: {exc.reason}") from exc
    await work.run(lambda work: apply_session(work, found))


async def _session_of(
    session: AsyncSession, owner: tuple[str, UUID], session_id: str | None, *, required: bool
) -> CheckoutSession:
    """The session to ask Stripe about: the named one (it must be the owner's), else the latest."""
    kind, owner_id = owner
    if session_id is None:
        if required:
            raise Unauthorized("send a bearer token, or the session_id Stripe put in the return URL")
        found = await repository.latest_session(session, repository.sessions_of(kind, owner_id))
    else:
        found = await repository.session_by_id(session, session_id)
    if found is None or getattr(found, f"{kind}_id") != owner_id:
        raise NotFound(f"no such checkout session for this {kind}")
    return found
