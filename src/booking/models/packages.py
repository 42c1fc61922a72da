"""The packages room's tables: packages of sessions a brand sells, and the passes students hold."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.enums import PassStatus, PaymentProvider, RefundStatus
from booking.models.base import Base, stored_enum


class Package(Base):
    """ "10 sessions, valid 6 months": what a brand sells once and a student spends session by session."""

    __tablename__ = "packages"
    __table_args__ = (Index("ix_packages_brand_created", "brand_id", "created_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    sessions: Mapped[int] = mapped_column(SmallInteger)
    valid_days: Mapped[int] = mapped_column(SmallInteger)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    instructor_ids: Mapped[str | None] = mapped_column(Text)  # JSON list of ids; NULL: any of the brand
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class Pass(Base):
    """A package sold to one student, with the package's terms as they were when it was sold.

    `sessions_left` falls in the transaction of each booking it pays for, under a guard that never
    lets it below zero; `status` is stored as pending, active or cancelled (expired is `valid_until`
    having passed, shown, not stored)."""

    __tablename__ = "passes"
    __table_args__ = (
        CheckConstraint("sessions_left >= 0", name="sessions_left_not_negative"),
        Index("ix_passes_brand_created", "brand_id", "created_at", "id"),
        Index("ix_passes_student_brand_created", "student_id", "brand_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    student_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(200))
    sessions_total: Mapped[int] = mapped_column(SmallInteger)
    sessions_left: Mapped[int] = mapped_column(SmallInteger)
    valid_days: Mapped[int] = mapped_column(SmallInteger)
    instructor_ids: Mapped[str | None] = mapped_column(Text)
    status: Mapped[PassStatus] = mapped_column(stored_enum(PassStatus))
    valid_until: Mapped[datetime | None] = mapped_column()  # set when activated
    activated_at: Mapped[datetime | None] = mapped_column()
    price_amount: Mapped[int] = mapped_column(BigInteger)
    price_currency: Mapped[str] = mapped_column(String(3))
    payment_provider: Mapped[PaymentProvider | None] = mapped_column(stored_enum(PaymentProvider))
    amount_paid: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_status: Mapped[RefundStatus | None] = mapped_column(stored_enum(RefundStatus))
    payment_intent: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
