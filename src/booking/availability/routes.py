from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Response

from booking.availability import explain, service
from booking.availability.schemas import AvailabilityOut, AvailabilityPut, Explanation, SlotList
from booking.bookings.reschedule import reschedule_slots
from booking.context import AppContext
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.errors import Forbidden, InstructorNotInBrand, NotFound, Unauthorized, ValidationFailed
from booking.openapi import errors
from booking.scheduling import Interval
from booking.types import ApiDate, Instant, TimezoneName

router = APIRouter(prefix="/api/instructors", tags=["availability"])


@router.get(
    "/{instructor_id}/availability",
    response_model=AvailabilityOut,
    responses=errors(NotFound, InstructorNotInBrand),
    dependencies=[PUBLIC],
)
async def get_availability(
    instructor_id: UUID,
    brand_id: UUID,
    ctx: Context,
    from_: Annotated[ApiDate | None, Query(alias="from")] = None,
    to: ApiDate | None = None,
) -> AvailabilityOut:
    """Settings (defaults until saved), weekly rules and the overrides dated within [from, to]."""
    async with ctx.db.transaction(write=False) as session:
        return await service.read_availability(session, instructor_id, brand_id, from_, to, ctx.clock.now())


@router.put(
    "/{instructor_id}/availability",
    response_model=AvailabilityOut,
    responses=errors(NotFound, InstructorNotInBrand, Forbidden, ValidationFailed),
)
async def put_availability(
    instructor_id: UUID, body: AvailabilityPut, ctx: Context, principal: CurrentPrincipal
) -> AvailabilityOut:
    """Upsert settings, replace the weekly rules (when given), replace each given date's overrides."""
    async with ctx.db.transaction(write=True) as session:
        return await service.write_availability(session, principal, instructor_id, body, ctx.clock.now())


def slots_json(zone: str, slots: list[Interval]) -> bytes:
    """The slot list's body, hand-built: a 62-day list is hundreds of slots, too many to validate as
    models; orjson writes the instants (UTC as `Z`) in C rather than `isoformat` each in Python."""
    listed = [{"starts_at": slot.start, "ends_at": slot.end} for slot in slots]
    return orjson.dumps({"timezone": zone, "slots": listed}, option=orjson.OPT_UTC_Z)


@router.get(
    "/{instructor_id}/slots",
    response_model=SlotList,
    responses=errors(Unauthorized, NotFound, InstructorNotInBrand, ValidationFailed),
    dependencies=[PUBLIC],
)
async def get_slots(
    instructor_id: UUID,
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    from_: Annotated[
        ApiDate, Query(alias="from", description="first local date (YYYY-MM-DD), in `timezone`")
    ],
    to: Annotated[ApiDate, Query(description="last local date, inclusive (at most 62 days from `from` on)")],
    duration_minutes: Annotated[
        int | None, Query(ge=5, le=480, description="the session's length; default the instructor's")
    ] = None,
    timezone: Annotated[
        TimezoneName | None,
        Query(
            description="IANA zone of `from`/`to` and of `local_*` in the answer; default the instructor's"
        ),
    ] = None,
    reschedule_of: Annotated[
        UUID | None,
        Query(description="a booking the caller may move: the starts its reschedule would accept (token)"),
    ] = None,
) -> Response:
    """Starts that `POST /api/bookings` would accept now, from local date `from` through `to` (both
    included), stepping by the instructor's `slot_interval_minutes` (default: the session's length)."""
    if reschedule_of is None:
        return await bookable_slots(ctx, instructor_id, brand_id, (from_, to), timezone, duration_minutes)
    now = ctx.clock.now()
    async with ctx.db.transaction(write=False) as session:
        zone, slots = await reschedule_slots(
            session,
            principal,
            instructor_id,
            brand_id,
            reschedule_of,
            (from_, to),
            timezone,
            duration_minutes,
            now,
        )
    return slots_response(zone, slots)


@router.get(
    "/{instructor_id}/slots/explain",
    response_model=Explanation,
    responses=errors(Unauthorized, NotFound, ValidationFailed),
    dependencies=[PUBLIC],
)
async def explain_slot(
    instructor_id: UUID,
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    starts_at: Annotated[Instant, Query(description="the session's start: an ISO 8601 instant with offset")],
    duration_minutes: Annotated[
        int | None, Query(ge=5, le=480, description="the session's length; default the instructor's")
    ] = None,
) -> Explanation:
    """Why not? Every booking rule a session starting at `starts_at` breaks, in the order they are
    checked (`bookable`: none). What blocks (`details`) is shown to the instructor and the brand's
    staff only; the student's pending cap is judged for a student's token only."""
    async with ctx.db.transaction(write=False) as session:
        return await explain.explain_time(
            session, principal, instructor_id, brand_id, starts_at, duration_minutes, ctx.clock.now()
        )


async def bookable_slots(
    ctx: AppContext,
    instructor_id: UUID,
    brand_id: UUID,
    dates: tuple[date, date],
    timezone: str | None,
    duration_minutes: int | None,
) -> Response:
    """The public slot list (no reschedule), for this route and for booking.hot_paths."""
    now = ctx.clock.now()
    async with ctx.db.transaction(write=False) as session:
        zone, slots = await service.list_slots(
            session, instructor_id, brand_id, *dates, timezone, duration_minutes, now
        )
    return slots_response(zone, slots)


def slots_response(zone: str, slots: list[Interval]) -> Response:
    return Response(slots_json(zone, slots), media_type="application/json")
