from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from booking.types import Name, Slug


class BrandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    slug: Slug


class BrandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: UUID
    slug: str
    name: str
    created_at: datetime


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
