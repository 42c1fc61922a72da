"""Why not? Every booking rule a session at one time breaks, judged as booking creation judges it.

The verdict comes from the context a booking reads (`booking_context_and_busy`) and the rules' own
list (`scheduling.explain.rejections`, whose first element is `rejection`'s): what this answers
bookable, `POST /api/bookings` accepts at the same moment. The student's pending cap (rule 7) is judged
only for a caller who would book as a student. What blocks (the bookings and busy time in the way, the
cap and its count, the day's windows) is shown only to the instructor and the brand's staff: anyone
else reads codes and messages, nothing that names another booking, a student or a calendar event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, own_instructor_id
from booking.auth import Principal
from booking.availability import repository
from booking.availability.repository import Blocker, InstructorInBrand, instructor_in_brand
from booking.availability.schemas import (
    BlockingBookingOut,
    BusyTimeOut,
    Explanation,
    LimitDetails,
    ReasonOut,
    SlotTakenDetails,
    WindowOut,
    WindowsDetails,
)
from booking.availability.service import Asker, booking_context_and_busy
from booking.errors import NotFound
from booking.scheduling import BookingContext, Interval, Rejection
from booking.scheduling.explain import MESSAGES, day_windows, limit_reached, rejections


@dataclass(frozen=True)
class Caller:
    """Who asks: `sees_all` (the service, the instructor themself), `staff` (also an admin of the
    brand: sees what blocks, other brands' bookings without their id and brand), or a `student`."""

    principal: Principal
    sees_all: bool
    staff: bool

    @property
    def sees_details(self) -> bool:
        return self.sees_all or self.staff

    @property
    def student_id(self) -> UUID | None:
        """The student rule 7 is judged for: a signed-in user who is neither staff nor the instructor."""
        return None if self.sees_details else self.principal.user_id


async def caller_of(
    session: AsyncSession, principal: Principal, instructor_id: UUID, brand_id: UUID
) -> Caller:
    if principal.is_service:
        return Caller(principal, sees_all=True, staff=True)
    if principal.user_id is None:
        return Caller(principal, sees_all=False, staff=False)
    if await own_instructor_id(session, principal) == instructor_id:
        return Caller(principal, sees_all=True, staff=False)
    return Caller(principal, sees_all=False, staff=await is_brand_admin(session, principal, brand_id))


async def explain_time(
    session: AsyncSession,
    principal: Principal,
    instructor_id: UUID,
    brand_id: UUID,
    starts_at: datetime,
    duration_minutes: int | None,
    now: datetime,
) -> Explanation:
    """GET …/slots/explain: every rule a session at `starts_at` breaks, in rule order."""
    instructor = await instructor_in_brand(session, instructor_id, brand_id)
    if instructor is None:
        raise NotFound("instructor not found")
    if not (instructor.active and instructor.linked):
        return _explanation([_reason(Rejection.INSTRUCTOR_NOT_IN_BRAND)])
    caller = await caller_of(session, principal, instructor_id, brand_id)
    start = starts_at.astimezone(UTC)
    session_time = Interval(
        start, start + timedelta(minutes=duration_minutes or instructor.settings.session_minutes)
    )
    asker = None if caller.student_id is None else Asker(caller.student_id)
    context, _ = await booking_context_and_busy(session, instructor, brand_id, now, session_time, asker)
    reasons = []
    for reason in rejections(context, *session_time):
        details = None
        if caller.sees_details:
            details = await _details(session, caller, instructor, context, reason, session_time)
        reasons.append(_reason(reason, details))
    return _explanation(reasons)


Details = SlotTakenDetails | LimitDetails | WindowsDetails


async def _details(
    session: AsyncSession,
    caller: Caller,
    instructor: InstructorInBrand,
    context: BookingContext,
    reason: Rejection,
    session_time: Interval,
) -> Details | None:
    if reason == Rejection.SLOT_UNAVAILABLE:
        found = await repository.blockers_of(
            session, instructor.id, session_time, context.buffer, context.now
        )
        return await _slot_taken(session, caller, instructor.brand_id, found)
    if reason == Rejection.BOOKING_LIMIT_REACHED:
        limit = limit_reached(context, session_time.start)
        return (
            None if limit is None else LimitDetails(period=limit.period, limit=limit.limit, count=limit.count)
        )
    if reason == Rejection.OUTSIDE_AVAILABILITY:
        windows = day_windows(context, session_time.start, ZoneInfo(instructor.timezone))
        return WindowsDetails(windows=[WindowOut(starts_at=w.start, ends_at=w.end) for w in windows])
    return None


async def _slot_taken(
    session: AsyncSession, caller: Caller, brand_id: UUID, found: list[Blocker]
) -> SlotTakenDetails:
    """The bookings and busy time in the way; an admin reads the id and brand only of their brands'."""
    administers: dict[UUID | None, bool] = {brand_id: True, None: False}
    bookings = []
    for blocker in (b for b in found if not b.external):
        brand = blocker.brand_id
        if not caller.sees_all and brand is not None and brand not in administers:
            administers[brand] = await is_brand_admin(session, caller.principal, brand)
        shown = caller.sees_all or administers[brand]
        bookings.append(
            BlockingBookingOut(
                id=blocker.id if shown else None,
                starts_at=blocker.starts_at,
                blocked_until=blocker.ends_at,
                brand_id=blocker.brand_id if shown else None,
            )
        )
    busy = [
        BusyTimeOut(starts_at=b.starts_at, ends_at=b.ends_at, calendar_id=b.id) for b in found if b.external
    ]
    return SlotTakenDetails(bookings=bookings, busy=busy)


def _reason(reason: Rejection, details: Details | None = None) -> ReasonOut:
    return ReasonOut(code=reason, message=MESSAGES[reason], details=details)


def _explanation(reasons: list[ReasonOut]) -> Explanation:
    return Explanation(bookable=not reasons, reasons=reasons)
