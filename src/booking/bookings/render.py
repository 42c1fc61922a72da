"""Bookings as the API shows them (SPEC §6): booking JSON, the `notifications` report, reminders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from booking.bookings.schemas import (
    BookingCreated,
    BookingOut,
    ChannelResult,
    LocalTimes,
    NotificationsOut,
    Payment,
    Price,
    ReminderResult,
)
from booking.enums import BookingStatus, DeliveryStatus
from booking.models.bookings import Booking
from booking.notifications.results import Delivery
from booking.notifications.service import BookingMessages, Reminded


def _local(booking: Booking, zone_name: str) -> LocalTimes:
    zone = ZoneInfo(zone_name)
    return LocalTimes(starts_at=booking.starts_at.astimezone(zone), ends_at=booking.ends_at.astimezone(zone))


def render(booking: Booking, *, staff: bool) -> BookingOut:
    """Booking JSON; `instructor_notes` and `refund_due` only for staff and the instructor."""
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
        locale=booking.locale,
        student_erased=booking.student_erased,
        student_local=_local(booking, booking.student_timezone),
        instructor_local=_local(booking, booking.instructor_timezone),
        student_name=booking.student_name,
        student_email=booking.student_email,
        student_phone=booking.student_phone,
        instructor_notes=booking.instructor_notes if staff else None,
        cancellation_reason=booking.cancellation_reason,
        hold_expires_at=booking.hold_expires_at if booking.status == BookingStatus.PENDING else None,
        refund_due=booking.refund_due if staff else False,
        reschedule_count=booking.reschedule_count,
        price=_price(booking),
        payment=Payment(
            provider=booking.payment_provider,
            amount_paid=booking.amount_paid,
            amount_refunded=booking.amount_refunded,
            refund_status=booking.refund_status,
        ),
        series_id=booking.series_id,
        series_index=booking.series_index,
        pass_id=booking.pass_id,
        location=booking.location,
        created_at=booking.created_at,
        updated_at=booking.updated_at,
    )


def _price(booking: Booking) -> Price | None:
    if booking.price_amount is None or booking.price_currency is None:
        return None
    return Price(amount=booking.price_amount, currency=booking.price_currency)


def channel_result(delivery: Delivery) -> ChannelResult:
    return ChannelResult(
        status=delivery.status, reason=delivery.reason, provider_message_id=delivery.provider_message_id
    )


NOTHING_CHANGED = "nothing changed: the booking is already at that time"
# A reschedule to the booking's own time sends nothing (SPEC §11).
NO_MESSAGES = NotificationsOut(
    email=ChannelResult(status=DeliveryStatus.SKIPPED, reason=NOTHING_CHANGED),
    sms=ChannelResult(status=DeliveryStatus.SKIPPED, reason=NOTHING_CHANGED),
    sms_blocker=NOTHING_CHANGED,
)


def notifications_report(planned: BookingMessages | None) -> NotificationsOut:
    """What happened to the three messages of a new or moved booking; `sms_blocker` exactly when no
    SMS went."""
    if planned is None:
        return NO_MESSAGES
    sms = planned.student_sms.outcome
    return NotificationsOut(
        email=channel_result(planned.student_email.outcome),
        sms=channel_result(sms),
        sms_blocker=None if sms.sent else sms.reason or sms.status,
        instructor_email=channel_result(planned.instructor_email.outcome),
    )


NOT_SENT_YET = "not sent yet: the booking was just committed"
# Stored with an idempotent answer until the messages have gone out (they follow the commit).
PENDING_NOTIFICATIONS = NotificationsOut(
    email=ChannelResult(status=DeliveryStatus.SKIPPED, reason=NOT_SENT_YET),
    sms=ChannelResult(status=DeliveryStatus.SKIPPED, reason=NOT_SENT_YET),
    sms_blocker=NOT_SENT_YET,
)


@dataclass(frozen=True)
class Answer:
    """An HTTP answer that may be replayed for the same Idempotency-Key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def answer_body(booking: Booking, notifications: NotificationsOut, *, staff: bool) -> dict[str, Any]:
    """`{"booking", "notifications"}`: the answer of a booking or a reschedule."""
    created = BookingCreated(booking=render(booking, staff=staff), notifications=notifications)
    return created.model_dump(mode="json")


def reminder_result(reminded: Reminded) -> ReminderResult:
    return ReminderResult(
        booking_id=reminded.booking_id, sms=channel_result(reminded.sms), email=channel_result(reminded.email)
    )
