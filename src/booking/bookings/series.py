"""Weekly series: `count` bookings at the same local time every `every_weeks` weeks, judged and made in
one transaction (SPEC §16).

Every occurrence is judged by the one `rejection()` a single booking is, in one context read for the
whole span: the same locks, the same busy read, the same caps. The series' earlier occurrences need no
adding to that context: occurrences are whole weeks apart (`weekly_occurrences`), so no two share a
local day or week, or overlap. Toward the student's pending cap a series counts once: its occurrences
are judged with the student's other pending bookings only, so they pass or fail it together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booking.auth import Principal
from booking.availability.repository import (
    BusyTime,
    InstructorInBrand,
    instructor_in_brand,
    scheduling_settings,
)
from booking.availability.service import Asker, booking_context_and_busy
from booking.bookings import holds, passes, repository
from booking.bookings.creation import cap_locks, emit_created, new_booking, parties_of_new
from booking.bookings.errors import SeriesConflict, refused
from booking.bookings.events import emit
from booking.bookings.lifecycle import Role, check_fields, check_transition, set_status
from booking.bookings.messages import booked_session, parties_for
from booking.bookings.payments import after_cancel
from booking.bookings.policy import Contact, student_of, viewer
from booking.bookings.render import Answer, notifications_report, render
from booking.bookings.repository import OverlapRefused
from booking.bookings.schemas import (
    BookingUpdate,
    Kept,
    NotificationsOut,
    Occurrence,
    SeriesCancel,
    SeriesCreate,
    SeriesCreated,
    SeriesOut,
    SeriesPreview,
    SeriesUpdate,
    Skipped,
)
from booking.bookings.service import idempotent_write, update_booking
from booking.db import Database
from booking.enums import BookingStatus, EventType, SeriesConflicts
from booking.errors import AppError, NotFound
from booking.models.bookings import Booking, Series
from booking.notifications.effects import Messages
from booking.notifications.service import (
    BookingMessages,
    series_cancelled_messages,
    series_created_messages,
)
from booking.scheduling import Interval, Rejection, rejection, weekly_occurrences
from booking.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Judged:
    """A series' occurrences and the first rule each fails (None: bookable), as of one moment."""

    contact: Contact
    instructor: InstructorInBrand
    occurrences: list[Interval]
    verdicts: list[Rejection | None]
    busy: BusyTime

    @property
    def judged(self) -> list[tuple[int, Interval, Rejection | None]]:
        return [
            (index, *pair) for index, pair in enumerate(zip(self.occurrences, self.verdicts, strict=True))
        ]

    @property
    def refused(self) -> list[tuple[int, Interval, Rejection]]:
        return [
            (index, occurrence, verdict) for index, occurrence, verdict in self.judged if verdict is not None
        ]


async def judge(
    session: AsyncSession, principal: Principal, data: SeriesCreate, now: datetime, *, lock: bool
) -> Judged:
    """Every occurrence judged as a booking of that student would be; `lock` takes the caps' locks
    first (a write). Errors not about one occurrence answer as a booking's would."""
    contact = await student_of(session, principal, data)
    instructor = await instructor_in_brand(session, data.instructor_id, data.brand_id, for_booking=True)
    if instructor is None:
        raise refused(Rejection.INSTRUCTOR_NOT_IN_BRAND)
    start = data.starts_at.astimezone(UTC)
    length = timedelta(minutes=data.duration_minutes or instructor.settings.session_minutes)
    zone = ZoneInfo(instructor.timezone)
    occurrences = weekly_occurrences(Interval(start, start + length), zone, data.count, data.every_weeks)
    if lock:
        await repository.serialise(session, cap_locks(instructor, contact.student_id))
    span = Interval(occurrences[0].start, occurrences[-1].end)
    context, busy = await booking_context_and_busy(
        session, instructor, data.brand_id, now, span, Asker(contact.student_id)
    )
    verdicts = [rejection(context, occurrence.start, occurrence.end) for occurrence in occurrences]
    return Judged(contact, instructor, occurrences, verdicts, busy)


# --- preview --------------------------------------------------------------------------------------


async def preview(db: Database, principal: Principal, data: SeriesCreate, now: datetime) -> SeriesPreview:
    """POST /api/series/preview: what creation would answer now, occurrence by occurrence; writes nothing."""
    async with db.transaction(write=False) as session:
        judged = await judge(session, principal, data, now, lock=False)
    return SeriesPreview(
        occurrences=[
            Occurrence(
                index=index,
                starts_at=occurrence.start,
                ends_at=occurrence.end,
                bookable=verdict is None,
                code=None if verdict is None else verdict.value,
            )
            for index, (occurrence, verdict) in enumerate(
                zip(judged.occurrences, judged.verdicts, strict=True)
            )
        ]
    )


# --- create ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesWritten:
    """A new series as its write left it, and the one set of messages it causes."""

    series: Series
    bookings: list[Booking]
    skipped: list[Skipped]
    messages: BookingMessages | None
    staff: bool = field(default=False)

    def body(self, notifications: NotificationsOut | None = None) -> dict[str, Any]:
        created = SeriesCreated(
            series=series_out(self.series, self.bookings, self.skipped, staff=self.staff),
            notifications=notifications or notifications_report(self.messages),
        )
        return created.model_dump(mode="json")


class _RaceLost(Exception):
    """Another request took an occurrence's time after the judgement: judge again."""


async def book_series(work: UnitOfWork, principal: Principal, data: SeriesCreate, key: str | None) -> Answer:
    """POST /api/series: judge every occurrence and insert the series in one transaction. A race lost
    to another request at the insert is judged once more, with that request's bookings seen."""
    request = data.model_dump(mode="json")
    try:
        return await idempotent_write(
            work, principal, key, request, 201, lambda w: create_series(w, principal, data)
        )
    except _RaceLost:
        return await idempotent_write(
            work, principal, key, request, 201, lambda w: create_series(w, principal, data, last_try=True)
        )


async def create_series(
    work: UnitOfWork, principal: Principal, data: SeriesCreate, *, last_try: bool = False
) -> SeriesWritten:
    session = work.session
    judged = await judge(session, principal, data, work.now, lock=True)
    refusals = judged.refused
    if refusals and (data.conflicts == SeriesConflicts.ALL_OR_NOTHING or len(refusals) == data.count):
        raise conflict(refusals)
    instructor, contact = judged.instructor, judged.contact
    if data.pass_id is not None:
        starts = [occurrence.start for _, occurrence, verdict in judged.judged if verdict is None]
        await passes.spend(
            session, data.pass_id, contact.student_id, data.brand_id, instructor.id, starts, work.now
        )
    series = Series(
        id=uuid4(),
        brand_id=data.brand_id,
        instructor_id=instructor.id,
        student_id=contact.student_id,
        count=data.count,
        every_weeks=data.every_weeks,
        created_by=principal.actor,
        created_at=work.now,
    )
    session.add(series)
    await session.flush()  # before its bookings, which name it
    made: list[Booking] = []
    for index, occurrence, verdict in judged.judged:
        if verdict is not None:
            continue
        blocked = Interval(occurrence.start, occurrence.end + instructor.rules.buffer)
        await holds.cancel_expired_overlapping(work, instructor.id, blocked, judged.busy.expired)
        made.append(
            new_booking(work, principal, data, contact, instructor, blocked, occurrence, (series.id, index))
        )
    await insert_all(session, made, last_try)
    outgoing = work.effect(Messages)
    parties = parties_of_new(instructor)
    sessions = [booked_session(booking) for booking in made]
    messages = series_created_messages(outgoing.notifier, sessions, parties, work.now)
    outgoing.send(*messages.all)
    for booking in made:
        emit_created(work, booking)
    skipped = [Skipped(index=index, starts_at=o.start, code=code.value) for index, o, code in refusals]
    return SeriesWritten(series, made, skipped, messages)


async def insert_all(session: AsyncSession, made: list[Booking], last_try: bool) -> None:
    """The occurrences in one driver call. The database guard refusing one means another request took
    its time after the judgement: judge again, or on the last try insert one by one to name it."""
    try:
        if not last_try:
            await repository.insert_bookings(session, made)
            return
        for booking in made:
            await repository.insert_booking(session, booking)
    except OverlapRefused as exc:
        if not last_try:
            raise _RaceLost from exc
        assert booking.series_index is not None
        interval = Interval(booking.starts_at, booking.ends_at)
        raise conflict([(booking.series_index, interval, Rejection.SLOT_UNAVAILABLE)]) from exc


def conflict(refusals: list[tuple[int, Interval, Rejection]]) -> SeriesConflict:
    """409 series_conflict naming every refused occurrence and the first rule it fails."""
    occurrences = [
        {"index": index, "starts_at": occurrence.start.isoformat().replace("+00:00", "Z"), "code": code.value}
        for index, occurrence, code in refusals
    ]
    indexes = ", ".join(str(index) for index, _, _ in refusals)
    return SeriesConflict(f"occurrences {indexes} cannot be booked", {"occurrences": occurrences})


# --- read -----------------------------------------------------------------------------------------


def series_out(series: Series, bookings: list[Booking], skipped: list[Skipped], *, staff: bool) -> SeriesOut:
    return SeriesOut(
        id=series.id,
        brand_id=series.brand_id,
        instructor_id=series.instructor_id,
        student_id=series.student_id,
        count=series.count,
        every_weeks=series.every_weeks,
        created_at=series.created_at,
        bookings=[render(booking, staff=staff) for booking in bookings],
        skipped=skipped,
    )


async def visible_series(
    session: AsyncSession, principal: Principal, series_id: UUID, *, for_update: bool = False
) -> tuple[Series, list[Booking], Role]:
    """The series, its occurrences by index (row-locked with `for_update`) and the caller's role on
    them; 404 for whoever may not see its bookings."""
    series = await repository.series_by_id(session, series_id)
    if series is None:
        raise NotFound("series not found")
    bookings = list(await repository.bookings_of_series(session, series_id, for_update=for_update))
    role = None if not bookings else (await viewer(session, principal, series.brand_id)).role_for(bookings[0])
    if role is None:
        raise NotFound("series not found")
    return series, bookings, role


async def read_series(session: AsyncSession, principal: Principal, series_id: UUID) -> SeriesOut:
    """GET /api/series/{id}: for whoever may see its bookings (404 for anyone else)."""
    series, bookings, role = await visible_series(session, principal, series_id)
    return series_out(series, bookings, [], staff=role != Role.STUDENT)


# --- cancel ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cancelled:
    series: SeriesOut
    cancelled: list[UUID]
    kept: list[Kept]


async def cancel_series(
    work: UnitOfWork, principal: Principal, series_id: UUID, data: SeriesCancel
) -> Cancelled:
    """POST /api/series/{id}/cancel: every occurrence from `from_index` on that is pending or confirmed
    and has not started, each as a cancel of that booking by this caller would go (refunds included);
    what the caller may not cancel (a student inside the cutoff) is kept and said why."""
    session = work.session
    series, bookings, role = await visible_series(session, principal, series_id, for_update=True)
    settings = await scheduling_settings(session, series.instructor_id, series.brand_id)
    cancelled: list[Booking] = []
    kept: list[Kept] = []
    for booking in bookings:
        if not _cancellable(booking, data.from_index, work.now):
            continue
        try:
            check_transition(
                role,
                booking.status,
                BookingStatus.CANCELLED,
                starts_at=booking.starts_at,
                now=work.now,
                cutoff_hours=settings.cancellation_cutoff_hours,
            )
        except AppError as refusal:
            kept.append(Kept(index=booking.series_index or 0, code=refusal.code.value))
            continue
        await _cancel(work, booking, role, principal.actor, data.cancellation_reason)
        cancelled.append(booking)
    await repository.save_changes(session)
    if cancelled:
        outgoing = work.effect(Messages)
        parties = await parties_for(session, cancelled[0], outgoing.notifier)
        sessions = [booked_session(booking) for booking in cancelled]
        outgoing.send(*series_cancelled_messages(outgoing.notifier, sessions, parties, work.now))
    out = series_out(series, bookings, [], staff=role != Role.STUDENT)
    return Cancelled(out, [booking.id for booking in cancelled], kept)


def _cancellable(booking: Booking, from_index: int, now: datetime) -> bool:
    return (
        (booking.series_index or 0) >= from_index
        and booking.status in (BookingStatus.PENDING, BookingStatus.CONFIRMED)
        and booking.starts_at > now
    )


async def _cancel(work: UnitOfWork, booking: Booking, role: Role, actor: str, reason: str | None) -> None:
    """One occurrence cancelled as a PATCH of it would: history, refund, session back to its pass or
    closed checkout, event."""
    repository.add_change(work.session, booking, BookingStatus.CANCELLED, None, actor, work.now)
    await after_cancel(work, booking, role)
    set_status(booking, BookingStatus.CANCELLED)
    if reason is not None:
        booking.cancellation_reason = reason
    booking.updated_at = work.now
    emit(work, EventType.CANCELLED, booking)


# --- pay ------------------------------------------------------------------------------------------


async def pay_series(
    work: UnitOfWork, principal: Principal, series_id: UUID, data: SeriesUpdate
) -> SeriesOut:
    """PATCH /api/series/{id} `{"payment_status": "paid"}` (staff): every pending occurrence paid, each
    exactly as a staff PATCH of that booking (confirmed, `booking.paid`)."""
    session = work.session
    series, bookings, role = await visible_series(session, principal, series_id, for_update=True)
    check_fields(role, payment=True, notes=False)
    paid = BookingUpdate(payment_status=data.payment_status)
    for booking in bookings:
        if booking.status == BookingStatus.PENDING and booking.payment_status != data.payment_status:
            await update_booking(work, principal, booking.id, paid)
    return series_out(series, bookings, [], staff=True)
