"""Request and answer bodies of checkout."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from booking.enums import BookingStatus, PassStatus, PaymentStatus

Url = Annotated[str, Field(min_length=1, max_length=2000)]


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success_url: Url | None = None
    cancel_url: Url | None = None


class CheckoutSessionOut(BaseModel):
    id: str
    url: str
    expires_at: datetime


class CheckoutOut(BaseModel):
    checkout: CheckoutSessionOut


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class PayerView(BaseModel):
    """What a caller without a token, proving the payment with its session id, sees of the booking."""

    id: UUID
    status: BookingStatus
    payment_status: PaymentStatus
    starts_at: datetime
    ends_at: datetime


class SeriesPayerView(BaseModel):
    """What a payer proving a series' payment with its session id sees: the occurrences' states."""

    id: UUID
    bookings: list[PayerView]


class PassPayerView(BaseModel):
    """What a payer proving a pass's payment with its session id sees of it."""

    id: UUID
    status: PassStatus
    sessions_left: int
    valid_until: datetime | None
