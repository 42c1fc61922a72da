"""Booking lifecycle (SPEC §8): the status graph and who may move a booking along it. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from booking.bookings.errors import CancellationCutoffPassed, InvalidTransition
from booking.enums import BookingStatus, PaymentStatus
from booking.errors import Forbidden
from booking.models.bookings import Booking

PENDING, CONFIRMED, COMPLETED, CANCELLED, NO_SHOW = BookingStatus

GRAPH: dict[BookingStatus, frozenset[BookingStatus]] = {
    PENDING: frozenset({CONFIRMED, CANCELLED}),
    CONFIRMED: frozenset({COMPLETED, CANCELLED, NO_SHOW}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
    NO_SHOW: frozenset(),
}
AFTER_START_ONLY = frozenset({COMPLETED, NO_SHOW})


class Role(StrEnum):
    """The strongest relation of a caller to one booking."""

    STAFF = "staff"  # service or an admin of the booking's brand
    INSTRUCTOR = "instructor"
    STUDENT = "student"


ROLE_STATUSES: dict[Role, frozenset[BookingStatus]] = {
    Role.STAFF: frozenset(GRAPH),
    Role.INSTRUCTOR: frozenset({CANCELLED, COMPLETED, NO_SHOW}),
    Role.STUDENT: frozenset({CANCELLED}),
}


def check_fields(role: Role, *, payment: bool, notes: bool, hold: bool = False) -> None:
    """403 for a field the role may not write (SPEC §8, §9)."""
    if payment and role != Role.STAFF:
        raise Forbidden("only the service or a brand admin may change payment_status")
    if hold and role != Role.STAFF:
        raise Forbidden("only the service or a brand admin may change hold_expires_at")
    if notes and role == Role.STUDENT:
        raise Forbidden("students may not write instructor_notes")


def check_transition(
    role: Role,
    current: BookingStatus,
    target: BookingStatus,
    *,
    starts_at: datetime,
    now: datetime,
    cutoff_hours: int,
) -> None:
    """Raise unless `role` may move a booking from `current` to `target` at `now`."""
    if target not in ROLE_STATUSES[role]:
        raise Forbidden(f"a {role.value} may not set status '{target}'")
    if target not in GRAPH[current]:
        raise InvalidTransition(f"a {current} booking cannot become {target}")
    if target in AFTER_START_ONLY and now < starts_at:
        raise InvalidTransition(f"a booking can be marked {target} only once the session has started")
    if target == CANCELLED:
        _check_cancellation(role, starts_at=starts_at, now=now, cutoff_hours=cutoff_hours)


def _check_cancellation(role: Role, *, starts_at: datetime, now: datetime, cutoff_hours: int) -> None:
    if role == Role.STUDENT and now > starts_at - timedelta(hours=cutoff_hours):
        raise CancellationCutoffPassed(f"students can cancel up to {cutoff_hours} h before the start")
    if role == Role.INSTRUCTOR and now >= starts_at:
        raise InvalidTransition("an instructor can cancel only before the session starts")


# The STATUS of the booking's one calendar event (RFC 5545), in emails and in the instructor's feed.
CALENDAR_STATUS: dict[BookingStatus, str] = {
    PENDING: "TENTATIVE",
    CONFIRMED: "CONFIRMED",
    COMPLETED: "CONFIRMED",
    NO_SHOW: "CONFIRMED",
    CANCELLED: "CANCELLED",
}


def set_status(booking: Booking, status: BookingStatus) -> None:
    """Every status change goes through here: one whose calendar event shows differently gets a higher
    SEQUENCE, so that calendar apps replace the event they hold (RFC 5546 §2.1.4)."""
    if CALENDAR_STATUS[status] != CALENDAR_STATUS[booking.status]:
        booking.calendar_sequence += 1
    booking.status = status


def status_after_payment(current: BookingStatus, payment_status: PaymentStatus) -> BookingStatus:
    """Marking a pending booking paid confirms it in the same change."""
    return CONFIRMED if current == PENDING and payment_status == PaymentStatus.PAID else current
