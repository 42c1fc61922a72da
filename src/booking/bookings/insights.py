"""A brand's figures over brand-local dates: per instructor, sessions, hours, outcomes, cancellations by
whom, expired holds and revenue; sessions per (Monday-first) week. Counted in SQL, grouped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.auth import Principal
from booking.bookings.export import brand_reader, local_span
from booking.enums import HOLD_EXPIRED_REASON, BookingStatus
from booking.errors import field_error
from booking.models.bookings import Booking, BookingEvent
from booking.models.instructors import Instructor, InstructorBrand

LONGEST_SPAN = timedelta(days=366)


class InstructorFigures(BaseModel):
    instructor_id: UUID
    name: str
    sessions: int = Field(
        description="not cancelled: confirmed, completed, no_show, pending with a live hold"
    )
    hours: float = Field(description="the sessions' durations summed")
    completed: int
    no_show: int
    cancelled_by_student: int
    cancelled_by_staff: int = Field(description="by the service, an admin or the instructor")
    expired_holds: int = Field(description="cancelled by the system: the payment hold ran out")
    no_show_rate: float | None = Field(description="no_show / (completed + no_show); null when both are 0")
    revenue_paid: int = Field(description="amount_paid summed, smallest unit of `currency`")
    revenue_refunded: int = Field(description="amount_refunded summed, smallest unit of `currency`")


class WeekFigures(BaseModel):
    week_start: date = Field(description="a Monday, brand-local")
    sessions: int


class InsightsOut(BaseModel):
    from_: date = Field(alias="from", serialization_alias="from")
    to: date
    currency: str
    instructors: list[InstructorFigures]
    weeks: list[WeekFigures]


def _mondays(first: date, last: date) -> list[date]:
    monday = first - timedelta(days=first.weekday())
    return [monday + timedelta(weeks=n) for n in range((last - monday).days // 7 + 1)]


def _seconds(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return func.extract("epoch", Booking.ends_at - Booking.starts_at)
    # SQLite keeps instants as text that julianday() reads.
    return (func.julianday(Booking.ends_at) - func.julianday(Booking.starts_at)) * 86400.0


def _cancelled_by_student() -> ColumnElement[bool]:
    """The booking's history names its own student as who cancelled it (`user:<student_id>`); ids
    compared without hyphens, as each database writes a uuid as text in its own way."""
    student = literal("user:") + func.replace(func.lower(cast(Booking.student_id, String)), "-", "")
    return exists().where(
        BookingEvent.booking_id == Booking.id,
        BookingEvent.to_status == BookingStatus.CANCELLED,
        BookingEvent.from_status != BookingStatus.CANCELLED,
        func.replace(func.lower(BookingEvent.actor), "-", "") == student,
    )


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def brand_insights(
    session: AsyncSession, principal: Principal, brand_id: UUID, first: date, last: date, now: datetime
) -> InsightsOut:
    reader = await brand_reader(session, principal, brand_id)
    starts_from, starts_to = local_span(reader.brand, first, last)
    if last - first >= LONGEST_SPAN:
        raise field_error("at most 366 days", "query", "to")
    assert starts_from is not None and starts_to is not None
    mondays = _mondays(first, last)
    boundaries = [local_span(reader.brand, monday, None)[0] for monday in mondays[1:]]
    week: ColumnElement[Any] = literal(0)
    if boundaries:
        week = case(*((Booking.starts_at < b, n) for n, b in enumerate(boundaries)), else_=len(boundaries))
    status = Booking.status
    live_hold = or_(Booking.hold_expires_at.is_(None), Booking.hold_expires_at > now)
    held = or_(
        status.in_([BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW]),
        and_(status == BookingStatus.PENDING, live_hold),
    )
    expired = and_(status == BookingStatus.CANCELLED, Booking.cancellation_reason == HOLD_EXPIRED_REASON)
    other_cancel = and_(
        status == BookingStatus.CANCELLED,
        or_(Booking.cancellation_reason.is_(None), Booking.cancellation_reason != HOLD_EXPIRED_REASON),
    )
    by_student = _cancelled_by_student()
    seconds = _seconds(session.get_bind().dialect.name)
    query = (
        select(
            Booking.instructor_id,
            week.label("week"),
            _count(held).label("sessions"),
            func.coalesce(func.sum(case((held, seconds), else_=0)), 0).label("seconds"),
            _count(status == BookingStatus.COMPLETED).label("completed"),
            _count(status == BookingStatus.NO_SHOW).label("no_show"),
            _count(and_(other_cancel, by_student)).label("cancelled_by_student"),
            _count(and_(other_cancel, ~by_student)).label("cancelled_by_staff"),
            _count(expired).label("expired_holds"),
            func.coalesce(func.sum(Booking.amount_paid), 0).label("revenue_paid"),
            func.coalesce(func.sum(Booking.amount_refunded), 0).label("revenue_refunded"),
        )
        .where(Booking.brand_id == brand_id, Booking.starts_at >= starts_from, Booking.starts_at < starts_to)
        .group_by(Booking.instructor_id, week)
    )
    if reader.instructor_id is not None:
        query = query.where(Booking.instructor_id == reader.instructor_id)
    grouped = (await session.execute(query)).mappings().all()
    names = await _instructors(session, brand_id, reader.instructor_id, {g["instructor_id"] for g in grouped})
    return InsightsOut.model_validate(
        {
            "from": first,
            "to": last,
            "currency": reader.brand.currency,
            "instructors": [_row(i, name, grouped) for i, name in names],
            "weeks": [
                {"week_start": monday, "sessions": sum(int(g["sessions"]) for g in grouped if g["week"] == n)}
                for n, monday in enumerate(mondays)
            ],
        }
    )


SUMMED = (
    "sessions",
    "completed",
    "no_show",
    "cancelled_by_student",
    "cancelled_by_staff",
    "expired_holds",
    "revenue_paid",
    "revenue_refunded",
)


def _row(instructor_id: UUID, name: str, grouped: Sequence[Any]) -> InstructorFigures:
    mine = [g for g in grouped if g["instructor_id"] == instructor_id]
    totals = {key: sum(int(g[key]) for g in mine) for key in SUMMED}
    outcomes = totals["completed"] + totals["no_show"]
    return InstructorFigures(
        instructor_id=instructor_id,
        name=name,
        hours=round(sum(float(g["seconds"]) for g in mine) / 3600, 4),
        no_show_rate=totals["no_show"] / outcomes if outcomes else None,
        **totals,
    )


async def _instructors(
    session: AsyncSession, brand_id: UUID, only: UUID | None, with_sessions: set[UUID]
) -> list[tuple[UUID, str]]:
    """Every instructor linked to the brand, and any other with bookings in the span; by name."""
    linked = (
        select(InstructorBrand.instructor_id)
        .where(InstructorBrand.brand_id == brand_id, InstructorBrand.unlinked_at.is_(None))
        .scalar_subquery()
    )
    query = select(Instructor.id, Instructor.name).where(
        or_(Instructor.id.in_(linked), Instructor.id.in_(with_sessions))
    )
    if only is not None:
        query = query.where(Instructor.id == only)
    rows = (await session.execute(query.order_by(Instructor.name, Instructor.id))).all()
    return [(row[0], row[1]) for row in rows]
