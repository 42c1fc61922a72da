from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    model_serializer,
)

from booking.enums import (
    BookingStatus,
    DeliveryStatus,
    PaymentProvider,
    PaymentStatus,
    RefundStatus,
    SeriesConflicts,
)
from booking.types import MAX_SESSION_MINUTES, Email, Instant, Locale, Name, Note, Phone, TimezoneName


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand_id: UUID
    instructor_id: UUID
    starts_at: Instant
    duration_minutes: Annotated[StrictInt, Field(ge=5, le=MAX_SESSION_MINUTES)] | None = None
    student_timezone: TimezoneName
    student_id: UUID | None = Field(default=None, description="service or brand admin only")
    student_name: Name | None = None
    student_email: Email | None = None
    student_phone: Phone | None = None
    pass_id: UUID | None = Field(default=None, description="pay with this pass of the student's")
    locale: Locale | None = Field(
        default=None, description="the student's messages' language; default the brand's"
    )


class BookingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: BookingStatus | None = None
    payment_status: PaymentStatus | None = None
    instructor_notes: Note | None = None
    cancellation_reason: Note | None = None
    hold_expires_at: Instant | None = Field(
        default=None, description="service or brand admin: a later end of a pending hold, or null for none"
    )


class SeriesCreate(BookingCreate):
    """A booking's body, and how many sessions at that local time, how many weeks apart."""

    count: Annotated[StrictInt, Field(ge=2, le=52)]
    every_weeks: Annotated[StrictInt, Field(ge=1, le=4)] = 1
    conflicts: SeriesConflicts = Field(
        default=SeriesConflicts.ALL_OR_NOTHING,
        description="all_or_nothing: any refused occurrence refuses the series; skip: leave those out",
    )


class RescheduleRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: Instant
    duration_minutes: Annotated[StrictInt, Field(ge=5, le=MAX_SESSION_MINUTES)] | None = Field(
        default=None, description="default: the booking's current duration"
    )


class LocalTimes(BaseModel):
    starts_at: datetime
    ends_at: datetime


class Price(BaseModel):
    amount: int = Field(description="in the currency's smallest unit (cents; yen)")
    currency: str = Field(description="ISO 4217, lower case")


class Payment(BaseModel):
    provider: PaymentProvider | None = Field(description="who took the payment; null until paid")
    amount_paid: int = Field(description="in the price's currency's smallest unit")
    amount_refunded: int
    refund_status: RefundStatus | None


class BookingOut(BaseModel):
    id: UUID
    brand_id: UUID
    instructor_id: UUID
    student_id: UUID
    status: BookingStatus
    payment_status: PaymentStatus
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    student_timezone: str
    instructor_timezone: str
    locale: str = Field(description="the language of the student's messages")
    student_erased: bool = Field(
        description="the student's personal details were erased (on request, or after RETENTION_DAYS)"
    )
    student_local: LocalTimes
    instructor_local: LocalTimes
    student_name: str | None
    student_email: str | None
    student_phone: str | None
    instructor_notes: str | None
    cancellation_reason: str | None
    hold_expires_at: datetime | None = Field(description="when an unpaid pending booking stops blocking")
    refund_due: bool = Field(description="paid after its expired hold's time was taken (staff, instructor)")
    reschedule_count: int = Field(description="how often the booking was moved (0: never)")
    price: Price | None = Field(description="fixed when the booking was made; null: the session has no price")
    payment: Payment
    series_id: UUID | None = Field(description="the weekly series it is an occurrence of; null: a single one")
    series_index: int | None = Field(description="which occurrence of its series (0 first); null: none")
    pass_id: UUID | None = Field(description="the pass that paid for it; null otherwise")
    location: str | None = Field(description="where the session happens (a link or an address); null: none")
    created_at: datetime
    updated_at: datetime


class _WithoutNulls(BaseModel):
    """Optional fields are left out rather than sent as null (`sms_blocker` is present exactly when due)."""

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ChannelResult(_WithoutNulls):
    status: DeliveryStatus
    reason: str | None = Field(default=None, description="why it was skipped or failed")
    provider_message_id: str | None = None


class NotificationsOut(_WithoutNulls):
    email: ChannelResult
    sms: ChannelResult
    sms_blocker: str | None = Field(default=None, description="present exactly when the SMS was not sent")
    instructor_email: ChannelResult | None = None


class BookingCreated(BaseModel):
    booking: BookingOut
    notifications: NotificationsOut


class Occurrence(BaseModel):
    """One occurrence of a series as the rules judge it; `code` is the first rule it fails."""

    index: int
    starts_at: datetime
    ends_at: datetime
    bookable: bool
    code: str | None


class SeriesPreview(BaseModel):
    occurrences: list[Occurrence]


class Skipped(BaseModel):
    index: int
    starts_at: datetime
    code: str


class SeriesOut(BaseModel):
    id: UUID
    brand_id: UUID
    instructor_id: UUID
    student_id: UUID
    count: int = Field(description="as asked, also when `skip` left some out")
    every_weeks: int
    created_at: datetime
    bookings: list[BookingOut] = Field(description="by series_index")
    skipped: list[Skipped] = Field(description="occurrences `skip` left out (creation only)")


class SeriesCreated(BaseModel):
    series: SeriesOut
    notifications: NotificationsOut


class SeriesEnvelope(BaseModel):
    series: SeriesOut


class SeriesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_status: Literal[PaymentStatus.PAID] = Field(
        description="service or brand admin: every pending occurrence paid"
    )


class SeriesCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_index: Annotated[StrictInt, Field(ge=0, le=51)] = Field(
        default=0, description="occurrences from this index on are cancelled"
    )
    cancellation_reason: Note | None = None


class Kept(BaseModel):
    index: int
    code: str = Field(description="why it was not cancelled (cancellation_cutoff_passed, …)")


class SeriesCancelled(BaseModel):
    series: SeriesOut
    cancelled: list[UUID]
    kept: list[Kept]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_status: BookingStatus | None
    to_status: BookingStatus
    payment_status: PaymentStatus | None
    from_starts_at: datetime | None = Field(default=None, description="a move: the start before it")
    to_starts_at: datetime | None = Field(default=None, description="a move: the start after it")
    actor: str
    created_at: datetime


class Previous(BaseModel):
    """Where a rescheduled booking was before the move (`data.previous` of `booking.rescheduled`)."""

    starts_at: datetime
    ends_at: datetime


class BookingEnvelope(BaseModel):
    booking: BookingOut
    history: list[HistoryEntry] | None = Field(
        default=None, description="status, payment and time changes; staff only"
    )


class BookingPage(BaseModel):
    bookings: list[BookingOut]
    next_cursor: str | None


class CalendarOut(BaseModel):
    instructor_id: UUID
    brand_id: UUID
    timezone: str
    sessions: list[BookingOut]


class ReminderResult(BaseModel):
    booking_id: UUID
    sms: ChannelResult
    email: ChannelResult


class RemindersOut(BaseModel):
    reminded: int
    results: list[ReminderResult]
