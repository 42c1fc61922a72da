"""Online payment: checkout and refresh on a booking, and Stripe's webhook."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Header, Request

from booking import metrics
from booking.bookings.errors import InvalidTransition
from booking.bookings.schemas import BookingOut, SeriesOut
from booking.checkout import programs, service
from booking.checkout.errors import (
    InvalidSignature,
    NothingToPay,
    PaymentProviderFailed,
    PaymentsNotConfigured,
)
from booking.checkout.schemas import (
    CheckoutIn,
    CheckoutOut,
    PassPayerView,
    PayerView,
    RefreshIn,
    SeriesPayerView,
)
from booking.checkout.webhook import apply_event, verified_event
from booking.config import origin_list
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from booking.openapi import errors
from booking.packages.schemas import PassOut
from booking.payments.signature import secrets_of

router = APIRouter(tags=["payments"])
# What a checkout (of a booking, a series or a pass) and its refresh can answer.
CHECKOUT_ERRORS = errors(
    PaymentsNotConfigured,
    NothingToPay,
    InvalidTransition,
    Forbidden,
    NotFound,
    ValidationFailed,
    PaymentProviderFailed,
)
REFRESH_ERRORS = errors(PaymentsNotConfigured, Unauthorized, Forbidden, NotFound, PaymentProviderFailed)


def return_to(request: Request, public_base_url: str | None, embedding: str) -> service.ReturnTo:
    """Where Stripe may send a payer back: the service's own origin, then the embedding sites'; by
    default to the booking page under the service's own base URL (PUBLIC_BASE_URL, path included)."""
    base = (public_base_url or str(request.base_url)).rstrip("/")
    origins = [service.origin_of(base) or base, *(origin.lower() for origin in origin_list(embedding))]
    return service.ReturnTo(base, origins)


@router.post(
    "/api/bookings/{booking_id}/checkout",
    response_model=CheckoutOut,
    responses=CHECKOUT_ERRORS,
)
async def checkout(
    booking_id: UUID,
    request: Request,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[CheckoutIn | None, Body()] = None,
) -> CheckoutOut:
    """A Stripe Checkout Session for a pending priced booking: the open one, or a new one."""
    back = return_to(request, ctx.settings.public_base_url, ctx.settings.embed_origins)
    made = await service.start_checkout(
        ctx.unit_of_work(principal), ctx.payments, principal, booking_id, body or CheckoutIn(), back
    )
    return CheckoutOut(checkout=made)


@router.post(
    "/api/bookings/{booking_id}/checkout/refresh",
    dependencies=[PUBLIC],
    response_model=dict[str, BookingOut | PayerView],
    responses=REFRESH_ERRORS,
)
async def refresh_checkout(
    booking_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> dict[str, BookingOut | PayerView]:
    """Ask Stripe how the booking's checkout went and apply it (a late webhook never keeps a payer
    waiting). Without a token, the session id Stripe put in the return URL is the proof."""
    session_id = body.session_id if body is not None else None
    booking = await service.refresh(
        ctx.unit_of_work(principal), ctx.payments, principal, booking_id, session_id
    )
    return {"booking": booking}


@router.post(
    "/api/payments/stripe/webhook",
    dependencies=[PUBLIC],
    response_model=dict[str, bool],
    responses=errors(InvalidSignature),
)
async def stripe_webhook(
    request: Request,
    ctx: Context,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> dict[str, bool]:
    """Stripe's events, signed with one of STRIPE_WEBHOOK_SECRET; each applied at most once."""
    body = await request.body()
    secrets = secrets_of(ctx.settings.stripe_webhook_secret)
    try:
        event = verified_event(body, stripe_signature, secrets, ctx.clock.now())
    except InvalidSignature:
        metrics.stripe_event("refused")
        raise
    outcome = await ctx.unit_of_work().run(lambda work: apply_event(work, event))
    metrics.stripe_event(outcome)
    return {"received": True}


@router.post("/api/series/{series_id}/checkout", response_model=CheckoutOut, responses=CHECKOUT_ERRORS)
async def series_checkout(
    series_id: UUID,
    request: Request,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[CheckoutIn | None, Body()] = None,
) -> CheckoutOut:
    """One Stripe Checkout Session for every pending occurrence of the series (the sum of their prices)."""
    back = return_to(request, ctx.settings.public_base_url, ctx.settings.embed_origins)
    made = await programs.series_checkout(
        ctx.unit_of_work(principal), ctx.payments, principal, series_id, body or CheckoutIn(), back
    )
    return CheckoutOut(checkout=made)


@router.post(
    "/api/series/{series_id}/checkout/refresh",
    dependencies=[PUBLIC],
    response_model=dict[str, SeriesOut | SeriesPayerView],
    responses=REFRESH_ERRORS,
)
async def refresh_series_checkout(
    series_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> dict[str, SeriesOut | SeriesPayerView]:
    """Ask Stripe how the series' checkout went and apply it; without a token, the session id is the proof."""
    session_id = body.session_id if body is not None else None
    found = await programs.refresh_series(
        ctx.unit_of_work(principal), ctx.payments, principal, series_id, session_id
    )
    return {"series": found}


@router.post("/api/passes/{pass_id}/checkout", response_model=CheckoutOut, responses=CHECKOUT_ERRORS)
async def pass_checkout(
    pass_id: UUID,
    request: Request,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[CheckoutIn | None, Body()] = None,
) -> CheckoutOut:
    """A Stripe Checkout Session for a pending pass; paid, the pass is active."""
    back = return_to(request, ctx.settings.public_base_url, ctx.settings.embed_origins)
    made = await programs.pass_checkout(
        ctx.unit_of_work(principal), ctx.payments, principal, pass_id, body or CheckoutIn(), back
    )
    return CheckoutOut(checkout=made)


@router.post(
    "/api/passes/{pass_id}/checkout/refresh",
    dependencies=[PUBLIC],
    response_model=dict[str, PassOut | PassPayerView],
    responses=REFRESH_ERRORS,
)
async def refresh_pass_checkout(
    pass_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[RefreshIn | None, Body()] = None,
) -> dict[str, PassOut | PassPayerView]:
    """Ask Stripe how the pass's checkout went and apply it; without a token, the session id is the proof."""
    session_id = body.session_id if body is not None else None
    found = await programs.refresh_pass(
        ctx.unit_of_work(principal), ctx.payments, principal, pass_id, session_id
    )
    return {"pass": found}
