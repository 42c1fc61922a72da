"""A booking's price, fixed when it is made: the instructor's price for the brand, pro rata to the
session's length. Pure."""

from __future__ import annotations

from booking.enums import BookingStatus, PaymentProvider, PaymentStatus
from booking.models.bookings import Booking

FREE = 0


def session_price(price_amount: int | None, duration_minutes: int, session_minutes: int) -> int | None:
    """`price_amount * duration / session_minutes`, rounded half up; None without a price.

    In integers (`(2n + d) // 2d` is n/d rounded half up for n ≥ 0), so no float ever rounds a price.
    """
    if price_amount is None:
        return None
    numerator = price_amount * duration_minutes
    return (2 * numerator + session_minutes) // (2 * session_minutes)


def starting_state(price: int | None) -> tuple[BookingStatus, PaymentStatus]:
    """A free session is confirmed and paid at once; any other booking waits for payment."""
    if price == FREE:
        return BookingStatus.CONFIRMED, PaymentStatus.PAID
    return BookingStatus.PENDING, PaymentStatus.UNPAID


def take_back_staff_payment(booking: Booking) -> None:
    """Staff mark a booking unpaid: a mark of their own is taken back; a payment a provider recorded
    stays as the provider reported it."""
    booking.payment_status = PaymentStatus.UNPAID
    if booking.payment_provider == PaymentProvider.MANUAL:
        booking.payment_provider = None
        booking.amount_paid = 0
