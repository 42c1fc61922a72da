"""Packages and passes as the API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from booking.bookings.schemas import Payment, Price
from booking.enums import PassStatus, PaymentStatus
from booking.types import Name

PriceAmount = Annotated[StrictInt, Field(ge=0, le=100_000_000)]


class PackageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    sessions: Annotated[StrictInt, Field(ge=1, le=100)]
    valid_days: Annotated[StrictInt, Field(ge=1, le=1095)]
    price_amount: PriceAmount = Field(description="in the brand currency's smallest unit; 0: free")
    instructor_ids: Annotated[list[UUID], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="the instructors it may be spent with; null: any of the brand"
    )


class PackageUpdate(BaseModel):
    """Passes already sold keep their terms: a change applies to passes sold after it."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    active: StrictBool | None = None
    price_amount: PriceAmount | None = None

    @model_validator(mode="after")
    def no_nulls(self) -> PackageUpdate:
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class PackageOut(BaseModel):
    id: UUID
    brand_id: UUID
    name: str
    sessions: int
    valid_days: int
    price: Price
    instructor_ids: list[UUID] | None
    active: bool
    created_at: datetime


class PackageEnvelope(BaseModel):
    package: PackageOut


class PackageList(BaseModel):
    packages: list[PackageOut]


class PassCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    package_id: UUID
    student_id: UUID | None = Field(default=None, description="service or brand admin only")


class PassUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_status: Literal[PaymentStatus.PAID] | None = Field(
        default=None, description="service or brand admin: paid outside the service; activates it"
    )
    status: Literal[PassStatus.CANCELLED] | None = Field(
        default=None, description="service or brand admin: the pass can no longer be spent"
    )

    @model_validator(mode="after")
    def one_change(self) -> PassUpdate:
        if self.payment_status is None and self.status is None:
            raise ValueError("give payment_status 'paid' or status 'cancelled'")
        return self


class PassOut(BaseModel):
    id: UUID
    package_id: UUID
    brand_id: UUID
    student_id: UUID
    name: str
    sessions_total: int
    sessions_left: int
    status: PassStatus
    valid_until: datetime | None = Field(description="sessions must start before it; null while pending")
    price: Price
    payment: Payment
    created_at: datetime
    activated_at: datetime | None


class PassEnvelope(BaseModel):
    model_config = ConfigDict(title="PassEnvelope")
    pass_: PassOut = Field(alias="pass")


class PassList(BaseModel):
    passes: list[PassOut]
