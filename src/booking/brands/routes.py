from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from booking.audit import audited
from booking.brands import activity, service
from booking.brands.activity import AuditPage, AuditQuery
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
from booking.types import Instant

router = APIRouter(prefix="/api/brands", tags=["brands"])

DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE = 50, 200


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
    async with ctx.db.transaction(write=True) as session, audited(session, principal, ctx.clock.now()):
        brand = await service.create_brand(session, principal, body)
    return BrandEnvelope(brand=BrandOut.model_validate(brand))


@router.patch(
    "/{brand_id}", response_model=BrandEnvelope, responses=errors(NotFound, Forbidden, ValidationFailed)
)
async def update_brand(
    brand_id: UUID, body: BrandUpdate, ctx: Context, principal: CurrentPrincipal
) -> BrandEnvelope:
    async with ctx.db.transaction(write=True) as session, audited(session, principal, ctx.clock.now()):
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
    async with ctx.db.transaction(write=True) as session, audited(session, principal, ctx.clock.now()):
        admin, created = await service.add_brand_admin(session, principal, brand_id, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return BrandAdminEnvelope(brand_admin=BrandAdminOut.model_validate(admin))


@router.get(
    "/{brand_id}/audit", response_model=AuditPage, responses=errors(NotFound, Forbidden, ValidationFailed)
)
async def read_audit(
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    from_: Annotated[Instant | None, Query(alias="from", description="entries at or after")] = None,
    to: Annotated[Instant | None, Query(description="entries before")] = None,
    target_id: Annotated[
        UUID | None, Query(description="only the entries of this booking, instructor, …")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = DEFAULT_AUDIT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPage:
    """Who changed what in the brand, newest first (service, the brand's admins): each entry's actor
    (`service`, a user, or `system`), action, target and each changed field's before and after."""
    query = AuditQuery(brand_id, from_, to, target_id, limit, cursor)
    async with ctx.db.transaction(write=False) as session:
        return await activity.read_audit(session, principal, query)
