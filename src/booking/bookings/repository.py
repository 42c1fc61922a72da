"""Every query of the bookings feature, named by what it finds or writes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    TextClause,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from booking.driver import HotStatement
from booking.enums import ACTIVE_STATUSES, BookingStatus, PaymentStatus
from booking.models.bookings import Booking, BookingEvent, Series, status_is
from booking.scheduling import Interval
from booking.types import LONGEST_BLOCK

OVERLAP_GUARD = "bookings_no_overlap"  # the exclusion constraint (PostgreSQL) and the trigger (SQLite)

INSERT_BOOKING = HotStatement(insert(Booking))
BOOKING_COLUMNS = tuple(column.key for column in Booking.__table__.columns)
SEARCHED = (Booking.student_name, Booking.student_email)  # what the list's `q` looks in


class OverlapRefused(Exception):
    """The database's own overlap guard refused the write: another booking holds the time."""


def _raise_if_overlap(error: IntegrityError) -> None:
    if OVERLAP_GUARD in str(error.orig):
        raise OverlapRefused from error


async def insert_booking(session: AsyncSession, booking: Booking) -> None:
    """Insert with one prebuilt statement: rebuilding an INSERT per booking costs more than sending it."""
    values = {key: getattr(booking, key) for key in BOOKING_COLUMNS}
    try:
        await INSERT_BOOKING.execute(session, values)
    except IntegrityError as exc:
        _raise_if_overlap(exc)
        raise


async def insert_bookings(session: AsyncSession, bookings: Sequence[Booking]) -> None:
    """Several bookings with the prebuilt statement in one driver call (a series' occurrences); the
    guard refusing any of them refuses them all (OverlapRefused)."""
    rows = [{key: getattr(booking, key) for key in BOOKING_COLUMNS} for booking in bookings]
    try:
        await INSERT_BOOKING.execute_many(session, rows)
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


async def booking_by_id(
    session: AsyncSession, booking_id: UUID, *, for_update: bool = False
) -> Booking | None:
    # populate_existing: a row locked after an earlier read must show what the lock waited for.
    if for_update:
        return await session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    return await session.get(Booking, booking_id)


async def series_by_id(session: AsyncSession, series_id: UUID) -> Series | None:
    return await session.get(Series, series_id)


async def bookings_of_series(
    session: AsyncSession, series_id: UUID, *, for_update: bool = False
) -> Sequence[Booking]:
    """A series' occurrences by index (ix_bookings_series_index); `for_update` row-locks them."""
    query = select(Booking).where(Booking.series_id == series_id).order_by(Booking.series_index)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).all()


async def booking_by_payment_intent(session: AsyncSession, payment_intent: str) -> Booking | None:
    """The booking a Stripe payment paid (ix_bookings_payment_intent), row-locked on PostgreSQL."""
    query = select(Booking).where(Booking.payment_intent == payment_intent).limit(1).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def add_change(
    session: AsyncSession,
    booking: Booking,
    to_status: BookingStatus,
    payment_status: PaymentStatus | None,
    actor: str,
    now: datetime,
) -> None:
    """One entry of a booking's history (status or payment changed), from its current status."""
    session.add(
        BookingEvent(
            booking_id=booking.id,
            from_status=booking.status,
            to_status=to_status,
            payment_status=payment_status,
            actor=actor,
            created_at=now,
        )
    )


def add_move(
    session: AsyncSession, booking: Booking, to_starts_at: datetime, actor: str, now: datetime
) -> None:
    """The history entry of a reschedule: status unchanged, both starts recorded (SPEC §11)."""
    session.add(
        BookingEvent(
            booking_id=booking.id,
            from_status=booking.status,
            to_status=booking.status,
            payment_status=None,
            from_starts_at=booking.starts_at,
            to_starts_at=to_starts_at,
            actor=actor,
            created_at=now,
        )
    )


async def reschedule_count_of(session: AsyncSession, booking_id: UUID) -> int | None:
    """How often the booking has moved (None: no such booking); one primary-key probe."""
    query = select(Booking.reschedule_count).where(Booking.id == booking_id)
    return await session.scalar(query)


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
    of_instructor: UUID | None = None
    payment_status: PaymentStatus | None = None
    pattern: str | None = None  # LIKE, escaped with backslashes, on the student's name or email


def _people(which: BookingFilter) -> list[ColumnElement[bool]]:
    """One condition per person whose bookings the caller sees; none for staff, who see them all."""
    if which.everyone:
        return []
    mine = [Booking.student_id == which.student_id]
    if which.instructor_id is not None:
        mine.append(Booking.instructor_id == which.instructor_id)
    return mine


def _filtered(
    which: BookingFilter, after: tuple[datetime, UUID] | None, people: list[ColumnElement[bool]], desc: bool
) -> Select[Booking]:
    query = select(Booking).where(Booking.brand_id == which.brand_id)
    if people:
        query = query.where(or_(*people))
    for column, value in (
        (Booking.status, which.status),
        (Booking.instructor_id, which.of_instructor),
        (Booking.payment_status, which.payment_status),
    ):
        if value is not None:
            query = query.where(column == value)
    if which.starts_from is not None:
        query = query.where(Booking.starts_at >= which.starts_from)
    if which.starts_to is not None:
        query = query.where(Booking.starts_at < which.starts_to)
    if which.pattern is not None:  # `lower(column) LIKE lower(:pattern)`: what 0015's indexes serve
        like = func.lower(which.pattern)
        query = query.where(or_(*(func.lower(c).like(like, escape="\\") for c in SEARCHED)))
    if after is not None:
        # A row comparison bounds the index range (PostgreSQL; SQLite 3.15+); OR/AND only filters it.
        position = tuple_(Booking.created_at, Booking.id)
        query = query.where(position < tuple_(*after) if desc else position > tuple_(*after))
    return query


def _in_creation_order(query: Select[Any], row: Any, desc: bool, limit: int) -> Select[Any]:
    keys = (row.created_at, row.id)
    return query.order_by(*(key.desc() for key in keys) if desc else keys).limit(limit)


async def bookings_created_after(
    session: AsyncSession, which: BookingFilter, after: tuple[datetime, UUID] | None, limit: int, desc: bool
) -> Sequence[Booking]:
    """Up to `limit` bookings in creation order (newest first: `desc`), after the keyset position `after`."""
    people = _people(which)
    if which.starts_from is not None or which.starts_to is not None or which.pattern is not None:
        # The range's (the search's) bookings first (ix_bookings_brand_starts, the trigram indexes), then
        # the order: read in creation order, recent sessions would be found only after the whole history.
        in_range = _filtered(which, after, people, desc).cte("in_range")
        in_range = in_range.prefix_with("MATERIALIZED", dialect="postgresql")
        row = aliased(Booking, in_range)
        query = _in_creation_order(select(row), row, desc, limit)
    elif len(people) > 1:
        # Student and instructor: one ordered, limited scan per person (each on its own index),
        # merged; no one index reads the OR of the two in creation order.
        mine = [
            select(_in_creation_order(_filtered(which, after, [one], desc), Booking, desc, limit).subquery())
            for one in people
        ]
        merged = aliased(Booking, union(*mine).subquery())
        query = _in_creation_order(select(merged), merged, desc, limit)
    else:
        query = _in_creation_order(_filtered(which, after, people, desc), Booking, desc, limit)
    return (await session.scalars(query)).all()


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
        status_is(*ACTIVE_STATUSES),
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
            status_is(*ACTIVE_STATUSES),
            Booking.ends_at > instant,
            # Implied by the line above (no session lasts longer); it bounds the index range.
            Booking.starts_at > instant - LONGEST_BLOCK,
        )
    )
    return bool(await session.scalar(upcoming))


# --- holds and caps (SPEC §9, §10) ------------------------------------------------------------------


def _expired_hold(now: datetime) -> list[ColumnElement[bool]]:
    # `status = 'pending' AND hold_expires_at IS NOT NULL` is the predicate of ix_bookings_hold_expiry.
    return [
        status_is(BookingStatus.PENDING),
        Booking.hold_expires_at.is_not(None),
        Booking.hold_expires_at <= now,
    ]


async def expired_holds_overlapping(
    session: AsyncSession, instructor_id: UUID, blocked: Interval, now: datetime
) -> Sequence[Booking]:
    """The instructor's expired holds (every brand) whose blocked time meets `blocked`, row-locked.

    A concurrent booking that cancels the same hold first makes this one wait and then not find it
    (PostgreSQL re-checks a locked row's condition after the lock), so a hold is cancelled once.
    """
    query = (
        select(Booking)
        .where(
            Booking.instructor_id == instructor_id,
            status_is(*ACTIVE_STATUSES),
            *_expired_hold(now),
            Booking.starts_at < blocked.end,
            Booking.starts_at > blocked.start - LONGEST_BLOCK,
            Booking.blocked_until > blocked.start,
        )
        .order_by(Booking.starts_at)
        .with_for_update()
    )
    return (await session.scalars(query)).all()


async def expired_holds_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Booking]:
    """Up to `limit` expired holds for the worker, soonest expired first; rows another worker has
    locked are skipped (SQLite has one writer at a time anyway)."""
    query = (
        select(Booking)
        .where(*_expired_hold(now))
        .order_by(Booking.hold_expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(query)).all()


def any_expired_hold(now: datetime) -> ColumnElement[bool]:
    """For the worker's idle check: one index probe."""
    return exists().where(*_expired_hold(now))


def lock_key(scope: str, *ids: UUID) -> int:
    """A signed 64-bit advisory lock key for one scope (a collision only serialises two unrelated
    bookings a little; it never lets two through)."""
    digest = hashlib.blake2b(":".join([scope, *map(str, ids)]).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@cache
def _lock_statement(count: int) -> TextClause:
    calls = ", ".join(f"pg_advisory_xact_lock(:k{index})" for index in range(count))
    return text(f"SELECT {calls}").bindparams(
        *(bindparam(f"k{index}", type_=BigInteger) for index in range(count))
    )


async def serialise(session: AsyncSession, keys: Sequence[int]) -> None:
    """Hold transaction-scoped advisory locks on PostgreSQL, taken left to right in one statement, so
    that two transactions never wait on each other in a circle. SQLite writers already run one at a
    time (BEGIN IMMEDIATE)."""
    if not keys or session.get_bind().dialect.name != "postgresql":
        return
    connection = await session.connection()
    await connection.execute(_lock_statement(len(keys)), {f"k{index}": key for index, key in enumerate(keys)})


# --- messages and reminders ------------------------------------------------------------------------


async def claim_due_reminders(session: AsyncSession, now: datetime, horizon: timedelta) -> Sequence[Booking]:
    """Mark every due, unreminded, confirmed booking as reminded, in one conditional write.

    Concurrent callers (threads, processes, hosts) each get a disjoint set: a row another caller
    claimed no longer matches `reminder_claimed_at IS NULL` when this write reaches it.
    """
    claimed = await session.scalars(
        update(Booking)
        .where(
            status_is(BookingStatus.CONFIRMED),
            Booking.starts_at > now,
            Booking.starts_at <= now + horizon,
            Booking.reminder_claimed_at.is_(None),
        )
        .values(reminder_claimed_at=now)
        .returning(Booking.id)
    )
    ids = list(claimed)
    if not ids:
        return []
    return (
        await session.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.starts_at))
    ).all()
