"""Every query of calendars: the instructor's feed, their busy calendars and the busy time read from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.availability.schemas import DEFAULT_SETTINGS
from booking.enums import HOLD_EXPIRED_REASON, BookingStatus
from booking.models.availability import SchedulingSettings
from booking.models.bookings import Booking, status_is
from booking.models.brands import Brand
from booking.models.calendars import BusyCalendar, BusyInterval, CalendarFeed
from booking.models.instructors import Instructor
from booking.scheduling import Interval
from booking.types import MAX_SESSION_MINUTES

# --- the instructor's feed -------------------------------------------------------------------------


async def feed_of_secret_hash(session: AsyncSession, secret_hash: str) -> CalendarFeed | None:
    query = select(CalendarFeed).where(CalendarFeed.secret_hash == secret_hash)
    return (await session.scalars(query)).one_or_none()


async def replace_feed(session: AsyncSession, instructor_id: UUID, secret_hash: str, now: datetime) -> None:
    """The instructor's one feed is this one from now on: the previous secret stops working."""
    await delete_feed(session, instructor_id)
    session.add(CalendarFeed(instructor_id=instructor_id, secret_hash=secret_hash, created_at=now))


async def delete_feed(session: AsyncSession, instructor_id: UUID) -> None:
    await session.execute(delete(CalendarFeed).where(CalendarFeed.instructor_id == instructor_id))
    await session.flush()


@dataclass(frozen=True)
class FeedEntry:
    """One booking as the instructor's feed shows it."""

    id: UUID
    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    calendar_sequence: int
    student_name: str | None
    student_email: str | None
    brand_name: str
    brand_locale: str  # the instructor's own locale, when set, comes before it
    location: str | None


async def feed_entries(session: AsyncSession, instructor_id: UUID, now: datetime) -> list[FeedEntry]:
    """Bookings of the instructor in every brand that end after now - 30 days and are not expired holds
    (pending past their hold, or cancelled by its expiry), by start."""
    ended_after = now - timedelta(days=30)
    query = (
        select(
            Booking.id,
            Booking.status,
            Booking.starts_at,
            Booking.ends_at,
            Booking.updated_at,
            Booking.calendar_sequence,
            Booking.student_name,
            Booking.student_email,
            Brand.name,
            Brand.locale,
            Booking.location,
        )
        .join(Brand, Brand.id == Booking.brand_id)
        .where(
            Booking.instructor_id == instructor_id,
            # The start bound keeps the read an index range of ix_bookings_instructor_starts.
            Booking.starts_at > ended_after - timedelta(minutes=MAX_SESSION_MINUTES),
            Booking.ends_at > ended_after,
            or_(
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > now,
                ~status_is(BookingStatus.PENDING),
            ),
            or_(
                ~status_is(BookingStatus.CANCELLED),
                Booking.cancellation_reason.is_(None),
                Booking.cancellation_reason != HOLD_EXPIRED_REASON,
            ),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [FeedEntry(*row) for row in (await session.execute(query)).all()]


# --- busy calendars --------------------------------------------------------------------------------


async def busy_calendars_of(session: AsyncSession, instructor_id: UUID) -> Sequence[BusyCalendar]:
    query = (
        select(BusyCalendar)
        .where(BusyCalendar.instructor_id == instructor_id)
        .order_by(BusyCalendar.position, BusyCalendar.created_at)
    )
    return (await session.scalars(query)).all()


async def delete_busy_calendars(session: AsyncSession, calendar_ids: Sequence[UUID]) -> None:
    """The calendars and, by the foreign key's cascade, their busy time."""
    if calendar_ids:
        await session.execute(delete(BusyCalendar).where(BusyCalendar.id.in_(calendar_ids)))


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        BusyCalendar.next_sync_at <= now,
        or_(BusyCalendar.locked_until.is_(None), BusyCalendar.locked_until <= now),
    )


def any_calendar_due(now: datetime) -> ColumnElement[bool]:
    """For the worker's idle check: one probe of ix_busy_calendars_next_sync."""
    return exists().where(_due(now))


@dataclass(frozen=True)
class SyncClaim:
    """A busy calendar leased for one fetch, with what the fetch needs."""

    id: UUID
    instructor_id: UUID
    url: str
    etag: str | None
    last_modified: str | None
    expanded_until: datetime | None
    timezone: str
    advance_days: int  # the instructor's longest advance window over their brands, at least the default


async def claim_due_calendars(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[SyncClaim]:
    """Calendars due for a fetch and not leased, longest due first, leased until `lease_until`
    (PostgreSQL skips rows another worker is claiming; SQLite's write lock serialises claims)."""
    longest_advance = (
        select(func.max(SchedulingSettings.advance_booking_days))
        .where(SchedulingSettings.instructor_id == BusyCalendar.instructor_id)
        .scalar_subquery()
    )
    query = (
        select(
            BusyCalendar.id,
            BusyCalendar.instructor_id,
            BusyCalendar.url,
            BusyCalendar.etag,
            BusyCalendar.last_modified,
            BusyCalendar.expanded_until,
            Instructor.timezone,
            longest_advance.label("advance_days"),
        )
        .join(Instructor, Instructor.id == BusyCalendar.instructor_id)
        .where(_due(now))
        .order_by(BusyCalendar.next_sync_at, BusyCalendar.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=BusyCalendar)
    )
    claims = [
        SyncClaim(
            id=row.id,
            instructor_id=row.instructor_id,
            url=row.url,
            etag=row.etag,
            last_modified=row.last_modified,
            expanded_until=row.expanded_until,
            timezone=row.timezone,
            # A brand whose settings were never saved books as far ahead as the defaults say.
            advance_days=max(row.advance_days or 0, DEFAULT_SETTINGS.advance_booking_days),
        )
        for row in (await session.execute(query)).all()
    ]
    if claims:
        await session.execute(
            update(BusyCalendar)
            .where(BusyCalendar.id.in_([claim.id for claim in claims]))
            .values(locked_until=lease_until)
        )
    return claims


@dataclass(frozen=True)
class SyncResult:
    """What one fetch found: the busy time as stored pieces (None: unchanged, a 304), or why it failed."""

    pieces: list[Interval] | None = None
    busy_count: int = 0  # the joined busy intervals the pieces were cut from
    error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    expanded_until: datetime | None = None


async def record_sync(
    session: AsyncSession, claim: SyncClaim, result: SyncResult, now: datetime, next_sync_at: datetime
) -> None:
    """The fetch's outcome; on success with new content, the calendar's busy time replaced as a whole.
    A calendar removed or given another URL meanwhile is left as it is now."""
    calendar = await session.get(BusyCalendar, claim.id, with_for_update=True)
    if calendar is None or calendar.url != claim.url:
        return
    calendar.locked_until = None
    calendar.next_sync_at = next_sync_at
    if result.error is not None:
        calendar.last_error = result.error
        return
    calendar.last_synced_at = now
    calendar.last_error = None
    if result.pieces is None:
        return  # 304: the busy time stored is still the feed's
    await session.execute(delete(BusyInterval).where(BusyInterval.calendar_id == claim.id))
    if result.pieces:
        await session.execute(
            insert(BusyInterval),
            [
                {
                    "calendar_id": claim.id,
                    "instructor_id": claim.instructor_id,
                    "starts_at": p.start,
                    "ends_at": p.end,
                }
                for p in result.pieces
            ],
        )
    calendar.busy_count = result.busy_count
    calendar.etag = result.etag
    calendar.last_modified = result.last_modified
    calendar.expanded_until = result.expanded_until
