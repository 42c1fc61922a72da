"""Checkout of a weekly series (one line item: the sum of its pending occurrences' prices) and of a
pass (its package's price), through the same session handling as a booking's."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booking.auth import Principal
from booking.availability.repository import instructor_in_brand
from booking.bookings import holds
from booking.bookings.errors import InvalidTransition
from booking.bookings.lifecycle import Role
from booking.bookings.repository import bookings_of_series
from booking.bookings.schemas import SeriesOut
from booking.bookings.series import read_series, visible_series
from booking.checkout.errors import NothingToPay
from booking.checkout.schemas import CheckoutIn, CheckoutSessionOut, PassPayerView, PayerView, SeriesPayerView
from booking.checkout.service import (
    ReturnTo,
    Sale,
    open_or_new_session,
    refresh_sale,
    require_provider,
    return_urls,
    session_expiry,
)
from booking.enums import BookingStatus, PassStatus, PaymentStatus
from booking.errors import Forbidden
from booking.models.bookings import Booking
from booking.packages.repository import pass_by_id
from booking.packages.schemas import PassOut
from booking.packages.service import pass_out, visible_pass
from booking.payments.providers import PaymentProvider, SessionRequest
from booking.unit_of_work import UnitOfWork


def payable_occurrences(bookings: list[Booking], now: datetime) -> list[Booking]:
    """The occurrences a series checkout pays for: pending, unpaid, priced, their hold running."""
    if not any(booking.price_amount for booking in bookings):
        raise NothingToPay("this series has no price to pay")
    payable = [
        booking
        for booking in bookings
        if booking.status == BookingStatus.PENDING
        and booking.payment_status == PaymentStatus.UNPAID
        and booking.price_amount
        and not holds.is_expired_hold(booking, now)
    ]
    if not payable:
        raise InvalidTransition("no occurrence of this series is waiting for payment")
    return payable


async def series_checkout(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    series_id: UUID,
    data: CheckoutIn,
    back: ReturnTo,
) -> CheckoutSessionOut:
    """POST /api/series/{id}/checkout: one session for every pending occurrence, each paid its own
    price once Stripe reports it paid."""
    stripe = require_provider(provider)

    async def change(work: UnitOfWork) -> CheckoutSessionOut:
        series, bookings, role = await visible_series(work.session, principal, series_id, for_update=True)
        if role == Role.INSTRUCTOR:
            raise Forbidden("the instructor does not pay for the sessions")
        payable = payable_occurrences(bookings, work.now)
        urls = await return_urls(work, series.brand_id, f"series={series.id}", data, back)

        async def request() -> SessionRequest:
            first = payable[0]
            found = await instructor_in_brand(work.session, first.instructor_id, first.brand_id)
            name = found.name if found is not None else "your instructor"
            local = first.starts_at.astimezone(ZoneInfo(first.instructor_timezone))
            when = f"{local:%Y-%m-%d %H:%M} {first.instructor_timezone}"
            product = f"{len(payable)} sessions with {name}, from {when}"
            assert first.price_currency is not None
            return SessionRequest(
                reference=series.id,
                metadata={"series_id": str(series.id)},
                amount=sum(booking.price_amount or 0 for booking in payable),
                currency=first.price_currency,
                product_name=product,
                customer_email=first.student_email,
                expires_at=session_expiry(first.hold_expires_at, work.now),
                success_url=urls[0],
                cancel_url=urls[1],
            )

        made = await open_or_new_session(
            work, stripe, Sale("series", series.id, request, [booking.id for booking in payable])
        )
        for booking in payable:
            booking.checkout_session_id = made.id
        return made

    return await work.run(change)


async def pass_checkout(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    pass_id: UUID,
    data: CheckoutIn,
    back: ReturnTo,
) -> CheckoutSessionOut:
    """POST /api/passes/{id}/checkout: a session for a pending pass's price; paid, the pass activates."""
    stripe = require_provider(provider)

    async def change(work: UnitOfWork) -> CheckoutSessionOut:
        bought, _ = await visible_pass(work.session, principal, pass_id, for_update=True)
        if not bought.price_amount:
            raise NothingToPay("this pass has no price to pay")
        if bought.status != PassStatus.PENDING:
            raise InvalidTransition("only a pending pass can be paid")
        urls = await return_urls(work, bought.brand_id, f"pass={bought.id}", data, back)

        async def request() -> SessionRequest:
            return SessionRequest(
                reference=bought.id,
                metadata={"pass_id": str(bought.id)},
                amount=bought.price_amount,
                currency=bought.price_currency,
                product_name=f"{bought.name} ({bought.sessions_total} sessions)",
                customer_email=None,
                expires_at=session_expiry(None, work.now),
                success_url=urls[0],
                cancel_url=urls[1],
            )

        return await open_or_new_session(work, stripe, Sale("pass", bought.id, request))

    return await work.run(change)


async def refresh_series(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    series_id: UUID,
    session_id: str | None,
) -> SeriesOut | SeriesPayerView:
    """POST /api/series/{id}/checkout/refresh: as a booking's, for the series' latest (or named) session."""

    async def access(session: AsyncSession) -> None:
        _, _, role = await visible_series(session, principal, series_id)
        if role == Role.INSTRUCTOR:
            raise Forbidden("the instructor does not pay for the sessions")

    await refresh_sale(work, provider, principal, ("series", series_id), session_id, access)
    async with work.db.transaction(write=False) as session:
        if principal.is_authenticated:
            return await read_series(session, principal, series_id)
        bookings = await bookings_of_series(session, series_id)
    return SeriesPayerView(
        id=series_id, bookings=[PayerView.model_validate(b, from_attributes=True) for b in bookings]
    )


async def refresh_pass(
    work: UnitOfWork,
    provider: PaymentProvider | None,
    principal: Principal,
    pass_id: UUID,
    session_id: str | None,
) -> PassOut | PassPayerView:
    """POST /api/passes/{id}/checkout/refresh: as a booking's, for the pass's latest (or named) session."""

    async def access(session: AsyncSession) -> None:
        await visible_pass(session, principal, pass_id)

    await refresh_sale(work, provider, principal, ("pass", pass_id), session_id, access)
    async with work.db.transaction(write=False) as session:
        bought = await pass_by_id(session, pass_id)
    assert bought is not None  # its session was found
    shown = pass_out(bought, work.now)
    if principal.is_authenticated:
        return shown
    return PassPayerView(
        id=shown.id, status=shown.status, sessions_left=shown.sessions_left, valid_until=shown.valid_until
    )
