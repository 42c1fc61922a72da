"""The events of booking changes, each carrying the booking as staff see it; and the audit of them:
every ORM change of a booking's audited fields is logged by itself, its creation (a raw insert) here."""

from __future__ import annotations

from typing import Any

from booking.audit import Audit, Entry, Watched, watch_table
from booking.bookings.render import render
from booking.enums import EventType
from booking.events import Events
from booking.models.bookings import Booking
from booking.unit_of_work import UnitOfWork


def emit(work: UnitOfWork, event_type: EventType, booking: Booking, **extra: Any) -> None:
    """The event of a change, with the booking at that moment (and `extra` beside it in `data`)."""
    data = {"booking": render(booking, staff=True).model_dump(mode="json"), **extra}
    work.effect(Events).emit(event_type, brand_id=booking.brand_id, booking_id=booking.id, data=data)


# What the audit log says of a booking: its state, time, money, notes and holds (not its contact details,
# which the booking itself shows; instructor notes are personal and cleared by an erasure).
AUDITED_FIELDS = (
    "status",
    "payment_status",
    "starts_at",
    "ends_at",
    "instructor_notes",
    "cancellation_reason",
    "hold_expires_at",
    "price_amount",
    "amount_paid",
    "amount_refunded",
    "refund_status",
    "refund_due",
    "pass_id",
    "student_erased",
)
watch_table(Booking, Watched("booking", AUDITED_FIELDS, student="student_id"))


def audit_created(work: UnitOfWork, booking: Booking) -> None:
    """A new booking's entry: inserted by a prebuilt statement, not seen by the ORM's flush."""
    audit = work.effect(Audit)
    made = {}
    for name in AUDITED_FIELDS:
        value = getattr(booking, name)
        if value is not None:
            made[name] = {"before": None, "after": value}
    entry = Entry(
        booking.brand_id, audit.actor, "booking.created", "booking", booking.id, made, booking.student_id
    )
    audit.record(entry)
