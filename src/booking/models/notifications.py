"""The notifications adapter's tables: the delivery log and the outbox of messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.enums import (
    Audience,
    Channel,
    DeliveryStatus,
    MessageState,
)
from booking.models.base import Base, stored_enum, utcnow


class NotificationLog(Base):
    __tablename__ = "notification_log"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel, 8))
    # Kinds are open-ended text (later features add their own); NotificationKind names today's.
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[DeliveryStatus] = mapped_column(stored_enum(DeliveryStatus, 8))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """An email or SMS committed with the change that caused it, until it is sent or given up."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_change_id", "change_id"),
        Index("ix_outbox_messages_booking_id", "booking_id"),
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('queued', 'sending', 'retrying')"),
            sqlite_where=text("status IN ('queued', 'sending', 'retrying')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    change_id: Mapped[uuid.UUID] = mapped_column()
    audience: Mapped[Audience] = mapped_column(stored_enum(Audience))
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel, 8))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    message: Mapped[str] = mapped_column(Text)  # JSON of the composed Email or Sms
    status: Mapped[MessageState] = mapped_column(stored_enum(MessageState))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    give_up_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
