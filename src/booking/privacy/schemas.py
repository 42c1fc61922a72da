"""The privacy room's shapes: a student's data as exported, and what an erasure answers."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from booking.bookings.schemas import BookingOut, HistoryEntry
from booking.enums import Channel, DeliveryStatus
from booking.packages.schemas import PassOut


class ExportedBooking(BookingOut):
    """A booking as staff see it, with its history as `GET /api/bookings/{id}` shows it."""

    history: list[HistoryEntry]


class ExportedNotification(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: Channel
    kind: str
    recipient: str | None = Field(description="null once erased")
    status: DeliveryStatus
    created_at: datetime


class StudentExport(BaseModel):
    student_id: UUID
    bookings: list[ExportedBooking] = Field(description="oldest first")
    passes: list[PassOut] = Field(description="oldest first")
    notifications: list[ExportedNotification] = Field(
        description="every message to the student about these bookings, oldest first"
    )


class ErasureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand_id: UUID | None = Field(
        default=None,
        description="the brand whose data is erased; required for a brand admin; absent: every brand",
    )


class Erased(BaseModel):
    bookings: int = Field(description="bookings whose personal details this request erased")
    cancelled: int = Field(description="future bookings it cancelled (refunded as staff cancelling would)")


class ErasureOut(BaseModel):
    erased: Erased
