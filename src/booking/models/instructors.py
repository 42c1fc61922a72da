"""The instructors room's tables: instructors and their links to brands."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base, utcnow


class Instructor(Base):
    __tablename__ = "instructors"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))  # their messages' language; NULL: the brand's
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstructorBrand(Base):
    """The link between an instructor and a brand. Unlinking keeps the row (bookings refer to it)."""

    __tablename__ = "instructors_brands"

    instructor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column()


def link_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["instructor_id", "brand_id"],
        ["instructors_brands.instructor_id", "instructors_brands.brand_id"],
        name=f"fk_{table}_instructors_brands",
        ondelete="CASCADE",
    )
