"""Every query of the privacy room: a student's rows, and the statements that take their personal details
out of every table that holds them.

The bookings an erasure is about are named by a condition on `bookings` (a student in some brands, or a
retention batch's ids); the other tables are reached through them (`booking_id IN (SELECT id …)`, each
served by that table's booking index), the audit log through its student index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    false,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import (
    ACTIVE_STATUSES,
    HOLD_EXPIRED_REASON,
    OPEN_MESSAGE_STATES,
    STUDENT_ERASED_REASON,
    Audience,
    MessageState,
    NotificationKind,
)
from booking.models.audit import AuditEntry
from booking.models.base import one_of
from booking.models.bookings import Booking, BookingEvent, IdempotencyRecord
from booking.models.events import Event
from booking.models.notifications import NotificationLog, OutboxMessage
from booking.models.packages import Pass

# Cancellation reasons the system writes (kept: they say nothing of the person, and a lapsed hold is
# recognised by its reason); any other reason was written by a person and is erased.
MACHINE_REASONS = (HOLD_EXPIRED_REASON, STUDENT_ERASED_REASON)
# The messages of the instructor (their address is theirs, not the student's).
INSTRUCTOR_KINDS = tuple(kind.value for kind in NotificationKind if kind.value.endswith("_instructor"))
# Messages not settled yet: never sent once their booking's student is erased.
UNSENT_STATES = (*OPEN_MESSAGE_STATES, MessageState.HELD)


def _free_text_reason() -> ColumnElement[bool]:
    return and_(Booking.cancellation_reason.is_not(None), Booking.cancellation_reason.not_in(MACHINE_REASONS))


def has_personal_details() -> ColumnElement[bool]:
    """A booking not erased yet, or one given personal details again after its erasure."""
    return or_(
        Booking.student_erased == false(),
        Booking.student_name.is_not(None),
        Booking.student_email.is_not(None),
        Booking.student_phone.is_not(None),
        Booking.instructor_notes.is_not(None),
        _free_text_reason(),
    )


def of_student(student_id: UUID, brand_ids: Sequence[UUID] | None) -> ColumnElement[bool]:
    """The student's bookings in those brands (None: every brand); ix_bookings_student_brand_created."""
    condition = Booking.student_id == student_id
    return condition if brand_ids is None else and_(condition, Booking.brand_id.in_(brand_ids))


def _ids(which: ColumnElement[bool]) -> Select[Any]:
    return select(Booking.id).where(which)


# --- who and what -----------------------------------------------------------------------------------


async def brands_of_student(session: AsyncSession, student_id: UUID) -> list[UUID]:
    """Every brand the student has a booking or a pass in."""
    booked = select(Booking.brand_id).where(Booking.student_id == student_id)
    held = select(Pass.brand_id).where(Pass.student_id == student_id)
    return sorted(set((await session.scalars(booked.union(held))).all()))


async def bookings_of(session: AsyncSession, which: ColumnElement[bool]) -> Sequence[Booking]:
    query = select(Booking).where(which).order_by(Booking.created_at, Booking.id)
    return (await session.scalars(query.execution_options(populate_existing=True))).all()


async def passes_of_student(
    session: AsyncSession, student_id: UUID, brand_ids: Sequence[UUID] | None
) -> Sequence[Pass]:
    query = select(Pass).where(Pass.student_id == student_id)
    if brand_ids is not None:
        query = query.where(Pass.brand_id.in_(brand_ids))
    return (await session.scalars(query.order_by(Pass.created_at, Pass.id))).all()


async def student_notifications(session: AsyncSession, which: ColumnElement[bool]) -> Sequence[Any]:
    """The log of every message to the student about these bookings (not the instructor's)."""
    query = (
        select(
            NotificationLog.channel,
            NotificationLog.kind,
            NotificationLog.recipient,
            NotificationLog.status,
            NotificationLog.created_at,
        )
        .where(NotificationLog.booking_id.in_(_ids(which)), NotificationLog.kind.not_in(INSTRUCTOR_KINDS))
        .order_by(NotificationLog.created_at, NotificationLog.id)
    )
    return (await session.execute(query)).all()


async def cancellable(session: AsyncSession, which: ColumnElement[bool], now: datetime) -> Sequence[Booking]:
    """Pending and confirmed bookings that start after now, row-locked (read after the erasure's update)."""
    query = (
        select(Booking)
        .where(which, one_of(Booking.status, ACTIVE_STATUSES), Booking.starts_at > now)
        .order_by(Booking.starts_at, Booking.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(query)).all()


async def ended_with_details(session: AsyncSession, cutoff: datetime, limit: int) -> list[UUID]:
    """Up to `limit` bookings that ended at or before `cutoff` and still hold personal details, taken
    for this run (SKIP LOCKED: another worker's batch is left to it)."""
    query = (
        select(Booking.id)
        .where(Booking.ends_at <= cutoff, has_personal_details())
        .order_by(Booking.ends_at, Booking.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(query)).all())


# --- the erasure ----------------------------------------------------------------------------------


async def lock_bookings(session: AsyncSession) -> None:
    """PostgreSQL: wait for the bookings being written now and keep new ones out until the commit.
    EXCLUSIVE conflicts with every write of the table, with itself and with a row lock (`SELECT … FOR
    UPDATE`, which a PATCH takes before it writes), not with plain reads: a change that holds a booking
    row is waited for, never deadlocked with. SQLite's one writer holds the whole database already."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("LOCK TABLE bookings IN EXCLUSIVE MODE"))


async def lock_messages_of(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """Wait for a delivery being recorded for these bookings right now (its log rows are then visible,
    and erased below); a later one finds its message gone."""
    if session.get_bind().dialect.name == "postgresql":
        query = select(OutboxMessage.id).where(OutboxMessage.booking_id.in_(_ids(which))).with_for_update()
        await session.execute(query)


async def erase_booking_rows(session: AsyncSession, which: ColumnElement[bool], now: datetime) -> list[Any]:
    """The bookings' personal details set to null (times, statuses, amounts and ids stay), marked
    `student_erased`; answers (id, brand_id, student_id) of each booking that had any."""
    reason = case((Booking.cancellation_reason.in_(MACHINE_REASONS), Booking.cancellation_reason), else_=None)
    statement = (
        update(Booking)
        .where(which, has_personal_details())
        .values(
            student_name=None,
            student_email=None,
            student_phone=None,
            instructor_notes=None,
            cancellation_reason=reason,
            student_erased=True,
            updated_at=now,
        )
        .returning(Booking.id, Booking.brand_id, Booking.student_id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(statement)).all())


async def erase_notification_log(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """The student's messages keep their channel, kind, status and time; not the address, nor the
    provider's error (which may repeat it)."""
    await session.execute(
        update(NotificationLog)
        .where(
            NotificationLog.booking_id.in_(_ids(which)),
            NotificationLog.kind.not_in(INSTRUCTOR_KINDS),
            or_(NotificationLog.recipient.is_not(None), NotificationLog.error.is_not(None)),
        )
        .values(recipient=None, error=None)
        .execution_options(synchronize_session=False)
    )


async def erase_outbox(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """Messages not sent yet are deleted (never sent now); those settled keep their row with the body
    emptied (the instructor's name the student too), and the student's address and error with it."""
    await session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.booking_id.in_(_ids(which)), one_of(OutboxMessage.status, UNSENT_STATES))
        .execution_options(synchronize_session=False)
    )
    student = OutboxMessage.audience == Audience.STUDENT
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.booking_id.in_(_ids(which)),
            or_(OutboxMessage.message != "", and_(student, OutboxMessage.recipient != "")),
        )
        .values(
            message="",
            recipient=case((student, literal("")), else_=OutboxMessage.recipient),
            last_error=case((student, None), else_=OutboxMessage.last_error),
        )
        .execution_options(synchronize_session=False)
    )


async def event_data_of(session: AsyncSession, which: ColumnElement[bool]) -> Sequence[Any]:
    """The events of these bookings (their webhook payloads: a delivery reads them when attempted)."""
    query = select(Event.id, Event.data).where(Event.booking_id.in_(_ids(which)))
    return (await session.execute(query)).all()


async def set_event_data(session: AsyncSession, rows: Sequence[tuple[UUID, str]]) -> None:
    if rows:  # one executemany, by primary key
        await session.execute(update(Event), [{"id": event_id, "data": data} for event_id, data in rows])


async def callers_of(session: AsyncSession, which: ColumnElement[bool]) -> set[str]:
    """Whoever made or moved these bookings: the callers their stored idempotent answers are kept under."""
    made = select(Booking.created_by).where(which)
    moved = select(BookingEvent.actor).where(BookingEvent.booking_id.in_(_ids(which)))
    return set((await session.scalars(made.union(moved))).all())


async def answers_naming(session: AsyncSession, callers: Iterable[str], needle: str) -> Sequence[Any]:
    """Stored answers of these callers whose text names `needle` (the primary key's caller prefix
    bounds the scan)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(IdempotencyRecord.caller, IdempotencyRecord.key, IdempotencyRecord.response_body).where(
        IdempotencyRecord.caller.in_(sorted(callers)),
        IdempotencyRecord.response_body.like(f"%{escaped}%", escape="\\"),
    )
    return (await session.execute(query)).all()


async def delete_answers(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> None:
    for caller, key in keys:
        await session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
            .execution_options(synchronize_session=False)
        )


async def delete_expired_answers(session: AsyncSession, callers: Iterable[str], before: datetime) -> None:
    """Answers too old to be replayed (a request with the key runs anew after its lifetime)."""
    await session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.caller.in_(sorted(callers)), IdempotencyRecord.created_at < before)
        .execution_options(synchronize_session=False)
    )


async def student_targets(session: AsyncSession, student_id: UUID, brand_ids: Sequence[UUID]) -> list[UUID]:
    """The ids of the student's bookings and passes in those brands: what their audit entries name."""
    booked = select(Booking.id).where(of_student(student_id, brand_ids))
    held = select(Pass.id).where(Pass.student_id == student_id, Pass.brand_id.in_(brand_ids))
    return list((await session.scalars(booked.union(held))).all())


def audit_of(brand_ids: Iterable[UUID], target_ids: Iterable[UUID]) -> ColumnElement[bool]:
    """The entries of these bookings and passes, through ix_audit_log_brand_target_at (no index on the
    student: it would cost every audited change a write, for the rare erasure)."""
    return and_(AuditEntry.brand_id.in_(set(brand_ids)), AuditEntry.target_id.in_(set(target_ids)))


async def audit_changes_of(session: AsyncSession, condition: ColumnElement[bool]) -> Sequence[Any]:
    return (await session.execute(select(AuditEntry.id, AuditEntry.changes).where(condition))).all()


async def set_audit_changes(session: AsyncSession, rows: Sequence[tuple[int, str]]) -> None:
    if rows:  # one executemany, by primary key
        await session.execute(
            update(AuditEntry), [{"id": entry_id, "changes": changes} for entry_id, changes in rows]
        )
