"""The audit log: who changed what, one row per change of one thing, written in the change's own
transaction (`booking.audit`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        # A brand's log, newest first (the keyset of GET /api/brands/{id}/audit), and one thing's.
        Index("ix_audit_log_brand_at", "brand_id", "at", "id"),
        Index("ix_audit_log_brand_target_at", "brand_id", "target_id", "at", "id"),
    )

    # SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint sequence.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column()
    at: Mapped[datetime] = mapped_column()
    actor_type: Mapped[str] = mapped_column(String(16))  # service, user or system
    actor_id: Mapped[uuid.UUID | None] = mapped_column()  # the user's id
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(24))
    target_id: Mapped[uuid.UUID] = mapped_column()
    # The student a booking's or a pass's entry is about (an erasure finds the entries by their targets).
    student_id: Mapped[uuid.UUID | None] = mapped_column()
    changes: Mapped[str] = mapped_column(Text)  # JSON {"field": {"before": …, "after": …}}
