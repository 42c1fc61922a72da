"""Brands and their admins."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import require_authenticated, require_brand_admin
from booking.audit import Watched, watch_table
from booking.auth import Principal
from booking.brands import repository
from booking.brands.schemas import BrandAdminCreate, BrandCreate, BrandUpdate
from booking.errors import Conflict, Forbidden, NotFound, field_error
from booking.models.brands import Brand, BrandAdmin


async def list_brands(session: AsyncSession) -> Sequence[Brand]:
    return await repository.all_brands(session)


async def get_brand(session: AsyncSession, brand_id: UUID) -> Brand:
    brand = await repository.brand_by_id(session, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    return brand


async def create_brand(session: AsyncSession, principal: Principal, data: BrandCreate) -> Brand:
    require_authenticated(principal)
    if not principal.is_service:
        raise Forbidden("only the service may create brands")
    brand = Brand(name=data.name, slug=data.slug)
    session.add(brand)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a brand with slug {data.slug!r} already exists") from exc
    return brand


NULLABLE_BRAND_SETTINGS = frozenset({"max_pending_per_student"})  # null: no cap


async def update_brand(
    session: AsyncSession, principal: Principal, brand_id: UUID, data: BrandUpdate
) -> Brand:
    """PATCH /api/brands/{id}: the name and the settings (SPEC §10); a given null lifts a cap."""
    brand = await get_brand(session, brand_id)
    await require_brand_admin(session, principal, brand_id)
    if data.name is not None:
        brand.name = data.name
    if data.settings is not None:
        for name, value in data.settings.model_dump(exclude_unset=True).items():
            if value is None and name not in NULLABLE_BRAND_SETTINGS:
                raise field_error("may not be null", "body", "settings", name)
            setattr(brand, name, value)
    await session.flush()
    return brand


async def add_brand_admin(
    session: AsyncSession, principal: Principal, brand_id: UUID, data: BrandAdminCreate
) -> tuple[BrandAdmin, bool]:
    """Make a user admin of a brand; answers the row and whether it is new."""
    await get_brand(session, brand_id)
    await require_brand_admin(session, principal, brand_id)
    existing = await repository.brand_admin(session, brand_id, data.user_id)
    if existing is not None:
        return existing, False
    admin = BrandAdmin(brand_id=brand_id, user_id=data.user_id)
    session.add(admin)
    await session.flush()
    return admin, True


BRAND_FIELDS = ("name", "max_pending_per_student", "currency", "timezone", "locale")
watch_table(Brand, Watched("brand", BRAND_FIELDS, brand="id"))
watch_table(BrandAdmin, Watched("brand_admin", ("user_id",), target="user_id"))
