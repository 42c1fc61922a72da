"""What every new booking shares, alone or as an occurrence of a weekly series: the locks that make the
caps exact, the row as the rules left it (price, hold, contact), its insert under the database guard,
and the events of its creation."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from booking.auth import Principal
from booking.availability.repository import InstructorInBrand
from booking.bookings import holds, repository
from booking.bookings.errors import refused
from booking.bookings.events import audit_created, emit
from booking.bookings.policy import Contact
from booking.bookings.prices import FREE, session_price, starting_state
from booking.bookings.repository import OverlapRefused
from booking.bookings.schemas import BookingCreate
from booking.enums import BookingStatus, EventType, PaymentProvider
from booking.models.bookings import Booking
from booking.notifications.facts import Parties
from booking.scheduling import Interval, Rejection
from booking.unit_of_work import UnitOfWork


def cap_locks(instructor: InstructorInBrand, student_id: UUID) -> list[int]:
    """The locks that make the caps exact under concurrency (PostgreSQL): one serialises the bookings
    of this instructor in this brand, one those of this student in this brand; each only when its cap
    is set, so that uncapped bookings of one instructor still run side by side. Always in this order."""
    keys = []
    if instructor.rules.capped:
        keys.append(repository.lock_key("instructor-caps", instructor.id, instructor.brand_id))
    if instructor.pending_cap is not None:
        keys.append(repository.lock_key("student-pending", student_id, instructor.brand_id))
    return keys


def new_booking(
    work: UnitOfWork,
    principal: Principal,
    data: BookingCreate,
    contact: Contact,
    instructor: InstructorInBrand,
    blocked: Interval,
    session_time: Interval,
    series: tuple[UUID, int] | None = None,
) -> Booking:
    """The row of a booking the rules accepted: `session_time` [start, end), `blocked` to the end of its
    buffer; its price fixed now (a free one confirmed and paid), its hold from now; `series`: the
    series it is an occurrence of and its index. One paid with a pass (`data.pass_id`, its session
    taken already) is confirmed and paid, with no price of its own: the package was sold for money."""
    settings = instructor.settings
    start, end = session_time
    price = session_price(
        settings.price_amount, int((end - start).total_seconds()) // 60, settings.session_minutes
    )
    if data.pass_id is not None:
        price = None
    status, payment_status = starting_state(FREE if data.pass_id is not None else price)
    booking_id = uuid4()
    return Booking(
        id=booking_id,
        brand_id=data.brand_id,
        instructor_id=instructor.id,
        student_id=contact.student_id,
        status=status,
        payment_status=payment_status,
        starts_at=start,
        ends_at=end,
        blocked_until=blocked.end,
        buffer_minutes=instructor.rules.buffer_minutes,
        student_timezone=data.student_timezone,
        instructor_timezone=instructor.timezone,
        locale=data.locale or instructor.brand_locale,
        student_erased=False,
        student_name=contact.name,
        student_email=contact.email,
        student_phone=contact.phone,
        instructor_notes=None,
        cancellation_reason=None,
        reminder_claimed_at=None,
        hold_expires_at=None
        if status == BookingStatus.CONFIRMED
        else holds.hold_end(work.now, settings.payment_hold_minutes),
        refund_due=False,
        reschedule_count=0,
        calendar_sequence=0,
        price_amount=price,
        price_currency=None if price is None else instructor.currency,
        refund_percent=settings.refund_percent,
        payment_provider=None if data.pass_id is None else PaymentProvider.PASS,
        amount_paid=0,
        amount_refunded=0,
        refund_status=None,
        series_id=None if series is None else series[0],
        series_index=None if series is None else series[1],
        pass_id=data.pass_id,
        location=session_location(settings.location, booking_id),
        created_by=principal.actor,
        created_at=work.now,
        updated_at=work.now,
    )


def session_location(location: str | None, booking_id: UUID) -> str | None:
    """The instructor's location for this booking: `{booking_id}` becomes its id (a room per session)."""
    return None if location is None else location.replace("{booking_id}", str(booking_id))


async def insert(session: AsyncSession, booking: Booking) -> None:
    try:
        await repository.insert_booking(session, booking)
    except OverlapRefused as exc:
        # Another request booked the time after our check: the database had the last word.
        raise refused(Rejection.SLOT_UNAVAILABLE) from exc


def parties_of_new(instructor: InstructorInBrand) -> Parties:
    """Who a new booking's messages name: read with the instructor, in the booking's first statement."""
    locale = instructor.own_locale or instructor.brand_locale
    return Parties(instructor.name, instructor.email, instructor.brand_name, locale)


def emit_created(work: UnitOfWork, booking: Booking) -> None:
    """`booking.created`; a booking created paid (free) is confirmed in the same change."""
    audit_created(work, booking)
    emit(work, EventType.CREATED, booking)
    if booking.status == BookingStatus.CONFIRMED:
        emit(work, EventType.CONFIRMED, booking)
