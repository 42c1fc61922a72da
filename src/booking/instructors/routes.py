from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from booking.audit import audited
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.errors import Conflict, Forbidden, NotFound
from booking.instructors import service
from booking.instructors.schemas import (
    InstructorCreate,
    InstructorEnvelope,
    InstructorUpdate,
    LinkEnvelope,
    LinkOut,
    PublicInstructor,
    PublicInstructorList,
)
from booking.openapi import errors

router = APIRouter(prefix="/api/instructors", tags=["instructors"])


@router.get("", response_model=PublicInstructorList, responses=errors(NotFound), dependencies=[PUBLIC])
async def list_instructors(brand_id: UUID, ctx: Context) -> PublicInstructorList:
    async with ctx.db.transaction(write=False) as session:
        instructors = await service.list_public_instructors(session, brand_id)
        return PublicInstructorList(instructors=[PublicInstructor.model_validate(i) for i in instructors])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=InstructorEnvelope,
    responses=errors(NotFound, Forbidden, Conflict),
)
async def create_instructor(
    body: InstructorCreate, ctx: Context, principal: CurrentPrincipal
) -> InstructorEnvelope:
    async with ctx.db.transaction(write=True) as session, audited(session, principal, ctx.clock.now()):
        instructor = await service.create_instructor(session, principal, body)
        return InstructorEnvelope(instructor=await service.describe(session, instructor))


@router.patch("/{instructor_id}", response_model=InstructorEnvelope, responses=errors(NotFound, Forbidden))
async def update_instructor(
    instructor_id: UUID, body: InstructorUpdate, ctx: Context, principal: CurrentPrincipal
) -> InstructorEnvelope:
    async with ctx.db.transaction(write=True) as session:
        instructor = await service.update_instructor(session, principal, instructor_id, body, ctx.clock.now())
        return InstructorEnvelope(instructor=await service.describe(session, instructor))


@router.put(
    "/{instructor_id}/brands/{brand_id}",
    status_code=status.HTTP_201_CREATED,
    response_model=LinkEnvelope,
    responses={200: {"model": LinkEnvelope, "description": "already linked"}, **errors(NotFound, Forbidden)},
)
async def link_brand(
    instructor_id: UUID, brand_id: UUID, ctx: Context, principal: CurrentPrincipal, response: Response
) -> LinkEnvelope:
    async with ctx.db.transaction(write=True) as session, audited(session, principal, ctx.clock.now()):
        link, created = await service.link(session, principal, instructor_id, brand_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return LinkEnvelope(link=LinkOut.model_validate(link))


@router.delete(
    "/{instructor_id}/brands/{brand_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(NotFound, Forbidden, Conflict),
)
async def unlink_brand(
    instructor_id: UUID, brand_id: UUID, ctx: Context, principal: CurrentPrincipal
) -> Response:
    now = ctx.clock.now()
    async with ctx.db.transaction(write=True) as session, audited(session, principal, now):
        await service.unlink(session, principal, instructor_id, brand_id, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
