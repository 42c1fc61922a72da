"""Every table on one metadata: what the migrations compare against and the tests create."""

from booking.models import (
    audit,
    availability,
    bookings,
    brands,
    calendars,
    events,
    instructors,
    notifications,
    packages,
    payments,
    webhooks,
)
from booking.models.base import Base

TABLE_MODULES = (
    brands,
    instructors,
    availability,
    bookings,
    events,
    notifications,
    webhooks,
    calendars,
    payments,
    packages,
    audit,
)
metadata = Base.metadata
