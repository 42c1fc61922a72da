"""Payment holds (SPEC §9): an unpaid booking stops blocking its time when its hold ends.

No job is needed for that: slots and bookings treat an expired hold as free, and a booking that takes
its time cancels it first, in the booking's own transaction, so the database guard keeps the last
word. The worker cancels the rest within a minute of expiry (`expire_due_holds`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID

from booking.audit import SYSTEM, Audit
from booking.availability.repository import busy_time
from booking.bookings import repository
from booking.bookings.errors import InvalidTransition
from booking.bookings.events import emit
from booking.bookings.lifecycle import set_status
from booking.bookings.messages import booked_session, parties_for, unit_of_work
from booking.db import Database
from booking.enums import HOLD_EXPIRED_REASON, BookingStatus, EventType, NotificationKind
from booking.errors import field_error
from booking.models.bookings import Booking
from booking.notifications import messages
from booking.notifications.effects import Messages
from booking.notifications.notifier import Notifier
from booking.payments.effects import PaymentTasks
from booking.scheduling import Interval, SchedulingRules
from booking.unit_of_work import UnitOfWork
from booking.worker import Job

SYSTEM_ACTOR = "system"  # the history's actor of what nobody asked for
HOLDS_PER_PASS = 100


def hold_end(created_at: datetime, hold_minutes: int) -> datetime | None:
    """When a new pending booking's hold ends; None when the setting is 0 (never)."""
    return None if hold_minutes == 0 else created_at + timedelta(minutes=hold_minutes)


def is_expired_hold(booking: Booking, now: datetime) -> bool:
    return (
        booking.status == BookingStatus.PENDING
        and booking.hold_expires_at is not None
        and booking.hold_expires_at <= now
    )


async def cancel_expired(work: UnitOfWork, holds: Sequence[Booking]) -> None:
    """Cancel each expired hold as the system: history, `booking.cancelled`, an email to the student.
    Flushed at once: the insert or update that follows is judged by the database guard."""
    outgoing = work.effect(Messages)
    audit = work.effect(Audit)
    for hold in holds:
        audit.attribute(hold, SYSTEM)  # also when a booking clears it out of its way
        repository.add_change(work.session, hold, BookingStatus.CANCELLED, None, SYSTEM_ACTOR, work.now)
        set_status(hold, BookingStatus.CANCELLED)
        hold.cancellation_reason = HOLD_EXPIRED_REASON
        hold.updated_at = work.now
        stop_waiting_for_payment(work, hold)
        parties = await parties_for(work.session, hold, outgoing.notifier)
        outgoing.send(
            outgoing.notifier.email_to(
                hold.id,
                NotificationKind.HOLD_EXPIRED,
                hold.student_email,
                partial(messages.hold_expired_email, booked_session(hold), parties, work.now),
            )
        )
        emit(work, EventType.CANCELLED, hold)
    if holds:
        await work.session.flush()


async def cancel_expired_overlapping(
    work: UnitOfWork, instructor_id: UUID, blocked: Interval, seen: Sequence[Interval]
) -> None:
    """Before a booking takes `blocked` ([start, blocked_until)): cancel the expired holds in the way.
    `seen` are the expired holds its busy read found: with none in the way, no statement is sent."""
    if not any(hold.overlaps(blocked.start, blocked.end) for hold in seen):
        return
    holds = await repository.expired_holds_overlapping(work.session, instructor_id, blocked, work.now)
    await cancel_expired(work, holds)


def stop_waiting_for_payment(work: UnitOfWork, booking: Booking) -> None:
    """The booking's Checkout Session, if it has one, is expired: no payment starts for it any more
    (Stripe refuses to expire one that is no longer open; the task takes that as done)."""
    if booking.checkout_session_id is not None:
        work.effect(PaymentTasks).expire_session(booking.id, booking.checkout_session_id)
        booking.checkout_session_id = None


def is_lapsed_hold(booking: Booking) -> bool:
    """Cancelled because its hold ran out: the one booking a payment can bring back (SPEC §9)."""
    return booking.status == BookingStatus.CANCELLED and booking.cancellation_reason == HOLD_EXPIRED_REASON


def change_hold(booking: Booking, ends_at: datetime | None, now: datetime) -> None:
    """Staff extend or shorten a pending booking's hold, or lift it (None)."""
    if ends_at is not None and ends_at <= now:
        raise field_error("must be after now (or null: no expiry)", "body", "hold_expires_at")
    if booking.status != BookingStatus.PENDING or is_expired_hold(booking, now):
        raise InvalidTransition("only a pending booking whose hold has not expired has a hold to change")
    booking.hold_expires_at = None if ends_at is None else ends_at.astimezone(UTC)


async def revive_or_refund(work: UnitOfWork, booking: Booking) -> BookingStatus:
    """A lapsed hold paid for: `confirmed` again when its time is still free by the overlap rule alone
    (the student was promised that time; caps are not asked again), else it stays `cancelled` with
    `refund_due`. The database guard decides a race with a new booking for the time: the revival is
    tried in a savepoint, and refused by the guard it becomes a refund."""
    session = work.session
    blocked = Interval(booking.starts_at, booking.blocked_until)
    rules = SchedulingRules(buffer_minutes=booking.buffer_minutes)
    busy = await busy_time(
        session,
        booking.instructor_id,
        booking.brand_id,
        Interval(booking.starts_at, booking.ends_at),
        rules,
        work.now,
    )
    if busy.index.overlaps(blocked.start, blocked.end):
        return _refund_due(booking)
    await cancel_expired_overlapping(work, booking.instructor_id, blocked, busy.expired)
    await session.flush()  # the payment itself is kept whatever the savepoint decides
    try:
        async with session.begin_nested():
            set_status(booking, BookingStatus.CONFIRMED)
            await repository.save_changes(session)
    except repository.OverlapRefused:
        await session.refresh(booking)  # the savepoint's rollback expired it
        return _refund_due(booking)
    booking.cancellation_reason = None
    return BookingStatus.CONFIRMED


def _refund_due(booking: Booking) -> BookingStatus:
    booking.refund_due = True
    return BookingStatus.CANCELLED


async def expire_due_holds(
    db: Database, notifier: Notifier, now: datetime, limit: int = HOLDS_PER_PASS
) -> int:
    """The worker's job: cancel up to `limit` expired holds; answers how many."""
    cancelled = 0

    async def change(work: UnitOfWork) -> None:
        nonlocal cancelled
        holds = await repository.expired_holds_due(work.session, now, limit)
        await cancel_expired(work, holds)
        cancelled = len(holds)

    await unit_of_work(db, notifier, now).run(change)
    return cancelled


def hold_jobs(db: Database, notifier: Notifier) -> list[Job]:
    """Expired payment holds cancelled (their time is already free: this makes it visible and tells the
    student); first in a pass, so that their events go out in the same pass."""
    return [
        Job(
            "holds",
            lambda now: expire_due_holds(db, notifier, now),
            repository.any_expired_hold,
            batch=HOLDS_PER_PASS,
        )
    ]
