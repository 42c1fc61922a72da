from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response, status

from booking.calendars import service
from booking.calendars.schemas import BusyCalendarList, BusyCalendarOut, BusyCalendarsPut, FeedCreated
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.errors import Forbidden, NotFound, ValidationFailed
from booking.http import conditional_response
from booking.openapi import errors

router = APIRouter(prefix="/api/instructors/{instructor_id}", tags=["calendars"])
feed_router = APIRouter(prefix="/api/calendar-feeds", tags=["calendars"])

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"


@router.post(
    "/calendar-feed",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedCreated,
    responses=errors(NotFound, Forbidden),
)
async def create_feed(
    instructor_id: UUID, request: Request, ctx: Context, principal: CurrentPrincipal
) -> FeedCreated:
    """A new secret address of the instructor's sessions in every brand; the previous one stops working."""
    async with ctx.db.transaction(write=True) as session:
        secret = await service.create_feed(session, principal, instructor_id, ctx.clock.now())
    base = ctx.settings.public_base_url or str(request.base_url)
    return FeedCreated(url=base.rstrip("/") + service.FEED_PATH.format(secret=secret))


@router.delete(
    "/calendar-feed", status_code=status.HTTP_204_NO_CONTENT, responses=errors(NotFound, Forbidden)
)
async def revoke_feed(instructor_id: UUID, ctx: Context, principal: CurrentPrincipal) -> Response:
    async with ctx.db.transaction(write=True) as session:
        await service.revoke_feed(session, principal, instructor_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@feed_router.get(
    "/{secret}.ics",
    dependencies=[PUBLIC],
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "RFC 5545"},
        304: {"description": "unchanged since the ETag sent in If-None-Match"},
        **errors(NotFound),
    },
)
async def calendar_feed(
    secret: str, ctx: Context, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """The instructor's sessions (the secret in the address is the credential; no header needed)."""
    async with ctx.db.transaction(write=False) as session:
        feed = await service.feed_file(session, secret, ctx.clock.now())
    return conditional_response(feed.body, ICS_MEDIA_TYPE, feed.etag, "no-cache", if_none_match)


@router.get("/busy-calendars", response_model=BusyCalendarList, responses=errors(NotFound, Forbidden))
async def list_busy_calendars(
    instructor_id: UUID, ctx: Context, principal: CurrentPrincipal
) -> BusyCalendarList:
    async with ctx.db.transaction(write=False) as session:
        calendars = await service.list_busy_calendars(session, principal, instructor_id)
        return BusyCalendarList(calendars=[BusyCalendarOut.of(calendar) for calendar in calendars])


@router.put(
    "/busy-calendars",
    response_model=BusyCalendarList,
    responses=errors(NotFound, Forbidden, ValidationFailed),
)
async def replace_busy_calendars(
    instructor_id: UUID, body: BusyCalendarsPut, ctx: Context, principal: CurrentPrincipal
) -> BusyCalendarList:
    """The instructor's own calendars (iCalendar URLs) whose events block their time in every brand.
    Each is fetched at once and then every CALENDAR_SYNC_MINUTES."""
    calendars = await service.replace_busy_calendars(
        ctx.db,
        principal,
        instructor_id,
        body,
        allow_private=ctx.settings.allow_private_urls,
        now=ctx.clock.now(),
    )
    ctx.worker.wake()
    return BusyCalendarList(calendars=[BusyCalendarOut.of(calendar) for calendar in calendars])
