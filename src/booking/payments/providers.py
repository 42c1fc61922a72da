"""Stripe behind a small protocol: create, read and expire a Checkout Session, refund a payment.

The official `stripe` package makes the calls (its async methods over httpx, `STRIPE_API_BASE` as the
API's base address) with its own retries off: a checkout answers the caller, and the worker retries
refunds and expiries on its own schedule. Every failure becomes a `PaymentError` that says whether a
repeat may succeed (network, timeout, 429, 5xx) or not (any other 4xx).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import stripe

MAX_REASON = 300


@dataclass(frozen=True)
class SessionRequest:
    """What one Checkout Session sells (a booking, a series' pending occurrences, a pass), named for
    the student: `reference` is its id (`client_reference_id`), `metadata` names what it is."""

    reference: UUID
    metadata: dict[str, str]
    amount: int
    currency: str
    product_name: str
    customer_email: str | None
    expires_at: datetime
    success_url: str
    cancel_url: str


@dataclass(frozen=True)
class ProviderSession:
    """A Checkout Session as Stripe shows it (from an API answer or an event's object)."""

    id: str
    url: str | None
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    amount_total: int | None
    currency: str | None
    reference: str | None  # client_reference_id
    payment_intent: str | None
    expires_at: datetime
    metadata: Mapping[str, str] = field(default_factory=dict)  # booking_id, series_id or pass_id

    @property
    def paid(self) -> bool:
        return self.status == "complete" and self.payment_status == "paid"

    @property
    def open(self) -> bool:
        """Payable still: open, or completed with a delayed payment not settled yet."""
        return self.status == "open" or (self.status == "complete" and self.payment_status == "unpaid")


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount: int


class PaymentError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_REASON]
        self.retryable = retryable


class PaymentProvider(Protocol):
    async def create_session(self, request: SessionRequest, idempotency_key: str) -> ProviderSession: ...

    async def get_session(self, session_id: str) -> ProviderSession: ...

    async def expire_session(self, session_id: str) -> ProviderSession: ...

    async def refund(
        self, payment_intent: str, amount: int, booking_id: UUID, idempotency_key: str
    ) -> ProviderRefund: ...

    async def aclose(self) -> None: ...


def session_from(data: Mapping[str, Any]) -> ProviderSession:
    """A Checkout Session object (Stripe's JSON shape) as plain data."""
    intent, metadata = data.get("payment_intent"), data.get("metadata")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    return ProviderSession(
        id=str(data["id"]),
        url=data.get("url"),
        status=str(data.get("status") or ""),
        payment_status=str(data.get("payment_status") or ""),
        amount_total=data.get("amount_total"),
        currency=data.get("currency"),
        reference=data.get("client_reference_id"),
        payment_intent=intent,
        expires_at=datetime.fromtimestamp(int(data.get("expires_at") or 0), UTC),
        metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {},
    )


def session_params(request: SessionRequest) -> dict[str, Any]:
    """The form of `POST /v1/checkout/sessions`: one line item of the whole amount."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.currency,
                    "unit_amount": request.amount,
                    "product_data": {"name": request.product_name},
                },
            }
        ],
        "client_reference_id": str(request.reference),
        "metadata": request.metadata,
        "payment_intent_data": {"metadata": request.metadata},
        "expires_at": int(request.expires_at.timestamp()),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    if request.customer_email:
        params["customer_email"] = request.customer_email
    return params


class StripeProvider:
    def __init__(self, secret_key: str, api_base: str, timeout_seconds: float) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=0,
        )

    async def create_session(self, request: SessionRequest, idempotency_key: str) -> ProviderSession:
        sessions = self._client.v1.checkout.sessions
        params: Any = session_params(request)
        options: Any = {"idempotency_key": idempotency_key}
        found = await _call(sessions.create_async(params, options))
        return session_from(found.to_dict())

    async def get_session(self, session_id: str) -> ProviderSession:
        found = await _call(self._client.v1.checkout.sessions.retrieve_async(session_id))
        return session_from(found.to_dict())

    async def expire_session(self, session_id: str) -> ProviderSession:
        found = await _call(self._client.v1.checkout.sessions.expire_async(session_id))
        return session_from(found.to_dict())

    async def refund(
        self, payment_intent: str, amount: int, booking_id: UUID, idempotency_key: str
    ) -> ProviderRefund:
        params: Any = {
            "payment_intent": payment_intent,
            "amount": amount,
            "metadata": {"booking_id": str(booking_id)},
        }
        options: Any = {"idempotency_key": idempotency_key}
        found = await _call(self._client.v1.refunds.create_async(params, options))
        return ProviderRefund(id=found.id, status=str(found.status), amount=int(found.amount))

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]


async def _call(request: Awaitable[Any]) -> Any:
    """Await one Stripe call; its failures as a PaymentError with Stripe's own message."""
    try:
        return await request
    except stripe.APIConnectionError as exc:  # network errors and timeouts
        raise PaymentError(f"Stripe unreachable: {exc.user_message or exc}", retryable=True) from exc
    except stripe.StripeError as exc:
        status = exc.http_status
        # 409: the same Idempotency-Key is still being answered (a concurrent attempt): ask again later.
        retryable = status is None or status in (409, 429) or status >= 500
        raise PaymentError(f"Stripe {status}: {exc.user_message or exc}", retryable=retryable) from exc
