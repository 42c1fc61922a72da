"""The events of booking changes (SPEC §12), each carrying the booking as staff see it."""

from __future__ import annotations

from typing import Any

from booking.bookings.render import render
from booking.enums import EventType
from booking.events import Events
from booking.models.bookings import Booking
from booking.unit_of_work import UnitOfWork


def emit(work: UnitOfWork, event_type: EventType, booking: Booking, **extra: Any) -> None:
    """The event of a change, with the booking at that moment (and `extra` beside it in `data`)."""
    data = {"booking": render(booking, staff=True).model_dump(mode="json"), **extra}
    work.effect(Events).emit(event_type, brand_id=booking.brand_id, booking_id=booking.id, data=data)
