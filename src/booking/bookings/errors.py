"""The errors of booking creation, change and replay (SPEC §6, §8, §10), each with its own code."""

from __future__ import annotations

from booking.enums import ErrorCode
from booking.errors import AppError, Conflict, InstructorNotInBrand, ValidationFailed
from booking.scheduling import Rejection


class SlotUnavailable(Conflict):
    code = ErrorCode.SLOT_UNAVAILABLE


class InThePast(ValidationFailed):
    code = ErrorCode.IN_THE_PAST


class TooSoon(ValidationFailed):
    code = ErrorCode.TOO_SOON


class BeyondBookingWindow(ValidationFailed):
    code = ErrorCode.BEYOND_BOOKING_WINDOW


class OutsideAvailability(ValidationFailed):
    code = ErrorCode.OUTSIDE_AVAILABILITY


class BookingLimitReached(Conflict):
    code = ErrorCode.BOOKING_LIMIT_REACHED


class TooManyPendingBookings(Conflict):
    code = ErrorCode.TOO_MANY_PENDING_BOOKINGS


class SeriesConflict(Conflict):
    """Occurrences of a series the rules refuse (`details.occurrences`: index, starts_at, code)."""

    code = ErrorCode.SERIES_CONFLICT


class PassNotUsable(Conflict):
    """A pass that cannot pay for this booking (`details.reason` says why, SPEC §17 rule 8)."""

    code = ErrorCode.PASS_NOT_USABLE


class InvalidTransition(Conflict):
    code = ErrorCode.INVALID_TRANSITION


class CancellationCutoffPassed(Conflict):
    code = ErrorCode.CANCELLATION_CUTOFF_PASSED


class RescheduleCutoffPassed(Conflict):
    code = ErrorCode.RESCHEDULE_CUTOFF_PASSED


class IdempotencyKeyReused(ValidationFailed):
    code = ErrorCode.IDEMPOTENCY_KEY_REUSED


REJECTIONS: dict[Rejection, tuple[type[AppError], str]] = {
    Rejection.INSTRUCTOR_NOT_IN_BRAND: (
        InstructorNotInBrand,
        "the instructor does not take bookings in this brand",
    ),
    Rejection.IN_THE_PAST: (InThePast, "the start is not in the future"),
    Rejection.TOO_SOON: (TooSoon, "the start is inside the instructor's minimum notice"),
    Rejection.BEYOND_BOOKING_WINDOW: (BeyondBookingWindow, "the start is beyond the advance booking window"),
    Rejection.OUTSIDE_AVAILABILITY: (
        OutsideAvailability,
        "the session is outside the instructor's availability",
    ),
    Rejection.SLOT_UNAVAILABLE: (SlotUnavailable, "the time is taken (another booking or its buffer)"),
    Rejection.BOOKING_LIMIT_REACHED: (
        BookingLimitReached,
        "the instructor takes no more bookings that day or week in this brand",
    ),
    Rejection.TOO_MANY_PENDING_BOOKINGS: (
        TooManyPendingBookings,
        "the student has as many unpaid bookings in this brand as it allows; pay or cancel one first",
    ),
}

# What a new booking can be refused with, for the OpenAPI document of the operations that book.
BOOKING_REFUSALS: tuple[type[AppError], ...] = tuple(error for error, _ in REJECTIONS.values())


def refused(reason: Rejection) -> AppError:
    """The API error for the first rule of SPEC §5 that failed."""
    error_class, message = REJECTIONS[reason]
    return error_class(message)
