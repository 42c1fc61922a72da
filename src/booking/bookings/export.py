"""A brand's bookings as CSV (RFC 4180, CRLF), streamed page by page so that memory stays flat, and who
may read a brand's reports (the export and the insights)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, own_instructor_id, require_authenticated
from booking.auth import Principal
from booking.brands.repository import brand_by_id
from booking.db import Database
from booking.errors import Forbidden, NotFound, field_error
from booking.instructors.repository import link_of
from booking.models.bookings import Booking
from booking.models.brands import Brand, BrandAdmin
from booking.models.instructors import Instructor

HEADER = [
    "booking_id",
    "status",
    "payment_status",
    "starts_at",
    "ends_at",
    "instructor_local_start",
    "instructor_id",
    "instructor_name",
    "student_id",
    "student_name",
    "student_email",
    "currency",
    "price",
    "amount_paid",
    "amount_refunded",
    "series_id",
    "pass_id",
    "cancellation_reason",
    "created_at",
]
PAGE = 500  # rows per query, each page in its own short read transaction
# A cell a spreadsheet would take for a formula is written with a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# --- who may read a brand's reports -----------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A caller allowed to read a brand's reports: staff see everything; an instructor (linked to the
    brand) only their own sessions (`instructor_id`)."""

    brand: Brand
    instructor_id: UUID | None


async def brand_reader(session: AsyncSession, principal: Principal, brand_id: UUID) -> Reader:
    """Service and the brand's admins; an instructor of the brand for their own sessions. An admin of
    another brand is told the brand does not exist (404), as everywhere; anyone else 403."""
    require_authenticated(principal)
    brand = await brand_by_id(session, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    if await is_brand_admin(session, principal, brand_id):
        return Reader(brand, None)
    instructor_id = await own_instructor_id(session, principal)
    if instructor_id is not None and await link_of(session, instructor_id, brand_id) is not None:
        return Reader(brand, instructor_id)
    administers = select(exists().where(BrandAdmin.user_id == principal.user_id))
    if principal.user_id is not None and await session.scalar(administers):
        raise NotFound("brand not found")
    raise Forbidden("only the service, an admin or an instructor of this brand may read its reports")


def local_span(
    brand: Brand, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """Brand-local dates, both inclusive, as the UTC instants [start of `first`, end of `last`)."""
    if first is not None and last is not None and last < first:
        raise field_error("`to` must not be before `from`", "query", "to")
    zone = ZoneInfo(brand.timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return (
        None if first is None else midnight(first),
        None if last is None else midnight(last + timedelta(days=1)),
    )


# --- the CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportScope:
    brand_id: UUID
    currency: str
    starts_from: datetime | None
    starts_to: datetime | None
    instructor_id: UUID | None


async def export_scope(
    session: AsyncSession,
    principal: Principal,
    brand_id: UUID,
    first: date | None,
    last: date | None,
    instructor_id: UUID | None,
) -> ExportScope:
    """What the caller's export holds; raises before the first byte is sent."""
    reader = await brand_reader(session, principal, brand_id)
    starts_from, starts_to = local_span(reader.brand, first, last)
    if reader.instructor_id is not None:
        if instructor_id not in (None, reader.instructor_id):
            raise Forbidden("an instructor exports only their own sessions")
        instructor_id = reader.instructor_id
    return ExportScope(brand_id, reader.brand.currency, starts_from, starts_to, instructor_id)


COLUMNS = (
    Booking.id,
    Booking.status,
    Booking.payment_status,
    Booking.starts_at,
    Booking.ends_at,
    Booking.instructor_timezone,
    Booking.instructor_id,
    Instructor.name,
    Booking.student_id,
    Booking.student_name,
    Booking.student_email,
    Booking.price_currency,
    Booking.price_amount,
    Booking.amount_paid,
    Booking.amount_refunded,
    Booking.series_id,
    Booking.pass_id,
    Booking.cancellation_reason,
    Booking.created_at,
)


async def _page(
    session: AsyncSession, scope: ExportScope, after: tuple[datetime, UUID] | None
) -> Sequence[Sequence[Any]]:
    """The next PAGE bookings by start (ix_bookings_brand_starts; one instructor's:
    ix_bookings_instructor_starts), after the keyset position `after`."""
    query = (
        select(*COLUMNS)
        .join(Instructor, Instructor.id == Booking.instructor_id)
        .where(Booking.brand_id == scope.brand_id)
    )
    if scope.instructor_id is not None:
        query = query.where(Booking.instructor_id == scope.instructor_id)
    if scope.starts_from is not None:
        query = query.where(Booking.starts_at >= scope.starts_from)
    if scope.starts_to is not None:
        query = query.where(Booking.starts_at < scope.starts_to)
    if after is not None:
        query = query.where(tuple_(Booking.starts_at, Booking.id) > tuple_(*after))
    query = query.order_by(Booking.starts_at, Booking.id).limit(PAGE)
    return (await session.execute(query)).all()


def utc_text(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cell(value: object) -> str:
    """Empty for NULL; a cell that starts like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(row: Sequence[Any], currency: str) -> list[str]:
    (
        booking_id, status, payment_status, starts_at, ends_at, zone, instructor_id, instructor_name,
        student_id, student_name, student_email, price_currency, price, paid, refunded, series_id,
        pass_id, reason, created_at,
    ) = row  # fmt: skip
    local_start = starts_at.astimezone(ZoneInfo(zone)).isoformat()
    values = (
        booking_id, status, payment_status, utc_text(starts_at), utc_text(ends_at), local_start,
        instructor_id, instructor_name, student_id, student_name, student_email,
        price_currency or currency, price, paid, refunded, series_id, pass_id, reason, utc_text(created_at),
    )  # fmt: skip
    return [cell(value) for value in values]


def _lines(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


async def csv_chunks(db: Database, scope: ExportScope) -> AsyncIterator[bytes]:
    """The header, then one chunk per page; each page read in its own short transaction."""
    yield _lines([HEADER])
    after: tuple[datetime, UUID] | None = None
    while True:
        async with db.transaction(write=False) as session:
            rows = await _page(session, scope, after)
        if not rows:
            return
        yield _lines([csv_row(row, scope.currency) for row in rows])
        if len(rows) < PAGE:
            return
        after = (rows[-1][3], rows[-1][0])  # starts_at, id
