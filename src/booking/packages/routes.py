"""Packages of a brand, and passes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from booking.bookings import idempotency
from booking.bookings.errors import IdempotencyKeyReused, InvalidTransition
from booking.bookings.routes import IdempotencyKey, answered
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.errors import Conflict, Forbidden, NotFound, ValidationFailed
from booking.openapi import errors
from booking.packages import service
from booking.packages.schemas import (
    PackageCreate,
    PackageEnvelope,
    PackageList,
    PackageUpdate,
    PassCreate,
    PassEnvelope,
    PassList,
    PassUpdate,
)

packages_router = APIRouter(prefix="/api/brands/{brand_id}/packages", tags=["packages"])
passes_router = APIRouter(prefix="/api/passes", tags=["packages"])


@packages_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageEnvelope,
    responses=errors(NotFound, ValidationFailed),
)
async def create_package(
    brand_id: UUID, body: PackageCreate, ctx: Context, principal: CurrentPrincipal
) -> PackageEnvelope:
    """A package the brand sells (service, brand admin): `sessions` within `valid_days` for a price."""
    made = await service.create_package(ctx.unit_of_work(principal), principal, brand_id, body)
    return PackageEnvelope(package=made)


@packages_router.get("", dependencies=[PUBLIC], response_model=PackageList, responses=errors(NotFound))
async def list_packages(brand_id: UUID, ctx: Context, principal: CurrentPrincipal) -> PackageList:
    """The packages on sale; the brand's staff see the inactive ones too."""
    async with ctx.db.transaction(write=False) as session:
        return PackageList(packages=await service.list_packages(session, principal, brand_id))


@packages_router.patch(
    "/{package_id}", response_model=PackageEnvelope, responses=errors(NotFound, ValidationFailed)
)
async def update_package(
    brand_id: UUID, package_id: UUID, body: PackageUpdate, ctx: Context, principal: CurrentPrincipal
) -> PackageEnvelope:
    """Rename, take off sale or reprice a package; passes already sold keep their terms."""
    changed = await service.update_package(ctx.unit_of_work(principal), principal, brand_id, package_id, body)
    return PackageEnvelope(package=changed)


@passes_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PassEnvelope,
    responses=errors(Forbidden, NotFound, Conflict, IdempotencyKeyReused, ValidationFailed),
)
async def create_pass(
    body: PassCreate, ctx: Context, principal: CurrentPrincipal, idempotency_key: IdempotencyKey = None
) -> Response:
    """Buy a package: a pass, `pending` until paid (a free one is `active` at once)."""
    key = idempotency.checked(idempotency_key)
    return answered(await service.buy_pass(ctx.unit_of_work(principal), principal, body, key))


@passes_router.get("", response_model=PassList, responses=errors(Forbidden, ValidationFailed))
async def list_passes(
    ctx: Context,
    principal: CurrentPrincipal,
    brand_id: Annotated[UUID | None, Query()] = None,
    student_id: Annotated[UUID | None, Query()] = None,
) -> PassList:
    """A student's own passes; a brand's passes (or one student's of them) for its staff."""
    async with ctx.db.transaction(write=False) as session:
        found = await service.list_passes(session, principal, brand_id, student_id, ctx.clock.now())
    return PassList(passes=found)


@passes_router.get("/{pass_id}", response_model=PassEnvelope, responses=errors(NotFound))
async def get_pass(pass_id: UUID, ctx: Context, principal: CurrentPrincipal) -> PassEnvelope:
    async with ctx.db.transaction(write=False) as session:
        found = await service.read_pass(session, principal, pass_id, ctx.clock.now())
    return PassEnvelope.model_validate({"pass": found})


@passes_router.patch(
    "/{pass_id}",
    response_model=PassEnvelope,
    responses=errors(Forbidden, NotFound, InvalidTransition, ValidationFailed),
)
async def update_pass(
    pass_id: UUID, body: PassUpdate, ctx: Context, principal: CurrentPrincipal
) -> PassEnvelope:
    """Staff: `{"payment_status": "paid"}` activates a pending pass; `{"status": "cancelled"}` ends it."""
    changed = await service.update_pass(ctx.unit_of_work(principal), principal, pass_id, body)
    return PassEnvelope.model_validate({"pass": changed})
