from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from booking.types import Email, Locale, Name, Phone, TimezoneName


class InstructorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    email: Email
    phone: Phone | None = None
    timezone: TimezoneName
    locale: Locale | None = Field(default=None, description="their messages' language; null: the brand's")
    user_id: UUID | None = None
    brand_ids: list[UUID] = Field(min_length=1, max_length=100)

    @field_validator("brand_ids")
    @classmethod
    def _distinct(cls, brand_ids: list[UUID]) -> list[UUID]:
        return list(dict.fromkeys(brand_ids))


class InstructorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    timezone: TimezoneName | None = None
    locale: Locale | None = Field(default=None, description="their messages' language; null: the brand's")
    active: bool | None = None

    @field_validator("name", "email", "timezone", "active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Omit a field to keep it; only phone may be cleared with null.
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


class InstructorOut(BaseModel):
    id: UUID
    user_id: UUID | None
    name: str
    email: str
    phone: str | None
    timezone: str
    locale: str | None = Field(description="their messages' language; null: each brand's own")
    active: bool
    brand_ids: list[UUID]
    created_at: datetime


class InstructorEnvelope(BaseModel):
    instructor: InstructorOut


class PublicInstructor(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    name: str
    timezone: str


class PublicInstructorList(BaseModel):
    instructors: list[PublicInstructor]


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    instructor_id: UUID
    brand_id: UUID
    created_at: datetime


class LinkEnvelope(BaseModel):
    link: LinkOut
