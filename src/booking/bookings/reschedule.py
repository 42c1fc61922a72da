"""Reschedule (SPEC §11): a booking moves to a new time in one UPDATE, under the database guard.

A move is an update of the one row, not a cancellation plus a new booking: the id, the student, the
status, the payment and the hold stay, and the overlap guard (exclusion constraint or trigger) judges
the new time in the same statement that frees the old one. Either the booking is at the new time or
nothing changed; there is never a second active booking, and the calendar event keeps its UID.

A request moves the booking from where it found it: the move count is read before the write
transaction, and a request that then finds the booking moved by another one (it waited on the row
lock) is refused with `409 conflict` instead of moving it a second time. So of concurrent reschedules
of one booking exactly one wins; a later request, sent after seeing the first answer, moves it again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import require_authenticated
from booking.auth import Principal
from booking.availability.repository import InstructorInBrand, instructor_in_brand, scheduling_settings
from booking.availability.service import Asker, booking_context_and_busy, list_slots
from booking.bookings import holds, passes, repository
from booking.bookings.creation import cap_locks
from booking.bookings.errors import InvalidTransition, RescheduleCutoffPassed, refused
from booking.bookings.events import emit
from booking.bookings.lifecycle import Role
from booking.bookings.messages import booked_session, parties_for
from booking.bookings.reads import visible_booking
from booking.bookings.render import Answer
from booking.bookings.repository import OverlapRefused
from booking.bookings.schemas import Previous, RescheduleRequest
from booking.bookings.service import Written, idempotent_write
from booking.db import Database
from booking.enums import ACTIVE_STATUSES, EventType
from booking.errors import AppError, Conflict, field_error
from booking.models.bookings import Booking
from booking.notifications.effects import Messages
from booking.notifications.service import booking_moved_messages
from booking.scheduling import Interval, Rejection, rejection
from booking.unit_of_work import UnitOfWork


async def reschedule(
    work: UnitOfWork, principal: Principal, booking_id: UUID, data: RescheduleRequest, key: str | None
) -> Answer:
    """POST /api/bookings/{id}/reschedule: `200 {"booking", "notifications"}`, replayable by key."""
    require_authenticated(principal)
    seen = await booking_as_found(work.db, booking_id)
    request = {"reschedule": str(booking_id), **data.model_dump(mode="json")}
    return await idempotent_write(
        work, principal, key, request, 200, lambda work: move_booking(work, principal, booking_id, data, seen)
    )


async def booking_as_found(db: Database, booking_id: UUID) -> int | None:
    """The booking's move count as this request finds it, read before the write transaction (whose
    SQLite BEGIN IMMEDIATE would already wait for the concurrent moves)."""
    async with db.transaction(write=False) as session:
        return await repository.reschedule_count_of(session, booking_id)


def check_movable(booking: Booking, now: datetime) -> None:
    """Only a pending (hold not expired) or confirmed booking that has not started moves."""
    if booking.status not in ACTIVE_STATUSES:
        raise InvalidTransition(f"a {booking.status} booking cannot be rescheduled")
    if booking.starts_at <= now:
        raise InvalidTransition("a booking that has started cannot be rescheduled")
    if holds.is_expired_hold(booking, now):
        raise InvalidTransition("the booking's payment hold has expired: it cannot be rescheduled")


def check_cutoff(role: Role, booking: Booking, cutoff_hours: int, now: datetime) -> None:
    """Students move a booking up to `reschedule_cutoff_hours` before its current start; the
    instructor and staff at any time before it."""
    if role == Role.STUDENT and now > booking.starts_at - timedelta(hours=cutoff_hours):
        raise RescheduleCutoffPassed(f"students can reschedule up to {cutoff_hours} h before the start")


def current_minutes(booking: Booking) -> int:
    return int((booking.ends_at - booking.starts_at).total_seconds() // 60)


async def move_booking(
    work: UnitOfWork, principal: Principal, booking_id: UUID, data: RescheduleRequest, seen: int | None
) -> Written:
    """Check the move as SPEC §11 orders it, then move the row; the messages and the event follow."""
    session, now = work.session, work.now
    booking, role = await visible_booking(session, principal, booking_id, for_update=True)
    staff = role != Role.STUDENT
    check_movable(booking, now)
    start = data.starts_at.astimezone(UTC)
    end = start + timedelta(minutes=data.duration_minutes or current_minutes(booking))
    if (start, end) == (booking.starts_at, booking.ends_at):
        return Written(booking, None, staff)  # already there: no message, no event
    if seen is not None and booking.reschedule_count != seen:
        raise Conflict("another request moved this booking while this one waited; read it and retry")
    instructor = await instructor_in_brand(session, booking.instructor_id, booking.brand_id, for_booking=True)
    if instructor is None:
        raise refused(Rejection.INSTRUCTOR_NOT_IN_BRAND)
    check_cutoff(role, booking, instructor.settings.reschedule_cutoff_hours, now)
    await passes.check_move(session, booking, start)
    blocked = await _check_new_time(work, instructor, booking, Interval(start, end))
    previous = Interval(booking.starts_at, booking.ends_at)
    _move(session, booking, blocked, end, principal.actor, now)
    try:
        await repository.save_changes(session)  # one UPDATE, judged by the overlap guard
    except OverlapRefused as exc:
        raise refused(Rejection.SLOT_UNAVAILABLE) from exc
    outgoing = work.effect(Messages)
    parties = await parties_for(session, booking, outgoing.notifier)
    messages = booking_moved_messages(outgoing.notifier, booked_session(booking), previous, parties, now)
    outgoing.send(*messages.all)
    was = Previous(starts_at=previous.start, ends_at=previous.end).model_dump(mode="json")
    emit(work, EventType.RESCHEDULED, booking, previous=was)
    return Written(booking, messages, staff)


async def _check_new_time(
    work: UnitOfWork, instructor: InstructorInBrand, booking: Booking, session_time: Interval
) -> Interval:
    """Rules 1-7 for the new time as a new booking of the student, the booking's own time not counted;
    answers the new blocked interval, with the expired holds in its way cancelled."""
    await repository.serialise(work.session, cap_locks(instructor, booking.student_id))
    context, busy = await booking_context_and_busy(
        work.session, instructor, booking.brand_id, work.now, session_time, Asker.moving_booking(booking)
    )
    if (reason := rejection(context, session_time.start, session_time.end)) is not None:
        raise refused(reason)
    blocked = Interval(session_time.start, session_time.end + context.rules.buffer)
    await holds.cancel_expired_overlapping(work, instructor.id, blocked, busy.expired)
    return blocked


def _move(
    session: AsyncSession, booking: Booking, blocked: Interval, end: datetime, actor: str, now: datetime
) -> None:
    repository.add_move(session, booking, blocked.start, actor, now)
    if booking.reminder_claimed_at is not None and blocked.start > booking.reminder_claimed_at:
        booking.reminder_claimed_at = None  # reminded for the old time: remind again for the new one
    booking.starts_at, booking.ends_at, booking.blocked_until = blocked.start, end, blocked.end
    booking.buffer_minutes = int((blocked.end - end).total_seconds() // 60)
    booking.reschedule_count += 1
    booking.calendar_sequence += 1
    booking.updated_at = now


async def reschedule_slots(
    session: AsyncSession,
    principal: Principal,
    instructor_id: UUID,
    brand_id: UUID,
    booking_id: UUID,
    days: tuple[date, date],
    timezone: str | None,
    duration_minutes: int | None,
    now: datetime,
) -> tuple[str, list[Interval]]:
    """`slots?reschedule_of=`: exactly the starts a reschedule by this caller would accept now."""
    booking, role = await visible_booking(session, principal, booking_id)
    if (booking.instructor_id, booking.brand_id) != (instructor_id, brand_id):
        message = "the booking is not one of this instructor in this brand"
        raise field_error(message, "query", "reschedule_of")
    minutes = duration_minutes or current_minutes(booking)
    asker = Asker.moving_booking(booking)
    zone, slots = await list_slots(session, instructor_id, brand_id, *days, timezone, minutes, now, asker)
    try:
        check_movable(booking, now)
        settings = await scheduling_settings(session, instructor_id, brand_id)
        check_cutoff(role, booking, settings.reschedule_cutoff_hours, now)
    except AppError:
        return zone, []
    return zone, slots
