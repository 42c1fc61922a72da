"""The events every change records in its own transaction (read by the webhooks' fan-out)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.enums import (
    EventType,
)
from booking.models.base import Base, stored_enum


class Event(Base):
    """A change of a booking's state, written in the change's transaction (SPEC §12)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_booking_id", "booking_id"),
        Index(
            "ix_events_undispatched",
            "created_at",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    type: Mapped[EventType] = mapped_column(stored_enum(EventType, 32))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    # NULL for an event about something else (a pass).
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    # JSON of the webhook's `data`: the booking as staff see it (and `previous` for a reschedule).
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    # When the worker turned it into one delivery per subscribed endpoint.
    dispatched_at: Mapped[datetime | None] = mapped_column()
