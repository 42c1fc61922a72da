"""The brands room's tables: brands and their admins."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, utcnow


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # A student's pending bookings in the brand (SPEC §10); NULL: no cap.
    max_pending_per_student: Mapped[int | None] = mapped_column(Integer, default=3, server_default="3")
    # ISO 4217, lower case (as Stripe writes it): the currency of every price in the brand.
    currency: Mapped[str] = mapped_column(String(3), default="usd", server_default="usd")
    # The brand's own dates (a pass's validity, the console's days) are dates in this IANA zone.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # The language of the brand's pages and messages, unless a booking or an instructor says otherwise.
    locale: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BrandAdmin(Base):
    __tablename__ = "brand_admins"

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
