"""What the bookings room tells the notifications adapter, and the unit of work its changes run in.

The adapter knows no booking table: a booking goes to it as a `BookedSession` (plain data, with its
calendar STATUS and SEQUENCE worked out here), and the people it names as `Parties`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from booking.audit import SYSTEM, Actor, Audit
from booking.bookings.lifecycle import CALENDAR_STATUS
from booking.db import Database
from booking.events import Events
from booking.i18n import DEFAULT_LOCALE
from booking.models.bookings import Booking
from booking.models.brands import Brand
from booking.models.instructors import Instructor
from booking.notifications.effects import Messages
from booking.notifications.facts import BookedSession, Parties
from booking.notifications.notifier import Notifier
from booking.notifications.service import UNNAMED
from booking.payments.effects import PaymentTasks
from booking.unit_of_work import UnitOfWork


def unit_of_work(
    db: Database,
    notifier: Notifier,
    now: datetime,
    wake_worker: Callable[[], None] | None = None,
    actor: Actor = SYSTEM,
) -> UnitOfWork:
    """A unit of work with every effect a change may record: its events, its messages, its payment
    tasks (refunds, closed Checkout Sessions), its audit entries (as `actor`'s)."""
    effects = (Events(wake_worker), Messages(db, notifier), PaymentTasks(wake_worker), Audit(actor))
    return UnitOfWork(db, now, effects)


def booked_session(booking: Booking) -> BookedSession:
    return BookedSession(
        id=booking.id,
        student_id=booking.student_id,
        status=booking.status,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        student_timezone=booking.student_timezone,
        instructor_timezone=booking.instructor_timezone,
        locale=booking.locale,
        student_name=booking.student_name,
        student_email=booking.student_email,
        student_phone=booking.student_phone,
        cancellation_reason=booking.cancellation_reason,
        reschedule_count=booking.reschedule_count,
        calendar_sequence=booking.calendar_sequence,
        calendar_status=CALENDAR_STATUS[booking.status],
        location=booking.location,
    )


async def parties_for(session: AsyncSession, booking: Booking, notifier: Notifier) -> Parties:
    """Who a booking's messages name; nothing is read when no provider could send a message."""
    if not notifier.configured:
        return UNNAMED
    instructor = await session.get(Instructor, booking.instructor_id)
    brand = await session.get(Brand, booking.brand_id)
    brand_locale = brand.locale if brand else DEFAULT_LOCALE
    return Parties(
        instructor_name=instructor.name if instructor else "",
        instructor_email=instructor.email if instructor else "",
        brand_name=brand.name if brand else "",
        instructor_locale=(instructor.locale if instructor else None) or brand_locale,
    )
