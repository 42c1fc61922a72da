"""The calendars room's tables: the instructor's feed token, busy calendars and their busy time."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from booking.models.base import Base


class CalendarFeed(Base):
    """An instructor's subscribable feed (SPEC §13): one per instructor; a new one replaces the old."""

    __tablename__ = "calendar_feeds"

    instructor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True
    )
    # SHA-256 of the secret in the feed's URL, hex: the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()


class BusyCalendar(Base):
    """One of an instructor's own calendars (an iCalendar URL) whose events block their time (SPEC §13)."""

    __tablename__ = "busy_calendars"
    __table_args__ = (
        UniqueConstraint("instructor_id", "url", name="uq_busy_calendars_instructor_url"),
        Index("ix_busy_calendars_next_sync", "next_sync_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instructors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(Integer)  # its place in the instructor's list
    created_at: Mapped[datetime] = mapped_column()
    last_synced_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    busy_count: Mapped[int] = mapped_column(Integer, default=0)
    # The validators of the last good answer, for a conditional GET.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # How far the stored busy time reaches: a conditional GET is only asked while it covers the window.
    expanded_until: Mapped[datetime | None] = mapped_column()
    next_sync_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()


class BusyInterval(Base):
    """Busy time read from a busy calendar, in pieces of at most a day (so the busy read is a bounded
    index range), replaced as a whole by each successful sync."""

    __tablename__ = "busy_intervals"
    __table_args__ = (
        Index(
            "ix_busy_intervals_instructor_starts",
            "instructor_id",
            "starts_at",
            postgresql_include=["ends_at"],
        ),
    )

    calendar_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("busy_calendars.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    ends_at: Mapped[datetime] = mapped_column()
    instructor_id: Mapped[uuid.UUID] = mapped_column()
