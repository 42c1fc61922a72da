from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from booking.scheduling import Rejection
from booking.types import (
    MAX_BUFFER_MINUTES,
    MAX_PRICE_AMOUNT,
    MAX_SESSION_MINUTES,
    ApiDate,
    Location,
    TimezoneName,
)

# HH:MM from 00:00 to 23:59; an end may also be 24:00 (the next midnight).
START_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
END_TIME = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
StartTime = Annotated[str, StringConstraints(pattern=START_TIME)]
EndTime = Annotated[str, StringConstraints(pattern=END_TIME)]


def to_minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def to_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class _Window(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_time: StartTime
    end_time: EndTime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if to_minute(self.end_time) <= to_minute(self.start_time):
            raise ValueError("end_time must be after start_time")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        return to_minute(self.start_time), to_minute(self.end_time)


class WeeklyWindowIn(_Window):
    weekday: Annotated[StrictInt, Field(ge=0, le=6, description="0 = Sunday .. 6 = Saturday")]


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: ApiDate
    kind: Literal["blocked", "custom", "clear"]
    start_time: StartTime | None = None
    end_time: EndTime | None = None

    @model_validator(mode="after")
    def _times_fit_kind(self) -> Self:
        has_times = self.start_time is not None or self.end_time is not None
        if self.kind != "custom":
            if has_times:
                raise ValueError(f"a {self.kind} override has no start_time or end_time")
            return self
        if self.start_time is None or self.end_time is None:
            raise ValueError("a custom override needs start_time and end_time")
        if to_minute(self.end_time) <= to_minute(self.start_time):
            raise ValueError("end_time must be after start_time")
        return self

    @property
    def minutes(self) -> tuple[int, int]:
        assert self.start_time is not None and self.end_time is not None
        return to_minute(self.start_time), to_minute(self.end_time)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    buffer_minutes: Annotated[StrictInt, Field(ge=0, le=MAX_BUFFER_MINUTES)] | None = None
    advance_booking_days: Annotated[StrictInt, Field(ge=1, le=730)] | None = None
    cancellation_cutoff_hours: Annotated[StrictInt, Field(ge=0, le=720)] | None = None
    session_minutes: Annotated[StrictInt, Field(ge=5, le=MAX_SESSION_MINUTES)] | None = None
    min_notice_minutes: Annotated[StrictInt, Field(ge=0, le=10080)] | None = None
    payment_hold_minutes: (
        Annotated[StrictInt, Field(ge=0, le=10080, description="0: a hold never expires")] | None
    ) = None
    max_bookings_per_day: Annotated[StrictInt, Field(ge=1, le=100, description="null: no cap")] | None = None
    max_bookings_per_week: Annotated[StrictInt, Field(ge=1, le=500, description="null: no cap")] | None = None
    reschedule_cutoff_hours: (
        Annotated[StrictInt, Field(ge=0, le=720, description="students move bookings up to this before")]
        | None
    ) = None
    price_amount: (
        Annotated[
            StrictInt,
            Field(
                ge=0,
                le=MAX_PRICE_AMOUNT,
                description="in the smallest unit of the brand's currency (cents, yen); 0: free; null: none",
            ),
        ]
        | None
    ) = None
    refund_percent: (
        Annotated[StrictInt, Field(ge=0, le=100, description="what a student cancelling gets back")] | None
    ) = None
    slot_interval_minutes: (
        Annotated[
            StrictInt,
            Field(ge=5, le=480, description="the step between listed slots; null: the session's length"),
        ]
        | None
    ) = None
    location: (
        Annotated[
            Location,
            Field(description="where sessions happen (a link or an address); {booking_id} is replaced"),
        ]
        | None
    ) = None

    def changes(self) -> dict[str, int | str | None]:
        """The settings this request sets: a given null clears a cap; other nulls change nothing."""
        given = self.model_dump(exclude_unset=True)
        return {
            name: value for name, value in given.items() if value is not None or name in NULLABLE_SETTINGS
        }


# Settings whose null means something (no cap), so that a PUT may set them back to null.
NULLABLE_SETTINGS = frozenset(
    {"max_bookings_per_day", "max_bookings_per_week", "price_amount", "slot_interval_minutes", "location"}
)


class AvailabilityPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand_id: UUID
    timezone: TimezoneName | None = None
    settings: SettingsIn | None = None
    weekly: list[WeeklyWindowIn] | None = Field(default=None, max_length=200)
    overrides: list[OverrideIn] | None = Field(default=None, max_length=1000)


class SettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    buffer_minutes: int
    advance_booking_days: int
    cancellation_cutoff_hours: int
    session_minutes: int
    min_notice_minutes: int
    payment_hold_minutes: int
    max_bookings_per_day: int | None
    max_bookings_per_week: int | None
    reschedule_cutoff_hours: int
    price_amount: int | None
    refund_percent: int
    slot_interval_minutes: int | None
    location: str | None


class WeeklyWindowOut(BaseModel):
    weekday: int
    start_time: str
    end_time: str


class OverrideOut(BaseModel):
    date: date
    kind: Literal["blocked", "custom"]
    start_time: str | None
    end_time: str | None


class AvailabilityOut(BaseModel):
    instructor_id: UUID
    brand_id: UUID
    timezone: str
    settings: SettingsOut
    weekly: list[WeeklyWindowOut]
    overrides: list[OverrideOut]


class Slot(BaseModel):
    starts_at: datetime
    ends_at: datetime


class SlotList(BaseModel):
    timezone: str
    slots: list[Slot]


# --- why not? (GET …/slots/explain) ---------------------------------------------------------------


class BlockingBookingOut(BaseModel):
    id: UUID | None = Field(description="null unless the caller may see that brand's bookings")
    starts_at: datetime
    blocked_until: datetime = Field(description="the end of the session's buffer")
    brand_id: UUID | None = Field(description="null unless the caller may see that brand's bookings")


class BusyTimeOut(BaseModel):
    starts_at: datetime
    ends_at: datetime
    calendar_id: UUID


class SlotTakenDetails(BaseModel):
    """slot_unavailable: the instructor's bookings (any brand) and busy-calendar time in the way."""

    bookings: list[BlockingBookingOut]
    busy: list[BusyTimeOut]


class LimitDetails(BaseModel):
    """booking_limit_reached: the cap passed (the day's checked first) and the bookings it counts."""

    period: Literal["day", "week"]
    limit: int
    count: int = Field(description="the bookings already counted, without the one asked about")


class WindowOut(BaseModel):
    starts_at: datetime
    ends_at: datetime


class WindowsDetails(BaseModel):
    """outside_availability: the availability windows of the session's local date, as UTC instants."""

    windows: list[WindowOut]


class ReasonOut(BaseModel):
    code: Rejection
    message: str
    details: SlotTakenDetails | LimitDetails | WindowsDetails | None = Field(
        description="what blocks, for the instructor and the brand's staff; null for anyone else"
    )


class Explanation(BaseModel):
    bookable: bool = Field(description="true exactly when no rule fails")
    reasons: list[ReasonOut] = Field(description="every rule that fails, in the order they are checked")


# An instructor's settings in a brand until they save their own.
DEFAULT_SETTINGS = SettingsOut(
    buffer_minutes=15,
    advance_booking_days=90,
    cancellation_cutoff_hours=24,
    session_minutes=60,
    min_notice_minutes=0,
    payment_hold_minutes=30,
    max_bookings_per_day=None,
    max_bookings_per_week=None,
    reschedule_cutoff_hours=24,
    price_amount=None,
    refund_percent=100,
    slot_interval_minutes=None,
    location=None,
)
