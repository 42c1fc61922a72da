"""The payments room's tables: Stripe Checkout Sessions, the worker's payment tasks, Stripe event ids."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.enums import CheckoutStatus, PaymentTaskKind
from booking.models.base import Base, stored_enum


class CheckoutSession(Base):
    """One Stripe Checkout Session of a booking, a weekly series or a pass (one of the three is set);
    at most one of each is `open` at a time."""

    __tablename__ = "checkout_sessions"
    __table_args__ = (
        Index("ix_checkout_sessions_booking_created", "booking_id", "created_at"),
        Index("ix_checkout_sessions_series_created", "series_id", "created_at"),
        Index("ix_checkout_sessions_pass_created", "pass_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # Stripe's cs_… id
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    pass_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("passes.id", ondelete="CASCADE"))
    # What a series' session sells: its amount, and the occurrences it pays for (JSON list of ids).
    amount: Mapped[int | None] = mapped_column(BigInteger)
    covers: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column()
    status: Mapped[CheckoutStatus] = mapped_column(stored_enum(CheckoutStatus))
    created_at: Mapped[datetime] = mapped_column()


class PaymentTask(Base):
    """A refund or a session expiry the worker asks Stripe for, queued in the transaction of the change
    that causes it (so a process dying after the commit still refunds), retried until Stripe answers."""

    __tablename__ = "payment_tasks"
    __table_args__ = (
        Index(
            "ix_payment_tasks_due",
            "next_attempt_at",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[PaymentTaskKind] = mapped_column(stored_enum(PaymentTaskKind))
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(255))  # the payment intent or the checkout session
    amount: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    done_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()


class StripeEvent(Base):
    """A Stripe event id already applied: each is applied at most once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column()
