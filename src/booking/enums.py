"""The service's vocabulary, defined once: statuses, error codes, notification kinds and outcomes.

Models, schemas, the lifecycle, messages and the OpenAPI document all take their words from here. The
members are `str`s, so they compare equal to the text the database stores and the API sends.
"""

from __future__ import annotations

from enum import StrEnum


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# Why the system cancelled a booking whose payment hold ran out (SPEC §9).
HOLD_EXPIRED_REASON = "payment_hold_expired"
# Why a future booking was cancelled when its student's personal data was erased on their request.
STUDENT_ERASED_REASON = "student_erased"

# The statuses that hold an instructor's time (the overlap guard's WHERE clause says the same).
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"


class PaymentProvider(StrEnum):
    """Who took a booking's payment: staff marking it paid, Stripe, or a package of sessions."""

    MANUAL = "manual"
    STRIPE = "stripe"
    PASS = "pass"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SeriesConflicts(StrEnum):
    """What a weekly series does with occurrences the rules refuse: nothing is made, or they are left out."""

    ALL_OR_NOTHING = "all_or_nothing"
    SKIP = "skip"


class PassStatus(StrEnum):
    """A pass as shown: `pending` until paid (unusable), `active`, `expired` (its `valid_until` has
    passed; shown, never stored) or `cancelled`."""

    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class PassRefusal(StrEnum):
    """Why a pass cannot pay for a booking (`details.reason` of `pass_not_usable`), in the order checked."""

    WRONG_BRAND = "wrong_brand"
    NOT_ACTIVE = "not_active"
    INSTRUCTOR_NOT_INCLUDED = "instructor_not_included"
    NO_SESSIONS_LEFT = "no_sessions_left"
    EXPIRES_BEFORE_SESSION = "expires_before_session"


class CheckoutStatus(StrEnum):
    """A Stripe Checkout Session as we last knew it: `open` until paid, expired or failed; `processing`
    while a delayed payment (a bank debit) is on its way, whatever its own expiry says."""

    OPEN = "open"
    PROCESSING = "processing"
    COMPLETE = "complete"
    EXPIRED = "expired"


class PaymentTaskKind(StrEnum):
    """What the worker asks the payment provider on a booking's behalf."""

    REFUND = "refund"
    EXPIRE_SESSION = "expire_session"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class DeliveryStatus(StrEnum):
    """What happened to one message (a `notification_log` row, a `notifications` entry)."""

    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class NotificationKind(StrEnum):
    BOOKING_CREATED = "booking_created"
    BOOKING_CREATED_INSTRUCTOR = "booking_created_instructor"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_CANCELLED = "booking_cancelled"
    REMINDER = "reminder"
    HOLD_EXPIRED = "payment_hold_expired"
    BOOKING_RESCHEDULED = "booking_rescheduled"
    BOOKING_RESCHEDULED_INSTRUCTOR = "booking_rescheduled_instructor"
    SERIES_CREATED = "series_created"
    SERIES_CREATED_INSTRUCTOR = "series_created_instructor"
    SERIES_CANCELLED = "series_cancelled"


class ErrorCode(StrEnum):
    """`error.code` of the envelope; each operation lists the ones it can answer in /openapi.json."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    CONFLICT = "conflict"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    VALIDATION_ERROR = "validation_error"
    TOO_MANY_REQUESTS = "too_many_requests"
    INTERNAL_ERROR = "internal_error"
    DATABASE_UNAVAILABLE = "database_unavailable"
    SERVICE_UNAVAILABLE = "service_unavailable"
    INSTRUCTOR_NOT_IN_BRAND = "instructor_not_in_brand"
    IN_THE_PAST = "in_the_past"
    TOO_SOON = "too_soon"
    BEYOND_BOOKING_WINDOW = "beyond_booking_window"
    OUTSIDE_AVAILABILITY = "outside_availability"
    SLOT_UNAVAILABLE = "slot_unavailable"
    BOOKING_LIMIT_REACHED = "booking_limit_reached"
    TOO_MANY_PENDING_BOOKINGS = "too_many_pending_bookings"
    INVALID_TRANSITION = "invalid_transition"
    CANCELLATION_CUTOFF_PASSED = "cancellation_cutoff_passed"
    RESCHEDULE_CUTOFF_PASSED = "reschedule_cutoff_passed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    PAYMENTS_NOT_CONFIGURED = "payments_not_configured"
    NOTHING_TO_PAY = "nothing_to_pay"
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    INVALID_SIGNATURE = "invalid_signature"
    SERIES_CONFLICT = "series_conflict"
    PASS_NOT_USABLE = "pass_not_usable"


class EventType(StrEnum):
    """What a webhook subscribes to: one event per change of a booking's state (and a pass activated, a
    student's data erased)."""

    CREATED = "booking.created"
    CONFIRMED = "booking.confirmed"
    RESCHEDULED = "booking.rescheduled"
    CANCELLED = "booking.cancelled"
    COMPLETED = "booking.completed"
    NO_SHOW = "booking.no_show"
    REFUND_DUE = "booking.refund_due"
    PAID = "booking.paid"
    REFUNDED = "booking.refunded"
    REFUND_FAILED = "booking.refund_failed"
    PASS_ACTIVATED = "pass.activated"
    STUDENT_ERASED = "student.erased"  # data: {"student_id", "brand_id"}, ids only


# The event of a booking that reached this status.
STATUS_EVENTS = {
    BookingStatus.CONFIRMED: EventType.CONFIRMED,
    BookingStatus.CANCELLED: EventType.CANCELLED,
    BookingStatus.COMPLETED: EventType.COMPLETED,
    BookingStatus.NO_SHOW: EventType.NO_SHOW,
}


class WebhookDeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class MessageState(StrEnum):
    """Where a durable message stands in the outbox."""

    QUEUED = "queued"  # committed, no attempt yet
    SENDING = "sending"  # an attempt is under way (or was, when its process died: it may have gone out)
    RETRYING = "retrying"  # failed transiently with no working fallback: the worker tries again
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # not needed any more (a fallback went out)
    HELD = "held"  # a fallback email waiting for its text: released if the text fails


# The outbox states the worker still acts on (the predicate of ix_outbox_messages_due).
OPEN_MESSAGE_STATES = (MessageState.QUEUED, MessageState.SENDING, MessageState.RETRYING)


class Audience(StrEnum):
    """Who a message is for: messages of one change to one audience are each other's fallback."""

    STUDENT = "student"
    INSTRUCTOR = "instructor"
