from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, Query, status
from fastapi.responses import Response, StreamingResponse

from booking.bookings import export, idempotency, insights, reads, series, service
from booking.bookings.errors import (
    BOOKING_REFUSALS,
    CancellationCutoffPassed,
    IdempotencyKeyReused,
    InvalidTransition,
    PassNotUsable,
    RescheduleCutoffPassed,
    SeriesConflict,
    SlotUnavailable,
)
from booking.bookings.lifecycle import Role
from booking.bookings.reminders import send_due_reminders
from booking.bookings.render import Answer, reminder_result, render
from booking.bookings.reschedule import reschedule
from booking.bookings.schemas import (
    BookingCreate,
    BookingCreated,
    BookingEnvelope,
    BookingPage,
    BookingUpdate,
    CalendarOut,
    RemindersOut,
    RescheduleRequest,
    SeriesCancel,
    SeriesCancelled,
    SeriesCreate,
    SeriesCreated,
    SeriesEnvelope,
    SeriesPreview,
    SeriesUpdate,
)
from booking.deps import REMINDER_KEY, Context, CurrentPrincipal
from booking.enums import BookingStatus, PaymentStatus
from booking.errors import Conflict, Forbidden, InstructorNotInBrand, NotFound, Unauthorized, ValidationFailed
from booking.notifications.service import reminder_key_matches
from booking.openapi import errors
from booking.types import ApiDate, Instant, SearchText

router = APIRouter(prefix="/api/bookings", tags=["bookings"])
IdempotencyKey = Annotated[str | None, Header(description="retries with the same key replay the answer")]


def answered(answer: Answer) -> Response:
    """A booking write's answer; a replay of an Idempotency-Key says so."""
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    # orjson writes the same bytes as Starlette's JSONResponse (compact, UTF-8), in C.
    body = orjson.dumps(answer.body)
    return Response(body, status_code=answer.status, headers=headers, media_type="application/json")


calendar_router = APIRouter(prefix="/api/instructors", tags=["bookings"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=BookingCreated,
    # Conflict: a request with the same Idempotency-Key is still in progress.
    responses=errors(
        *BOOKING_REFUSALS,
        PassNotUsable,
        IdempotencyKeyReused,
        Forbidden,
        Conflict,
        NotFound,
        ValidationFailed,
    ),
)
async def create_booking(
    body: BookingCreate,
    ctx: Context,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Book a session. Notifications go out after the commit and never undo the booking."""
    key = idempotency.checked(idempotency_key)
    answer = await service.book(ctx.unit_of_work(principal), principal, body, key)
    return answered(answer)


@router.post(
    "/{booking_id}/reschedule",
    response_model=BookingCreated,
    responses=errors(
        *BOOKING_REFUSALS,
        InvalidTransition,
        PassNotUsable,
        RescheduleCutoffPassed,
        IdempotencyKeyReused,
        NotFound,
        Conflict,
        ValidationFailed,
    ),
)
async def reschedule_booking(
    booking_id: UUID,
    body: RescheduleRequest,
    ctx: Context,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Move the booking to a new time in one transaction: the same id, status, payment and hold.
    Conflict: another request moved it meanwhile, or one with the same Idempotency-Key is in progress."""
    key = idempotency.checked(idempotency_key)
    answer = await reschedule(ctx.unit_of_work(principal), principal, booking_id, body, key)
    return answered(answer)


@router.post(
    "/reminders", response_model=RemindersOut, responses=errors(Unauthorized), dependencies=[REMINDER_KEY]
)
async def send_reminders(
    ctx: Context,
    x_booking_reminder_key: Annotated[
        str | None, Header(description="must equal BOOKING_REMINDER_API_KEY")
    ] = None,
) -> RemindersOut:
    """One SMS (email when SMS is impossible) for each confirmed booking starting within 24 h, once."""
    if not reminder_key_matches(ctx.settings.booking_reminder_api_key, x_booking_reminder_key):
        raise Unauthorized("x-booking-reminder-key is missing or wrong (or no key is configured)")
    results = await send_due_reminders(ctx.notifier, ctx.db, ctx.clock.now())
    return RemindersOut(reminded=len(results), results=[reminder_result(r) for r in results])


@router.get("", response_model=BookingPage, responses=errors(ValidationFailed))
async def list_bookings(
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    status_: Annotated[BookingStatus | None, Query(alias="status")] = None,
    from_: Annotated[Instant | None, Query(alias="from", description="sessions starting at or after")] = None,
    to: Annotated[Instant | None, Query(description="sessions starting before")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = service.DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    instructor_id: Annotated[UUID | None, Query(description="only this instructor's sessions")] = None,
    payment_status: PaymentStatus | None = None,
    q: Annotated[
        SearchText | None,
        Query(description="a part of the student's name or email, any case (1 to 100 characters)"),
    ] = None,
    order: Annotated[Literal["asc", "desc"], Query(description="by creation; desc: newest first")] = "asc",
) -> BookingPage:
    """The caller's bookings in a brand (all of them for staff), oldest first (`order=desc`: newest
    first); follow `next_cursor`."""
    page = reads.PageQuery(
        brand_id, status_, from_, to, limit, cursor, instructor_id, payment_status, q, order == "desc"
    )
    async with ctx.db.transaction(write=False) as session:
        listed = await reads.list_bookings(session, principal, page)
        return BookingPage(
            bookings=[render(b, staff=listed.sees_notes) for b in listed.bookings],
            next_cursor=listed.next_cursor,
        )


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses=errors(Forbidden, NotFound, ValidationFailed)
    | {200: {"content": {"text/csv": {}}, "description": "RFC 4180, CRLF line ends, a header row"}},
)
async def export_bookings(
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    from_: Annotated[ApiDate | None, Query(alias="from", description="first brand-local date")] = None,
    to: Annotated[ApiDate | None, Query(description="last brand-local date, inclusive")] = None,
    instructor_id: UUID | None = None,
) -> StreamingResponse:
    """The brand's bookings by start as CSV (staff: all; an instructor: their own), streamed."""
    async with ctx.db.transaction(write=False) as session:
        scope = await export.export_scope(session, principal, brand_id, from_, to, instructor_id)
    return StreamingResponse(
        export.csv_chunks(ctx.db, scope),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="bookings.csv"'},
    )


@router.get("/{booking_id}", response_model=BookingEnvelope, responses=errors(NotFound))
async def get_booking(booking_id: UUID, ctx: Context, principal: CurrentPrincipal) -> BookingEnvelope:
    async with ctx.db.transaction(write=False) as session:
        booking, role = await reads.visible_booking(session, principal, booking_id)
        if role == Role.STUDENT:
            return BookingEnvelope(booking=render(booking, staff=False))
        return BookingEnvelope(
            booking=render(booking, staff=True), history=await reads.history(session, booking)
        )


@router.patch(
    "/{booking_id}",
    response_model=BookingEnvelope,
    responses=errors(
        Forbidden, NotFound, InvalidTransition, CancellationCutoffPassed, SlotUnavailable, ValidationFailed
    ),
)
async def update_booking(
    booking_id: UUID, body: BookingUpdate, ctx: Context, principal: CurrentPrincipal
) -> BookingEnvelope:
    """Status, payment and notes; who may set which status, and when, follows the booking lifecycle."""
    changed = await service.change_booking(ctx.unit_of_work(principal), principal, booking_id, body)
    return BookingEnvelope(booking=render(changed.booking, staff=changed.role != Role.STUDENT))


@calendar_router.get(
    "/{instructor_id}/calendar", response_model=CalendarOut, responses=errors(Forbidden, NotFound)
)
async def instructor_calendar(
    instructor_id: UUID,
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    from_: Annotated[Instant | None, Query(alias="from", description="default: now")] = None,
    to: Instant | None = None,
) -> CalendarOut:
    """Upcoming pending and confirmed sessions, by start, with instructor-local times and notes."""
    starts_from: datetime = from_ or ctx.clock.now()
    async with ctx.db.transaction(write=False) as session:
        instructor, sessions = await reads.calendar(
            session, principal, instructor_id, brand_id, starts_from, to
        )
        return CalendarOut(
            instructor_id=instructor.id,
            brand_id=brand_id,
            timezone=instructor.timezone,
            sessions=[render(b, staff=True) for b in sessions],
        )


# --- weekly series ----------------------------------------------------------------------------------

series_router = APIRouter(prefix="/api/series", tags=["series"])
# An occurrence's refusal is named in series_conflict's details; these answer as a booking's would.
SERIES_REFUSALS = (
    SeriesConflict,
    PassNotUsable,
    InstructorNotInBrand,
    IdempotencyKeyReused,
    Forbidden,
    Conflict,
    NotFound,
)


@series_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SeriesCreated,
    responses=errors(*SERIES_REFUSALS, ValidationFailed),
)
async def create_series(
    body: SeriesCreate,
    ctx: Context,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Book `count` sessions at the same local time every `every_weeks` weeks, in one transaction: every
    occurrence judged by the rules of a booking; one email, one SMS and one instructor email for all."""
    key = idempotency.checked(idempotency_key)
    answer = await series.book_series(ctx.unit_of_work(principal), principal, body, key)
    return answered(answer)


@series_router.post(
    "/preview",
    response_model=SeriesPreview,
    responses=errors(InstructorNotInBrand, Forbidden, ValidationFailed),
)
async def preview_series(body: SeriesCreate, ctx: Context, principal: CurrentPrincipal) -> SeriesPreview:
    """Each occurrence as creation would judge it now (`bookable`, the first rule it fails); no write."""
    return await series.preview(ctx.db, principal, body, ctx.clock.now())


@series_router.get("/{series_id}", response_model=SeriesEnvelope, responses=errors(NotFound))
async def get_series(series_id: UUID, ctx: Context, principal: CurrentPrincipal) -> SeriesEnvelope:
    """The series and its occurrences, for whoever may see its bookings."""
    async with ctx.db.transaction(write=False) as session:
        return SeriesEnvelope(series=await series.read_series(session, principal, series_id))


@series_router.post(
    "/{series_id}/cancel", response_model=SeriesCancelled, responses=errors(NotFound, ValidationFailed)
)
async def cancel_series(
    series_id: UUID, body: SeriesCancel, ctx: Context, principal: CurrentPrincipal
) -> SeriesCancelled:
    """Cancel every occurrence from `from_index` on that is pending or confirmed and has not started, as
    cancelling each would (refunds included); `kept`: those this caller may not cancel, and why."""
    done = await ctx.unit_of_work(principal).run(
        lambda work: series.cancel_series(work, principal, series_id, body)
    )
    return SeriesCancelled(series=done.series, cancelled=done.cancelled, kept=done.kept)


@series_router.patch(
    "/{series_id}", response_model=SeriesEnvelope, responses=errors(Forbidden, NotFound, ValidationFailed)
)
async def pay_series(
    series_id: UUID, body: SeriesUpdate, ctx: Context, principal: CurrentPrincipal
) -> SeriesEnvelope:
    """Staff: every pending occurrence paid (confirmed), each as a staff payment of that booking."""
    paid = await ctx.unit_of_work(principal).run(
        lambda work: series.pay_series(work, principal, series_id, body)
    )
    return SeriesEnvelope(series=paid)


# --- a brand's figures --------------------------------------------------------------------------------

insights_router = APIRouter(prefix="/api/brands", tags=["insights"])


@insights_router.get(
    "/{brand_id}/insights",
    response_model=insights.InsightsOut,
    responses=errors(Forbidden, NotFound, ValidationFailed),
)
async def brand_insights(
    brand_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    from_: Annotated[ApiDate, Query(alias="from", description="first brand-local date")],
    to: Annotated[ApiDate, Query(description="last brand-local date, inclusive (at most 366 days)")],
) -> insights.InsightsOut:
    """Per instructor (an instructor: their own row only) and per Monday-first week, of the sessions
    starting in the brand-local dates."""
    async with ctx.db.transaction(write=False) as session:
        return await insights.brand_insights(session, principal, brand_id, from_, to, ctx.clock.now())
