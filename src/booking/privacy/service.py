"""A student's data on request: everything the service holds about them exported, or their personal
details erased (GDPR articles 15 and 17).

Who may ask: the service (one brand, or every brand), an admin of the brand for that brand (`brand_id`
required; another brand's admin is told it does not exist), and the student themself (one brand, or
every brand without `brand_id`). Anyone else: 403.

An erasure is one unit of work. On PostgreSQL it first takes `LOCK TABLE bookings IN EXCLUSIVE
MODE`: it waits for the bookings being written (or row-locked) at that moment (they commit first and are
erased with the rest) and keeps new ones out until it commits (they commit after it, with the details
they were given); two erasures take turns. SQLite's one writer needs nothing. The permission check
comes before the lock, so a refused caller never holds up a booking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, require_authenticated
from booking.audit import Audit, Entry
from booking.auth import Principal
from booking.bookings import reads
from booking.bookings import repository as bookings_repository
from booking.bookings.events import emit
from booking.bookings.lifecycle import Role, set_status
from booking.bookings.payments import after_cancel
from booking.bookings.render import render
from booking.brands.repository import administers_any_brand, brand_by_id
from booking.enums import STUDENT_ERASED_REASON, BookingStatus, EventType
from booking.errors import Forbidden, NotFound, field_error
from booking.events import Events
from booking.models.bookings import Booking
from booking.packages.service import pass_out
from booking.privacy import erasure, repository
from booking.privacy.schemas import Erased, ExportedBooking, ExportedNotification, StudentExport
from booking.unit_of_work import UnitOfWork

EVERY_BRAND = None


async def scope_of(
    session: AsyncSession, principal: Principal, student_id: UUID, brand_id: UUID | None, where: str
) -> list[UUID] | None:
    """The brands the caller may export or erase the student's data in (None: every brand); `where`
    the request names `brand_id` in (`query`, `body`)."""
    require_authenticated(principal)
    yourself = principal.user_id is not None and principal.user_id == student_id
    if brand_id is None:
        if principal.is_service or yourself:
            return EVERY_BRAND
        if principal.user_id is not None and await administers_any_brand(session, principal.user_id):
            raise field_error("brand_id is required for a brand admin", where, "brand_id")
        raise _forbidden()
    if await brand_by_id(session, brand_id) is None:
        raise NotFound("brand not found")
    if yourself or await is_brand_admin(session, principal, brand_id):
        return [brand_id]
    if principal.user_id is not None and await administers_any_brand(session, principal.user_id):
        raise NotFound("brand not found")  # another brand's admin, as everywhere
    raise _forbidden()


def _forbidden() -> Forbidden:
    return Forbidden("only the service, an admin of the brand or the student themself may do this")


# --- export ---------------------------------------------------------------------------------------


async def export(
    session: AsyncSession, principal: Principal, student_id: UUID, brand_id: UUID | None, now: datetime
) -> StudentExport:
    """Every booking (as staff see it, with its history), pass and message of the student in scope."""
    brands = await scope_of(session, principal, student_id, brand_id, "query")
    which = repository.of_student(student_id, brands)
    bookings = [
        ExportedBooking(**dict(render(booking, staff=True)), history=await reads.history(session, booking))
        for booking in await repository.bookings_of(session, which)
    ]
    passes = [
        pass_out(found, now) for found in await repository.passes_of_student(session, student_id, brands)
    ]
    notifications = [
        ExportedNotification.model_validate(row)
        for row in await repository.student_notifications(session, which)
    ]
    return StudentExport(student_id=student_id, bookings=bookings, passes=passes, notifications=notifications)


# --- erase ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    bookings: int
    cancelled: int

    def out(self) -> Erased:
        return Erased(bookings=self.bookings, cancelled=self.cancelled)


async def erase(work: UnitOfWork, principal: Principal, student_id: UUID, brand_id: UUID | None) -> Erasure:
    """POST /api/students/{id}/erase, in one transaction (see the module's notes on the lock)."""
    session = work.session
    brands = await scope_of(session, principal, student_id, brand_id, "body")
    await repository.lock_bookings(session)
    in_scope = brands if brands is not None else await repository.brands_of_student(session, student_id)
    which = repository.of_student(student_id, brands)
    erased = await erasure.erase_details(session, which, work.now)
    cancelled = await _cancel_future(work, which, principal.actor)
    callers = await repository.callers_of(session, which)
    allowed = {str(brand) for brand in in_scope}

    def names_student(booking: Mapping[str, Any]) -> bool:
        return booking.get("student_id") == str(student_id) and booking.get("brand_id") in allowed

    await erasure.erase_answers(session, callers, str(student_id), names_student)
    targets = await repository.student_targets(session, student_id, in_scope)
    await erasure.erase_audit(session, repository.audit_of(in_scope, targets))
    _record(work, student_id, in_scope, Counter(row.brand_id for row in erased), cancelled)
    return Erasure(len(erased), len(cancelled))


async def _cancel_future(work: UnitOfWork, which: ColumnElement[bool], actor: str) -> list[Booking]:
    """The student's pending and confirmed bookings that start after now, cancelled as staff cancelling
    would (history, refund, a pass's session given back, a Checkout Session closed, `booking.cancelled`)
    but without a message: the student's address is gone, and the instructor's would name them."""
    cancelled = []
    for booking in await repository.cancellable(work.session, which, work.now):
        bookings_repository.add_change(work.session, booking, BookingStatus.CANCELLED, None, actor, work.now)
        await after_cancel(work, booking, Role.STAFF)
        set_status(booking, BookingStatus.CANCELLED)
        booking.cancellation_reason = STUDENT_ERASED_REASON
        booking.updated_at = work.now
        emit(work, EventType.CANCELLED, booking)
        cancelled.append(booking)
    await bookings_repository.save_changes(work.session)
    return cancelled


def _record(
    work: UnitOfWork,
    student_id: UUID,
    brands: Sequence[UUID],
    erased: Counter[UUID],
    cancelled: Sequence[Booking],
) -> None:
    """One audit entry and one `student.erased` event per brand in scope (ids and counts only)."""
    audit, events = work.effect(Audit), work.effect(Events)
    cancelled_in = Counter(booking.brand_id for booking in cancelled)
    for brand in brands:
        changes = {
            "bookings": {"before": None, "after": erased[brand]},
            "cancelled": {"before": None, "after": cancelled_in[brand]},
        }
        audit.record(Entry(brand, audit.actor, "student.erased", "student", student_id, changes, student_id))
        data = {"student_id": str(student_id), "brand_id": str(brand)}
        events.emit(EventType.STUDENT_ERASED, brand_id=brand, booking_id=None, data=data)
