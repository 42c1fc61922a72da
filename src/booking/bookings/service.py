"""Bookings: create, read, list, change, calendar."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Select, and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import (
    is_brand_admin,
    own_instructor_id,
    require_authenticated,
    require_brand_admin,
    require_instructor_or_brand_admin,
)
from booking.auth import Principal
from booking.availability.service import scheduling_settings
from booking.availability.store import InstructorInBrand, booking_context, instructor_in_brand
from booking.bookings import idempotency
from booking.bookings.errors import refused
from booking.bookings.lifecycle import (
    Role,
    check_fields,
    check_transition,
    status_after_payment,
)
from booking.bookings.schemas import (
    BookingCreate,
    BookingCreated,
    BookingOut,
    BookingUpdate,
    HistoryEntry,
    LocalTimes,
    NotificationsOut,
)
from booking.db import Database, retrying
from booking.enums import ACTIVE_STATUSES
from booking.errors import (
    Conflict,
    NotFound,
    field_error,
)
from booking.instructors.service import get_instructor
from booking.models import Booking, BookingEvent, Brand, Instructor
from booking.notifications.messages import Parties
from booking.notifications.results import pending_notifications
from booking.notifications.service import (
    BookingCreatedMessages,
    Notifier,
    add_log_rows,
    booking_created_messages,
    send_booking_created,
)
from booking.scheduling import Interval, Rejection, rejection
from booking.types import E164

log = logging.getLogger(__name__)

DEFAULT_PAGE = 50
MAX_PAGE = 200


# --- rendering ------------------------------------------------------------------------------------


def _local(booking: Booking, zone_name: str) -> LocalTimes:
    zone = ZoneInfo(zone_name)
    return LocalTimes(starts_at=booking.starts_at.astimezone(zone), ends_at=booking.ends_at.astimezone(zone))


def render(booking: Booking, *, staff: bool) -> BookingOut:
    """Booking JSON of SPEC §6; `instructor_notes` only for staff and the instructor."""
    return BookingOut(
        id=booking.id,
        brand_id=booking.brand_id,
        instructor_id=booking.instructor_id,
        student_id=booking.student_id,
        status=booking.status,
        payment_status=booking.payment_status,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        duration_minutes=int((booking.ends_at - booking.starts_at).total_seconds() // 60),
        student_timezone=booking.student_timezone,
        instructor_timezone=booking.instructor_timezone,
        student_local=_local(booking, booking.student_timezone),
        instructor_local=_local(booking, booking.instructor_timezone),
        student_name=booking.student_name,
        student_email=booking.student_email,
        student_phone=booking.student_phone,
        instructor_notes=booking.instructor_notes if staff else None,
        cancellation_reason=booking.cancellation_reason,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
    )


# --- who is asking --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """A caller's relation to the bookings of one brand."""

    principal: Principal
    staff: bool  # service or admin of the brand
    instructor_id: UUID | None

    def role_for(self, booking: Booking) -> Role | None:
        if self.staff:
            return Role.STAFF
        if self.instructor_id is not None and booking.instructor_id == self.instructor_id:
            return Role.INSTRUCTOR
        if self.principal.user_id is not None and booking.student_id == self.principal.user_id:
            return Role.STUDENT
        return None


async def viewer(session: AsyncSession, principal: Principal, brand_id: UUID) -> Viewer:
    require_authenticated(principal)
    return Viewer(
        principal=principal,
        staff=await is_brand_admin(session, principal, brand_id),
        instructor_id=await own_instructor_id(session, principal),
    )


# --- create ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    student_id: UUID
    name: str | None
    email: str | None
    phone: str | None


async def resolve_student(session: AsyncSession, principal: Principal, data: BookingCreate) -> Contact:
    """Who the booking is for, and how to reach them (body first, then the token's claims)."""
    require_authenticated(principal)
    if data.student_id is not None and data.student_id != principal.user_id:
        await require_brand_admin(session, principal, data.brand_id)
        return Contact(data.student_id, data.student_name, _email(data.student_email), data.student_phone)
    if principal.user_id is None:
        message = "student_id is required when the service books"
        raise field_error(message, "body", "student_id")
    email = _email(data.student_email) or _valid_email(principal.email)
    phone = data.student_phone or (
        principal.phone if principal.phone and E164.match(principal.phone) else None
    )
    return Contact(principal.user_id, data.student_name, email, phone)


def _email(value: object) -> str | None:
    return None if value is None else str(value)


def _valid_email(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


async def create_booking(
    session: AsyncSession, principal: Principal, data: BookingCreate, now: datetime, notifier: Notifier
) -> tuple[Booking, BookingCreatedMessages]:
    """Check every rule, insert, and decide the messages (skipped ones are logged right here)."""
    contact = await resolve_student(session, principal, data)
    instructor = await instructor_in_brand(session, data.instructor_id, data.brand_id, for_booking=True)
    if instructor is None:
        raise refused(Rejection.INSTRUCTOR_NOT_IN_BRAND)
    start = data.starts_at.astimezone(UTC)
    end = start + timedelta(minutes=data.duration_minutes or instructor.settings.session_minutes)
    context = await booking_context(session, instructor, data.brand_id, now, Interval(start, end))
    if (reason := rejection(context, start, end)) is not None:
        raise refused(reason)
    booking = Booking(
        id=uuid4(),
        brand_id=data.brand_id,
        instructor_id=instructor.id,
        student_id=contact.student_id,
        status="pending",
        payment_status="unpaid",
        starts_at=start,
        ends_at=end,
        blocked_until=end + context.rules.buffer,
        buffer_minutes=context.rules.buffer_minutes,
        student_timezone=data.student_timezone,
        instructor_timezone=instructor.timezone,
        student_name=contact.name,
        student_email=contact.email,
        student_phone=contact.phone,
        instructor_notes=None,
        cancellation_reason=None,
        reminder_claimed_at=None,
        created_by=principal.actor,
        created_at=now,
        updated_at=now,
    )
    await _insert_booking(session, booking)
    planned = booking_created_messages(notifier, booking, await _parties(session, instructor, notifier), now)
    await add_log_rows(session, booking.id, planned.decided, now)
    return booking, planned


async def _parties(session: AsyncSession, instructor: InstructorInBrand, notifier: Notifier) -> Parties:
    # The brand's name only goes into messages: no query when no provider is configured.
    brand_name = ""
    if notifier.configured:
        name: str | None = await session.scalar(select(Brand.name).where(Brand.id == instructor.brand_id))
        brand_name = name or ""
    return Parties(instructor_name=instructor.name, instructor_email=instructor.email, brand_name=brand_name)


def is_overlap_violation(error: IntegrityError) -> bool:
    """The database's own overlap guard fired (PostgreSQL exclusion constraint or SQLite trigger)."""
    return "bookings_no_overlap" in str(error.orig)


INSERT_BOOKING = insert(Booking)
BOOKING_COLUMNS = tuple(column.key for column in Booking.__table__.columns)


async def _insert_booking(session: AsyncSession, booking: Booking) -> None:
    # One prebuilt statement with parameters: rebuilding an INSERT per booking costs more than sending it.
    values = {key: getattr(booking, key) for key in BOOKING_COLUMNS}
    try:
        await (await session.connection()).execute(INSERT_BOOKING, values)
    except IntegrityError as exc:
        _raise_if_overlap(exc)
        raise


async def _flush_booking(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        _raise_if_overlap(exc)
        raise


def _raise_if_overlap(error: IntegrityError) -> None:
    if is_overlap_violation(error):
        # Another request booked the time after our check: the database had the last word.
        raise refused(Rejection.SLOT_UNAVAILABLE) from error


# --- read -----------------------------------------------------------------------------------------


async def visible_booking(
    session: AsyncSession, principal: Principal, booking_id: UUID
) -> tuple[Booking, Role]:
    """The booking and the caller's role on it; 404 when the caller may not see it."""
    require_authenticated(principal)
    booking = await session.get(Booking, booking_id)
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
        to_status="pending",
        payment_status=None,
        actor=booking.created_by,
        created_at=booking.created_at,
    )
    events = await session.scalars(
        select(BookingEvent).where(BookingEvent.booking_id == booking.id).order_by(BookingEvent.id)
    )
    return [created, *(HistoryEntry.model_validate(event) for event in events)]


@dataclass(frozen=True)
class PageQuery:
    brand_id: UUID
    status: str | None
    starts_from: datetime | None
    starts_to: datetime | None
    limit: int
    cursor: str | None


def encode_cursor(booking: Booking) -> str:
    raw = json.dumps([booking.created_at.isoformat(), str(booking.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        created_at, booking_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), UUID(booking_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        message = "cursor is not one this API handed out"
        raise field_error(message, "query", "cursor") from exc


def _visible_to(who: Viewer, query: Select[Booking]) -> Select[Booking]:
    if who.staff:
        return query
    mine = [Booking.student_id == who.principal.user_id]
    if who.instructor_id is not None:
        mine.append(Booking.instructor_id == who.instructor_id)
    return query.where(or_(*mine))


async def list_bookings(
    session: AsyncSession, principal: Principal, page: PageQuery
) -> tuple[Sequence[Booking], str | None, bool]:
    """One page, oldest first by creation (keyset: stable while bookings are added)."""
    who = await viewer(session, principal, page.brand_id)
    query = _visible_to(who, select(Booking).where(Booking.brand_id == page.brand_id))
    if page.status is not None:
        query = query.where(Booking.status == page.status)
    if page.starts_from is not None:
        query = query.where(Booking.starts_at >= page.starts_from)
    if page.starts_to is not None:
        query = query.where(Booking.starts_at < page.starts_to)
    if page.cursor is not None:
        created_at, booking_id = decode_cursor(page.cursor)
        query = query.where(
            or_(
                Booking.created_at > created_at,
                and_(Booking.created_at == created_at, Booking.id > booking_id),
            )
        )
    rows = (await session.scalars(query.order_by(Booking.created_at, Booking.id).limit(page.limit + 1))).all()
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return (
        rows,
        encode_cursor(rows[-1]) if more and rows else None,
        who.staff or who.instructor_id is not None,
    )


# --- change ---------------------------------------------------------------------------------------


async def update_booking(
    session: AsyncSession, principal: Principal, booking_id: UUID, data: BookingUpdate, now: datetime
) -> tuple[Booking, Role, str]:
    """Apply a PATCH; answers the booking, the caller's role on it and the status it had before."""
    booking, role = await visible_booking(session, principal, booking_id)
    previous = booking.status
    changes = data.model_dump(exclude_unset=True)
    check_fields(role, payment="payment_status" in changes, notes="instructor_notes" in changes)
    target = booking.status
    if data.payment_status is not None and data.payment_status != booking.payment_status:
        booking.payment_status = data.payment_status
        target = status_after_payment(booking.status, data.payment_status)
    if data.status is not None and data.status != target:
        settings = await scheduling_settings(session, booking.instructor_id, booking.brand_id)
        cutoff = settings.cancellation_cutoff_hours
        check_transition(role, target, data.status, starts_at=booking.starts_at, now=now, cutoff_hours=cutoff)
        target = data.status
    if "cancellation_reason" in changes:
        if target != "cancelled":
            message = "cancellation_reason goes with status 'cancelled'"
            raise field_error(message, "body", "cancellation_reason")
        booking.cancellation_reason = data.cancellation_reason
    if "instructor_notes" in changes:
        booking.instructor_notes = data.instructor_notes
    if target != booking.status or "payment_status" in changes:
        session.add(
            BookingEvent(
                booking_id=booking.id,
                from_status=booking.status,
                to_status=target,
                payment_status=data.payment_status,
                actor=principal.actor,
                created_at=now,
            )
        )
    booking.status = target
    booking.updated_at = now
    await _flush_booking(session)
    return booking, role, previous


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
    instructor = await get_instructor(session, instructor_id)
    await require_instructor_or_brand_admin(session, principal, instructor, brand_id, "read this calendar")
    query = select(Booking).where(
        Booking.instructor_id == instructor_id,
        Booking.brand_id == brand_id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at >= starts_from,
    )
    if starts_to is not None:
        query = query.where(Booking.starts_at < starts_to)
    return instructor, (await session.scalars(query.order_by(Booking.starts_at, Booking.id))).all()


# --- the POST flow: idempotency around one transaction ------------------------------------------


@dataclass(frozen=True)
class Placed:
    """The outcome of POST /api/bookings: a new booking and its messages, or an earlier answer."""

    booking: Booking | None = None
    messages: BookingCreatedMessages | None = None
    replay: idempotency.StoredAnswer | None = None


async def place_booking(
    db: Database,
    notifier: Notifier,
    principal: Principal,
    data: BookingCreate,
    key: str | None,
    now: datetime,
) -> Placed:
    require_authenticated(principal)
    if key is None:

        async def book() -> Placed:
            async with db.transaction(write=True) as session:
                booking, planned = await create_booking(session, principal, data, now, notifier)
                return Placed(booking, planned)

        return await retrying(book)
    fingerprint = idempotency.request_fingerprint(data.model_dump(mode="json"))
    async with db.transaction(write=False) as session:
        if answer := await idempotency.stored_answer(session, principal.actor, key, fingerprint, now):
            return Placed(replay=answer)

    async def book_once() -> Placed:
        async with db.transaction(write=True) as session:
            await idempotency.claim(session, principal.actor, key, fingerprint, now)
            booking, planned = await create_booking(session, principal, data, now, notifier)
            known = planned.answer() if not planned.waiting else pending_notifications()
            await idempotency.store(session, principal.actor, key, 201, created_body(booking, known))
            return Placed(booking, planned)

    try:
        return await retrying(book_once)
    except idempotency.KeyTaken:
        # A concurrent request with this key committed first: answer as it did.
        async with db.transaction(write=False) as session:
            answer = await idempotency.stored_answer(session, principal.actor, key, fingerprint, now)
        if answer is None:
            raise Conflict("a request with this Idempotency-Key is still in progress; retry") from None
        return Placed(replay=answer)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


async def book(
    db: Database,
    notifier: Notifier,
    principal: Principal,
    data: BookingCreate,
    key: str | None,
    now: datetime,
) -> Answer:
    """POST /api/bookings: place the booking, then send what waits and complete the stored answer."""
    placed = await place_booking(db, notifier, principal, data, key, now)
    if placed.replay is not None:
        return Answer(placed.replay.status, placed.replay.body, replayed=True)
    assert placed.booking is not None and placed.messages is not None
    if not placed.messages.waiting:
        return Answer(201, created_body(placed.booking, placed.messages.answer()))
    notifications = await send_booking_created(notifier, db, placed.booking, placed.messages, now)
    body = created_body(placed.booking, notifications)
    if key is not None:
        await _complete_stored_answer(db, principal, key, body)
    return Answer(201, body)


async def _complete_stored_answer(db: Database, principal: Principal, key: str, body: dict[str, Any]) -> None:
    try:
        async with db.transaction(write=True) as session:
            await idempotency.replace_answer(session, principal.actor, key, body)
    except Exception:  # the booking stands; a replay would then show "not sent yet" for the messages
        log.exception("could not complete the stored answer of key %s", key)


def created_body(booking: Booking, notifications: NotificationsOut) -> dict[str, Any]:
    created = BookingCreated(booking=render(booking, staff=False), notifications=notifications)
    return created.model_dump(mode="json")
