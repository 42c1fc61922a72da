"""Every query of brands and their admins."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models.brands import Brand, BrandAdmin


async def all_brands(session: AsyncSession) -> Sequence[Brand]:
    return (await session.scalars(select(Brand).order_by(Brand.name, Brand.id))).all()


async def brand_by_id(session: AsyncSession, brand_id: UUID) -> Brand | None:
    return await session.get(Brand, brand_id)


async def brand_by_slug(session: AsyncSession, slug: str) -> Brand | None:
    return (await session.scalars(select(Brand).where(Brand.slug == slug))).one_or_none()


async def brand_name(session: AsyncSession, brand_id: UUID) -> str:
    name: str | None = await session.scalar(select(Brand.name).where(Brand.id == brand_id))
    return name or ""


async def is_admin_of(session: AsyncSession, user_id: UUID, brand_id: UUID) -> bool:
    query = select(exists().where(BrandAdmin.brand_id == brand_id, BrandAdmin.user_id == user_id))
    return bool(await session.scalar(query))


async def administers_any_brand(session: AsyncSession, user_id: UUID) -> bool:
    """An admin of some brand: refused a brand of another, they are told it does not exist (404)."""
    return bool(await session.scalar(select(exists().where(BrandAdmin.user_id == user_id))))


async def brand_admin(session: AsyncSession, brand_id: UUID, user_id: UUID) -> BrandAdmin | None:
    return await session.get(BrandAdmin, (brand_id, user_id))
