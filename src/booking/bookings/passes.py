"""Paying a booking with a pass (SPEC §17, rule 8): after rules 1-7, the pass must be the booked
student's, of the brand, active, include the instructor, have a session left for each booking to be
made, and be valid at each start; then the sessions are taken in the booking's own transaction.

A session comes back when its booking is cancelled (by the student before the cutoff, the instructor
or staff); `completed` and `no_show` spend it. A reschedule keeps the pass, inside its validity.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.audit import sessions_left_changed
from booking.bookings import pass_repository
from booking.bookings.errors import PassNotUsable
from booking.enums import PassRefusal, PassStatus
from booking.errors import NotFound
from booking.models.bookings import Booking
from booking.models.packages import Pass

MESSAGES = {
    PassRefusal.WRONG_BRAND: "the pass is of another brand",
    PassRefusal.NOT_ACTIVE: "the pass is not active (unpaid, expired or cancelled)",
    PassRefusal.INSTRUCTOR_NOT_INCLUDED: "the pass does not include this instructor",
    PassRefusal.NO_SESSIONS_LEFT: "the pass has fewer sessions left than this takes",
    PassRefusal.EXPIRES_BEFORE_SESSION: "the pass expires before the session starts",
}


def not_usable(reason: PassRefusal) -> PassNotUsable:
    return PassNotUsable(MESSAGES[reason], {"reason": reason.value})


def shown_status(found: Pass, now: datetime) -> PassStatus:
    """`expired` once `valid_until` has passed; otherwise the stored status."""
    if found.status == PassStatus.ACTIVE and found.valid_until is not None and now >= found.valid_until:
        return PassStatus.EXPIRED
    return found.status


def covers_instructor(found: Pass, instructor_id: UUID) -> bool:
    if found.instructor_ids is None:
        return True  # any instructor of the brand
    return str(instructor_id) in json.loads(found.instructor_ids)


async def spend(
    session: AsyncSession,
    pass_id: UUID,
    student_id: UUID,
    brand_id: UUID,
    instructor_id: UUID,
    starts: Sequence[datetime],
    now: datetime,
) -> Pass:
    """Rule 8 for the bookings starting at `starts`, then one session each taken from the pass.
    Another student's pass is 404, as if it did not exist."""
    found = await pass_repository.pass_for_update(session, pass_id)
    if found is None or found.student_id != student_id:
        raise NotFound("pass not found")
    if found.brand_id != brand_id:
        raise not_usable(PassRefusal.WRONG_BRAND)
    if shown_status(found, now) != PassStatus.ACTIVE:
        raise not_usable(PassRefusal.NOT_ACTIVE)
    if not covers_instructor(found, instructor_id):
        raise not_usable(PassRefusal.INSTRUCTOR_NOT_INCLUDED)
    if found.sessions_left < len(starts):
        raise not_usable(PassRefusal.NO_SESSIONS_LEFT)
    check_valid_at(found, max(starts))
    if not await pass_repository.take_sessions(session, pass_id, len(starts), now):
        raise not_usable(PassRefusal.NO_SESSIONS_LEFT)
    sessions_left_changed(session, found, found.sessions_left, found.sessions_left - len(starts))
    return found


def check_valid_at(found: Pass, start: datetime) -> None:
    """A pass covers sessions that start before its `valid_until`."""
    assert found.valid_until is not None  # an active pass has one
    if start >= found.valid_until:
        raise not_usable(PassRefusal.EXPIRES_BEFORE_SESSION)


async def check_move(session: AsyncSession, booking: Booking, start: datetime) -> None:
    """A rescheduled booking keeps its pass: its new start must be inside the pass's validity."""
    if booking.pass_id is None:
        return
    found = await session.get(Pass, booking.pass_id)
    if found is not None and found.valid_until is not None:
        check_valid_at(found, start)


async def give_back(session: AsyncSession, booking: Booking, now: datetime) -> None:
    """A cancelled booking paid with a pass returns its session (the pass keeps its `valid_until`)."""
    if booking.pass_id is None:
        return
    given = await pass_repository.give_back_session(session, booking.pass_id, now)
    if given is not None:
        sessions_left_changed(session, given, given.sessions_left - 1, given.sessions_left)
