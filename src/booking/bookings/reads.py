"""Bookings as they are read: one booking with its history, a page of a brand's bookings, a calendar."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import require_authenticated, require_instructor_or_brand_admin
from booking.auth import Principal
from booking.bookings import repository
from booking.bookings.lifecycle import Role
from booking.bookings.policy import Viewer, viewer
from booking.bookings.prices import starting_state
from booking.bookings.repository import BookingFilter
from booking.bookings.schemas import HistoryEntry
from booking.enums import BookingStatus, PaymentStatus
from booking.errors import NotFound, field_error
from booking.instructors.repository import instructor_by_id
from booking.models.bookings import Booking
from booking.models.instructors import Instructor

# --- read -----------------------------------------------------------------------------------------


async def visible_booking(
    session: AsyncSession, principal: Principal, booking_id: UUID, *, for_update: bool = False
) -> tuple[Booking, Role]:
    """The booking and the caller's role on it; 404 when the caller may not see it. `for_update`
    row-locks it (PostgreSQL), so that a change and the worker's hold expiry do not cross."""
    require_authenticated(principal)
    booking = await repository.booking_by_id(session, booking_id, for_update=for_update)
    if booking is None:
        raise NotFound("booking not found")
    role = (await viewer(session, principal, booking.brand_id)).role_for(booking)
    if role is None:
        raise NotFound("booking not found")
    return booking, role


async def history(session: AsyncSession, booking: Booking) -> list[HistoryEntry]:
    """Creation (read off the booking row itself), then every recorded change in order."""
    created = HistoryEntry(
        from_status=None,
        to_status=starting_state(booking.price_amount)[0],
        payment_status=None,
        actor=booking.created_by,
        created_at=booking.created_at,
    )
    changes = await repository.changes_of(session, booking.id)
    return [created, *(HistoryEntry.model_validate(change) for change in changes)]


@dataclass(frozen=True)
class PageQuery:
    brand_id: UUID
    status: BookingStatus | None
    starts_from: datetime | None
    starts_to: datetime | None
    limit: int
    cursor: str | None
    instructor_id: UUID | None = None
    payment_status: PaymentStatus | None = None
    q: str | None = None  # a part of the student's name or email, any case, taken literally
    newest_first: bool = False


def like_pattern(part: str) -> str:
    """`%part%` with LIKE's own characters (and the escape, a backslash) taken literally."""
    escaped = part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def encode_cursor(booking: Booking) -> str:
    raw = json.dumps([booking.created_at.isoformat(), str(booking.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        created_at, booking_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        instant = datetime.fromisoformat(created_at)
        if instant.tzinfo is None:  # not what encode_cursor writes: the column takes aware instants only
            raise ValueError(created_at)
        return instant.astimezone(UTC), UUID(booking_id)
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError) as exc:
        message = "cursor is not one this API handed out"
        raise field_error(message, "query", "cursor") from exc


def _visible(who: Viewer, page: PageQuery) -> BookingFilter:
    return BookingFilter(
        brand_id=page.brand_id,
        status=page.status,
        starts_from=page.starts_from,
        starts_to=page.starts_to,
        student_id=who.principal.user_id,
        instructor_id=who.instructor_id,
        everyone=who.staff,
        of_instructor=page.instructor_id,
        payment_status=page.payment_status,
        pattern=None if page.q is None else like_pattern(page.q),
    )


@dataclass(frozen=True)
class Page:
    bookings: Sequence[Booking]
    next_cursor: str | None
    sees_notes: bool


async def list_bookings(session: AsyncSession, principal: Principal, page: PageQuery) -> Page:
    """One page, oldest (or newest) first by creation (keyset: stable while bookings are added)."""
    who = await viewer(session, principal, page.brand_id)
    after = None if page.cursor is None else decode_cursor(page.cursor)
    which = _visible(who, page)
    rows = await repository.bookings_created_after(session, which, after, page.limit + 1, page.newest_first)
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else None, who.sees_notes)


# --- calendar -------------------------------------------------------------------------------------


async def calendar(
    session: AsyncSession,
    principal: Principal,
    instructor_id: UUID,
    brand_id: UUID,
    starts_from: datetime,
    starts_to: datetime | None,
) -> tuple[Instructor, Sequence[Booking]]:
    require_authenticated(principal)
    instructor = await instructor_by_id(session, instructor_id)
    if instructor is None:
        raise NotFound("instructor not found")
    await require_instructor_or_brand_admin(session, principal, instructor, brand_id, "read this calendar")
    sessions = await repository.active_sessions_of(session, instructor_id, brand_id, starts_from, starts_to)
    return instructor, sessions
