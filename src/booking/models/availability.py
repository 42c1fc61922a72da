"""The availability room's tables: scheduling settings, weekly hours, date overrides."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, utcnow
from booking.models.instructors import link_fk


class SchedulingSettings(Base):
    __tablename__ = "instructor_scheduling_settings"
    __table_args__ = (link_fk("instructor_scheduling_settings"),)

    instructor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=15)
    advance_booking_days: Mapped[int] = mapped_column(Integer, default=90)
    cancellation_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)
    session_minutes: Mapped[int] = mapped_column(Integer, default=60)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    payment_hold_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    max_bookings_per_day: Mapped[int | None] = mapped_column(Integer)
    max_bookings_per_week: Mapped[int | None] = mapped_column(Integer)
    reschedule_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    # In the smallest unit of the brand's currency; NULL: no price.
    price_amount: Mapped[int | None] = mapped_column(BigInteger)
    refund_percent: Mapped[int] = mapped_column(SmallInteger, default=100, server_default="100")
    # The step between slot candidates; NULL: the slot list's duration.
    slot_interval_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    # Where sessions happen (a meeting link or an address); `{booking_id}` is replaced per booking.
    location: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeeklyRule(Base):
    """A weekly window; times are minutes after local midnight (1440 is `24:00`)."""

    __tablename__ = "availability_weekly"
    __table_args__ = (link_fk("availability_weekly"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instructor_id: Mapped[uuid.UUID] = mapped_column()
    brand_id: Mapped[uuid.UUID] = mapped_column()
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class DateOverride(Base):
    __tablename__ = "availability_overrides"
    __table_args__ = (link_fk("availability_overrides"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instructor_id: Mapped[uuid.UUID] = mapped_column()
    brand_id: Mapped[uuid.UUID] = mapped_column()
    date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    start_minute: Mapped[int | None] = mapped_column(SmallInteger)
    end_minute: Mapped[int | None] = mapped_column(SmallInteger)
