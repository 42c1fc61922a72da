"""Every query of the bookings feature, named by what it finds or writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Select, and_, exists, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import ACTIVE_STATUSES, BookingStatus
from booking.models import Booking, BookingEvent

OVERLAP_GUARD = "bookings_no_overlap"  # the exclusion constraint (PostgreSQL) and the trigger (SQLite)

INSERT_BOOKING = insert(Booking)
BOOKING_COLUMNS = tuple(column.key for column in Booking.__table__.columns)


class OverlapRefused(Exception):
    """The database's own overlap guard refused the write: another booking holds the time."""


def _raise_if_overlap(error: IntegrityError) -> None:
    if OVERLAP_GUARD in str(error.orig):
        raise OverlapRefused from error


async def insert_booking(session: AsyncSession, booking: Booking) -> None:
    """Insert with one prebuilt statement: rebuilding an INSERT per booking costs more than sending it."""
    values = {key: getattr(booking, key) for key in BOOKING_COLUMNS}
    try:
        await (await session.connection()).execute(INSERT_BOOKING, values)
    except IntegrityError as exc:
        _raise_if_overlap(exc)
        raise


async def save_changes(session: AsyncSession) -> None:
    """Flush changed bookings; the overlap guard has the last word on a status that holds time again."""
    try:
        await session.flush()
    except IntegrityError as exc:
        _raise_if_overlap(exc)
        raise


async def booking_by_id(session: AsyncSession, booking_id: UUID) -> Booking | None:
    return await session.get(Booking, booking_id)


def add_change(session: AsyncSession, change: BookingEvent) -> None:
    """One entry of a booking's history (status or payment changed)."""
    session.add(change)


async def changes_of(session: AsyncSession, booking_id: UUID) -> Sequence[BookingEvent]:
    query = select(BookingEvent).where(BookingEvent.booking_id == booking_id).order_by(BookingEvent.id)
    return (await session.scalars(query)).all()


@dataclass(frozen=True)
class BookingFilter:
    """Which bookings of a brand a page lists; `people` narrows them to a student's or instructor's."""

    brand_id: UUID
    status: BookingStatus | None
    starts_from: datetime | None
    starts_to: datetime | None
    student_id: UUID | None = None
    instructor_id: UUID | None = None
    everyone: bool = False


def _filtered(query: Select[Booking], which: BookingFilter) -> Select[Booking]:
    query = query.where(Booking.brand_id == which.brand_id)
    if not which.everyone:
        mine = [Booking.student_id == which.student_id]
        if which.instructor_id is not None:
            mine.append(Booking.instructor_id == which.instructor_id)
        query = query.where(or_(*mine))
    if which.status is not None:
        query = query.where(Booking.status == which.status)
    if which.starts_from is not None:
        query = query.where(Booking.starts_at >= which.starts_from)
    if which.starts_to is not None:
        query = query.where(Booking.starts_at < which.starts_to)
    return query


async def bookings_created_after(
    session: AsyncSession, which: BookingFilter, after: tuple[datetime, UUID] | None, limit: int
) -> Sequence[Booking]:
    """Up to `limit` bookings in creation order, after the keyset position `after` when given."""
    query = _filtered(select(Booking), which)
    if after is not None:
        created_at, booking_id = after
        query = query.where(
            or_(
                Booking.created_at > created_at,
                and_(Booking.created_at == created_at, Booking.id > booking_id),
            )
        )
    return (await session.scalars(query.order_by(Booking.created_at, Booking.id).limit(limit))).all()


async def active_sessions_of(
    session: AsyncSession,
    instructor_id: UUID,
    brand_id: UUID,
    starts_from: datetime,
    starts_to: datetime | None,
) -> Sequence[Booking]:
    """Pending and confirmed sessions of an instructor in a brand starting in [from, to), by start."""
    query = select(Booking).where(
        Booking.instructor_id == instructor_id,
        Booking.brand_id == brand_id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at >= starts_from,
    )
    if starts_to is not None:
        query = query.where(Booking.starts_at < starts_to)
    return (await session.scalars(query.order_by(Booking.starts_at, Booking.id))).all()


async def has_active_sessions_ending_after(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, instant: datetime
) -> bool:
    upcoming = select(
        exists().where(
            Booking.instructor_id == instructor_id,
            Booking.brand_id == brand_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.ends_at > instant,
        )
    )
    return bool(await session.scalar(upcoming))
