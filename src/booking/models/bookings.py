"""The bookings room's tables: bookings, their weekly series, their history, stored idempotent answers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from booking.enums import BookingStatus, PaymentProvider, PaymentStatus, RefundStatus
from booking.models.base import Base, one_of, stored_enum, utcnow


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["instructor_id", "brand_id"],
            ["instructors_brands.instructor_id", "instructors_brands.brand_id"],
            name="fk_bookings_instructors_brands",
        ),
        # The indexes of migrations 0001 and 0002; each one serves a read whose cost must not grow with
        # history (docs/performance.md lists which).
        Index("ix_bookings_brand_starts", "brand_id", "starts_at", "id"),
        Index("ix_bookings_brand_created", "brand_id", "created_at", "id"),
        Index("ix_bookings_brand_status_created", "brand_id", "status", "created_at", "id"),
        Index("ix_bookings_instructor_brand_created", "instructor_id", "brand_id", "created_at", "id"),
        Index("ix_bookings_student_brand_created", "student_id", "brand_id", "created_at", "id"),
        Index(
            "ix_bookings_active_instructor_starts",
            "instructor_id",
            "starts_at",
            postgresql_include=["blocked_until", "hold_expires_at", "brand_id"],
            postgresql_where=text("status IN ('pending', 'confirmed')"),
            sqlite_where=text("status IN ('pending', 'confirmed')"),
        ),
        Index(
            "ix_bookings_pending_student_brand",
            "student_id",
            "brand_id",
            postgresql_include=["hold_expires_at"],
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_bookings_hold_expiry",
            "hold_expires_at",
            postgresql_where=text("status = 'pending' AND hold_expires_at IS NOT NULL"),
            sqlite_where=text("status = 'pending' AND hold_expires_at IS NOT NULL"),
        ),
        # The instructor's calendar feed: every booking of every status, by start.
        Index("ix_bookings_instructor_starts", "instructor_id", "starts_at"),
        # A series' occurrences, in order.
        Index(
            "ix_bookings_series_index",
            "series_id",
            "series_index",
            postgresql_where=text("series_id IS NOT NULL"),
            sqlite_where=text("series_id IS NOT NULL"),
        ),
        # A pass's bookings.
        Index(
            "ix_bookings_pass_id",
            "pass_id",
            postgresql_where=text("pass_id IS NOT NULL"),
            sqlite_where=text("pass_id IS NOT NULL"),
        ),
        # Stripe's charge events name the payment, not the booking.
        Index(
            "ix_bookings_payment_intent",
            "payment_intent",
            postgresql_where=text("payment_intent IS NOT NULL"),
            sqlite_where=text("payment_intent IS NOT NULL"),
        ),
        Index(
            "ix_bookings_unreminded_starts",
            "starts_at",
            postgresql_where=text("status = 'confirmed' AND reminder_claimed_at IS NULL"),
            sqlite_where=text("status = 'confirmed' AND reminder_claimed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    brand_id: Mapped[uuid.UUID] = mapped_column()
    instructor_id: Mapped[uuid.UUID] = mapped_column()
    student_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[BookingStatus] = mapped_column(stored_enum(BookingStatus), default=BookingStatus.PENDING)
    payment_status: Mapped[PaymentStatus] = mapped_column(
        stored_enum(PaymentStatus), default=PaymentStatus.UNPAID
    )
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    # ends_at plus the brand's buffer at booking time: the overlap guard compares these.
    blocked_until: Mapped[datetime] = mapped_column()
    buffer_minutes: Mapped[int] = mapped_column(Integer)
    student_timezone: Mapped[str] = mapped_column(String(64))
    instructor_timezone: Mapped[str] = mapped_column(String(64))
    # The student's messages' language: the body's `locale`, else the brand's when it was made.
    locale: Mapped[str] = mapped_column(String(8), server_default="en")
    # Its student's personal details were erased (on request, or by RETENTION_DAYS); times and amounts stay.
    student_erased: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    student_name: Mapped[str | None] = mapped_column(String(200))
    student_email: Mapped[str | None] = mapped_column(String(320))
    student_phone: Mapped[str | None] = mapped_column(String(32))
    instructor_notes: Mapped[str | None] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    reminder_claimed_at: Mapped[datetime | None] = mapped_column()
    # Set only while pending (SPEC §9): the instant the unpaid hold stops blocking; NULL never expires.
    hold_expires_at: Mapped[datetime | None] = mapped_column()
    # Paid after its expired hold's time was taken: the student is owed their money back.
    refund_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    reschedule_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The SEQUENCE of the booking's one calendar event (RFC 5545; see bookings.lifecycle.set_status).
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The price fixed when the booking was made (smallest unit of `price_currency`); NULL: no price.
    price_amount: Mapped[int | None] = mapped_column(BigInteger)
    price_currency: Mapped[str | None] = mapped_column(String(3))
    # The share a student cancelling gets back, as it was when the booking was made.
    refund_percent: Mapped[int | None] = mapped_column(SmallInteger)
    payment_provider: Mapped[PaymentProvider | None] = mapped_column(stored_enum(PaymentProvider))
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    refund_status: Mapped[RefundStatus | None] = mapped_column(stored_enum(RefundStatus))
    # Stripe's payment intent of an online payment (what a refund names), and the latest Checkout
    # Session made for the booking (expired when it stops waiting for payment).
    payment_intent: Mapped[str | None] = mapped_column(String(255))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255))
    # The weekly series the booking is an occurrence of, and which one (0..count-1); NULL: a single one.
    series_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    series_index: Mapped[int | None] = mapped_column(SmallInteger)
    # Where it happens: the instructor's `location` when it was made, `{booking_id}` replaced.
    location: Mapped[str | None] = mapped_column(String(600))
    # The pass that paid for it (SPEC §17); its session comes back when the booking is cancelled.
    pass_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("passes.id", ondelete="SET NULL"))
    # Who made the booking: the first entry of its history (booking_events holds the changes after).
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Series(Base):
    """N bookings at the same local time every `every_weeks` weeks, made in one transaction; each is a
    booking like any other (`bookings.series_id`, `series_index`)."""

    __tablename__ = "series"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instructors.id", ondelete="CASCADE"))
    student_id: Mapped[uuid.UUID] = mapped_column()
    count: Mapped[int] = mapped_column(SmallInteger)  # as asked, also when `skip` left some out
    every_weeks: Mapped[int] = mapped_column(SmallInteger)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()


class BookingEvent(Base):
    """The audit trail: who changed a booking's status, payment or time, and when."""

    __tablename__ = "booking_events"

    # SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint sequence.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[BookingStatus | None] = mapped_column(stored_enum(BookingStatus))
    to_status: Mapped[BookingStatus] = mapped_column(stored_enum(BookingStatus))
    payment_status: Mapped[PaymentStatus | None] = mapped_column(stored_enum(PaymentStatus))
    # A move (SPEC §11): both starts; NULL on status and payment entries.
    from_starts_at: Mapped[datetime | None] = mapped_column()
    to_starts_at: Mapped[datetime | None] = mapped_column()
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    caller: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def status_is(*statuses: BookingStatus) -> ColumnElement[bool]:
    """`bookings.status IN (…)` with the statuses written into the SQL, not sent as parameters.

    The partial indexes on bookings (`WHERE status IN ('pending', 'confirmed')`, …) then match a
    prepared statement's generic plan too, not only the plans made for each set of parameters.
    """
    return one_of(Booking.status, statuses)
