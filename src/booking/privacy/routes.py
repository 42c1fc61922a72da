"""A student's data on request: export and erasure."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query

from booking.deps import Context, CurrentPrincipal
from booking.errors import Forbidden, NotFound, ValidationFailed
from booking.openapi import errors
from booking.privacy import service
from booking.privacy.schemas import ErasureOut, ErasureRequest, StudentExport

router = APIRouter(prefix="/api/students", tags=["privacy"])


@router.get(
    "/{student_id}/export",
    response_model=StudentExport,
    responses=errors(NotFound, Forbidden, ValidationFailed),
)
async def export_student(
    student_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    brand_id: Annotated[
        UUID | None, Query(description="required for a brand admin; absent: every brand")
    ] = None,
) -> StudentExport:
    """Everything held about the student (the service; the brand's admins; the student themself): each
    booking as staff see it with its history, their passes, and the messages sent to them."""
    async with ctx.db.transaction(write=False) as session:
        return await service.export(session, principal, student_id, brand_id, ctx.clock.now())


@router.post(
    "/{student_id}/erase",
    response_model=ErasureOut,
    responses=errors(NotFound, Forbidden, ValidationFailed),
)
async def erase_student(
    student_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    body: Annotated[ErasureRequest | None, Body()] = None,
) -> ErasureOut:
    """Erase the student's personal details (the service; the brand's admins; the student themself), in
    one transaction: their future bookings cancelled (refunded as staff cancelling would, no message
    sent), and their name, addresses, notes, messages not sent yet, stored answers and the personal
    values of webhook payloads and the audit log removed. Times, statuses and amounts stay, with
    `student_erased: true`. A repeat answers zeros."""
    brand_id = None if body is None else body.brand_id
    done = await ctx.unit_of_work(principal).run(
        lambda work: service.erase(work, principal, student_id, brand_id)
    )
    return ErasureOut(erased=done.out())
