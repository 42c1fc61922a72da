from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from booking.types import LOCALES, Currency, Locale, Name, Slug, TimezoneName


class BrandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    slug: Slug


class BrandSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_pending_per_student: Annotated[StrictInt, Field(ge=1, le=50)] | None = Field(
        default=None, description="a student's pending bookings in the brand; null: no cap"
    )
    currency: Currency | None = Field(
        default=None, description="ISO 4217, lower case (`eur`, `jpy`): the currency of the brand's prices"
    )
    timezone: TimezoneName | None = Field(
        default=None, description="IANA zone of the brand's own dates (a pass's validity)"
    )
    locale: Locale | None = Field(
        default=None, description="the language of the brand's pages and messages: " + ", ".join(LOCALES)
    )


class BrandUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    settings: BrandSettingsIn | None = None


class BrandSettings(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    max_pending_per_student: int | None
    currency: str
    timezone: str
    locale: str


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    slug: str
    name: str
    settings: BrandSettings
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _settings_of_row(cls, value: Any) -> Any:
        # A brand row keeps its settings as columns; the API groups them.
        if isinstance(value, dict) or hasattr(value, "settings"):
            return value
        return {
            "id": value.id,
            "slug": value.slug,
            "name": value.name,
            "settings": BrandSettings.model_validate(value),
            "created_at": value.created_at,
        }


class BrandEnvelope(BaseModel):
    brand: BrandOut


class BrandList(BaseModel):
    brands: list[BrandOut]


class BrandAdminCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: UUID


class BrandAdminOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    brand_id: UUID
    user_id: UUID
    created_at: datetime


class BrandAdminEnvelope(BaseModel):
    brand_admin: BrandAdminOut
