from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from booking.brands import service
from booking.brands.schemas import (
    BrandAdminCreate,
    BrandAdminEnvelope,
    BrandAdminOut,
    BrandCreate,
    BrandEnvelope,
    BrandList,
    BrandOut,
    BrandUpdate,
)
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.errors import Conflict, Forbidden, NotFound, ValidationFailed
from booking.openapi import errors

router = APIRouter(prefix="/api/brands", tags=["brands"])


@router.get("", response_model=BrandList, dependencies=[PUBLIC])
async def list_brands(ctx: Context) -> BrandList:
    async with ctx.db.transaction(write=False) as session:
        brands = await service.list_brands(session)
        return BrandList(brands=[BrandOut.model_validate(brand) for brand in brands])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BrandEnvelope,
    responses=errors(Forbidden, Conflict),
)
async def create_brand(body: BrandCreate, ctx: Context, principal: CurrentPrincipal) -> BrandEnvelope:
    async with ctx.db.transaction(write=True) as session:
        brand = await service.create_brand(session, principal, body)
    return BrandEnvelope(brand=BrandOut.model_validate(brand))


@router.patch(
    "/{brand_id}", response_model=BrandEnvelope, responses=errors(NotFound, Forbidden, ValidationFailed)
)
async def update_brand(
    brand_id: UUID, body: BrandUpdate, ctx: Context, principal: CurrentPrincipal
) -> BrandEnvelope:
    async with ctx.db.transaction(write=True) as session:
        brand = await service.update_brand(session, principal, brand_id, body)
        return BrandEnvelope(brand=BrandOut.model_validate(brand))


@router.post(
    "/{brand_id}/admins",
    status_code=status.HTTP_201_CREATED,
    response_model=BrandAdminEnvelope,
    responses={
        200: {"model": BrandAdminEnvelope, "description": "already an admin"},
        **errors(NotFound, Forbidden),
    },
)
async def add_brand_admin(
    brand_id: UUID, body: BrandAdminCreate, ctx: Context, principal: CurrentPrincipal, response: Response
) -> BrandAdminEnvelope:
    async with ctx.db.transaction(write=True) as session:
        admin, created = await service.add_brand_admin(session, principal, brand_id, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return BrandAdminEnvelope(brand_admin=BrandAdminOut.model_validate(admin))
