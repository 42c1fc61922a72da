"""Availability rules, scheduling settings and bookable slots of an instructor in a brand."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import require_authenticated, require_instructor_or_brand_admin
from booking.audit import entry_of, write_entries
from booking.auth import Principal
from booking.availability import repository, schedule_repository
from booking.availability.repository import BusyTime, InstructorInBrand, instructor_in_brand
from booking.availability.schemas import (
    AvailabilityOut,
    AvailabilityPut,
    OverrideIn,
    OverrideOut,
    WeeklyWindowIn,
    WeeklyWindowOut,
    to_hhmm,
)
from booking.enums import BookingStatus
from booking.errors import InstructorNotInBrand, NotFound, field_error
from booking.instructors.service import get_instructor
from booking.models.availability import DateOverride
from booking.models.bookings import Booking
from booking.scheduling import (
    BookingContext,
    Interval,
    SessionCounts,
    StudentPending,
    availability_windows,
    bookable_slots,
    local_dates_around,
    local_day_bounds,
    local_weeks_around,
)

MAX_SLOT_RANGE_DAYS = 62


async def linked_instructor(session: AsyncSession, instructor_id: UUID, brand_id: UUID) -> InstructorInBrand:
    """The instructor with the brand's settings; 404 when unknown or not teaching for the brand."""
    instructor = await instructor_in_brand(session, instructor_id, brand_id)
    if instructor is None:
        raise NotFound("instructor not found")
    if not instructor.linked:
        raise InstructorNotInBrand("the instructor does not teach for this brand")
    return instructor


# --- reading and writing availability --------------------------------------------------------------


async def read_availability(
    session: AsyncSession,
    instructor_id: UUID,
    brand_id: UUID,
    first: date | None,
    last: date | None,
    now: datetime,
) -> AvailabilityOut:
    instructor = await linked_instructor(session, instructor_id, brand_id)
    first = first or now.astimezone(ZoneInfo(instructor.timezone)).date()
    weekly = await schedule_repository.weekly_rules_of(session, instructor_id, brand_id)
    overrides = await schedule_repository.overrides_between(session, instructor_id, brand_id, first, last)
    return AvailabilityOut(
        instructor_id=instructor_id,
        brand_id=brand_id,
        timezone=instructor.timezone,
        settings=instructor.settings,
        weekly=[
            WeeklyWindowOut(
                weekday=w.weekday, start_time=to_hhmm(w.start_minute), end_time=to_hhmm(w.end_minute)
            )
            for w in weekly
        ],
        overrides=[_override_out(o) for o in overrides],
    )


def _override_out(row: DateOverride) -> OverrideOut:
    return OverrideOut(
        date=row.date,
        kind="custom" if row.kind == "custom" else "blocked",
        start_time=None if row.start_minute is None else to_hhmm(row.start_minute),
        end_time=None if row.end_minute is None else to_hhmm(row.end_minute),
    )


async def write_availability(
    session: AsyncSession, principal: Principal, instructor_id: UUID, data: AvailabilityPut, now: datetime
) -> AvailabilityOut:
    """Apply a PUT in one transaction; every check runs before the first write."""
    require_authenticated(principal)
    instructor = await get_instructor(session, instructor_id)
    await require_instructor_or_brand_admin(
        session, principal, instructor, data.brand_id, "change availability"
    )
    await linked_instructor(session, instructor_id, data.brand_id)
    _check_weekly_overlaps(data.weekly or [])
    _check_override_dates(data.overrides or [])
    before = await read_availability(session, instructor_id, data.brand_id, None, None, now)

    if data.timezone is not None:
        instructor.timezone = data.timezone
    if data.settings is not None:
        await _upsert_settings(session, instructor_id, data, now)
    if data.weekly is not None:
        await schedule_repository.replace_weekly_rules(session, instructor_id, data.brand_id, data.weekly)
    if data.overrides:
        await schedule_repository.replace_overrides(session, instructor_id, data.brand_id, data.overrides)
    await session.flush()
    after = await read_availability(session, instructor_id, data.brand_id, None, None, now)
    target = ("instructor", instructor_id)
    entry = entry_of(
        principal, data.brand_id, "availability.updated", target, _audited(before), _audited(after)
    )
    await write_entries(session, [entry] if entry else [], now)
    return after


def _audited(availability: AvailabilityOut) -> dict[str, Any]:
    """What the audit log compares of an instructor's availability: each setting on its own."""
    shown = availability.model_dump(mode="json")
    settings = shown.pop("settings", None) or {}
    return {
        **{key: value for key, value in shown.items()},
        **{f"settings.{k}": v for k, v in settings.items()},
    }


def _first_overlap(windows: list[tuple[int, int, int]]) -> int | None:
    """Index of the first (start, end, index) window that overlaps an earlier one; touching is fine."""
    windows.sort()
    for (_, previous_end, _), (start, _, index) in itertools.pairwise(windows):
        if start < previous_end:
            return index
    return None


def _check_weekly_overlaps(weekly: Sequence[WeeklyWindowIn]) -> None:
    by_day: dict[int, list[tuple[int, int, int]]] = {}
    for index, window in enumerate(weekly):
        by_day.setdefault(window.weekday, []).append((*window.minutes, index))
    for windows in by_day.values():
        if (overlapping := _first_overlap(windows)) is not None:
            raise field_error("overlaps another window on the same weekday", "body", "weekly", overlapping)


def _check_override_dates(overrides: Sequence[OverrideIn]) -> None:
    by_date: dict[date, list[tuple[int, OverrideIn]]] = {}
    for index, override in enumerate(overrides):
        by_date.setdefault(override.date, []).append((index, override))
    for entries in by_date.values():
        if len(entries) > 1 and any(o.kind != "custom" for _, o in entries):
            message = "a blocked or clear entry must be the only one of its date"
            raise field_error(message, "body", "overrides", entries[1][0])
        windows = [(*o.minutes, index) for index, o in entries if o.kind == "custom"]
        if (overlapping := _first_overlap(windows)) is not None:
            raise field_error(
                "overlaps another custom window of the same date", "body", "overrides", overlapping
            )


async def _upsert_settings(
    session: AsyncSession, instructor_id: UUID, data: AvailabilityPut, now: datetime
) -> None:
    assert data.settings is not None
    row = await schedule_repository.settings_row(session, instructor_id, data.brand_id)
    for field, value in data.settings.changes().items():
        setattr(row, field, value)
    row.updated_at = now


@dataclass(frozen=True)
class Asker:
    """The student a booking or a reschedule is judged for, and the booking being moved, if any: its
    own time blocks nothing and counts in no cap, and its own pending hold is not counted (SPEC §11)."""

    student_id: UUID
    moving: Interval | None = None  # [starts_at, blocked_until) of the booking being moved
    moving_pending: bool = False

    @classmethod
    def moving_booking(cls, booking: Booking) -> Asker:
        return cls(
            booking.student_id,
            Interval(booking.starts_at, booking.blocked_until),
            booking.status == BookingStatus.PENDING,
        )


async def list_slots(
    session: AsyncSession,
    instructor_id: UUID,
    brand_id: UUID,
    first: date,
    last: date,
    timezone: str | None,
    duration_minutes: int | None,
    now: datetime,
    asker: Asker | None = None,
) -> tuple[str, list[Interval]]:
    """The bookable starts between local dates `first` and `last` (read in `timezone`), and that zone;
    with an `asker`, those that a booking (or the move) of that student would take."""
    if last < first:
        message = "'to' is before 'from'"
        raise field_error(message, "query", "to")
    if (last - first).days + 1 > MAX_SLOT_RANGE_DAYS:
        message = f"at most {MAX_SLOT_RANGE_DAYS} days a call"
        raise field_error(message, "query", "to")
    instructor = await linked_instructor(session, instructor_id, brand_id)
    settings = instructor.settings
    duration = timedelta(minutes=duration_minutes or settings.session_minutes)
    zone_name = timezone or instructor.timezone
    zone = ZoneInfo(zone_name)
    requested = Interval(local_day_bounds(first, zone).start, local_day_bounds(last, zone).end)
    # Starts outside [now, now + advance window] are refused by the rules anyway: load no more than
    # the sessions that could start inside it need.
    first_start = max(requested.start, now)
    last_start = min(requested.end, now + timedelta(days=settings.advance_booking_days))
    if first_start >= last_start:
        return zone_name, []
    span = Interval(first_start, last_start + duration)
    context, _ = await booking_context_and_busy(session, instructor, brand_id, now, span, asker)
    return zone_name, bookable_slots(context, duration, requested.start, requested.end)


async def booking_context_and_busy(
    session: AsyncSession,
    instructor: InstructorInBrand,
    brand_id: UUID,
    now: datetime,
    span: Interval,
    asker: Asker | None = None,
) -> tuple[BookingContext, BusyTime]:
    """What the rules need to judge bookings of the instructor in `brand_id` lying within `span` (for
    `asker`, with their pending bookings counted), and the busy read it came from: a booking cancels
    the expired holds that read saw."""
    zone = ZoneInfo(instructor.timezone)
    first, last = local_dates_around(span.start, span.end, zone)
    weekly, overrides = await repository.scheduling_rules(session, instructor.id, brand_id, first, last)
    rules = instructor.rules
    # Caps count whole local weeks (and the days in them) around the span.
    counted_span = local_weeks_around(span.start, span.end, zone) if rules.capped else None
    moving = None if asker is None else asker.moving
    busy = await repository.busy_time(
        session, instructor.id, brand_id, span, rules, now, counted_span, moving
    )
    context = BookingContext(
        now=now,
        rules=rules,
        windows=availability_windows(weekly, overrides, zone, first, last),
        busy=busy.index,
        external=busy.external,
        instructor_bookable=instructor.active and instructor.linked,
        counts=None if counted_span is None else SessionCounts.of(busy.counted, zone),
        student=await _student_pending(session, instructor, asker, now),
    )
    return context, busy


async def _student_pending(
    session: AsyncSession, instructor: InstructorInBrand, asker: Asker | None, now: datetime
) -> StudentPending:
    """The asker's other pending bookings in the brand (rule 7); read only when the brand caps them. A
    free session is never pending (it is confirmed when made), so the cap does not hold it back."""
    if asker is None or instructor.pending_cap is None or instructor.settings.price_amount == 0:
        return StudentPending()
    count = await repository.pending_count_of(session, asker.student_id, instructor.brand_id, now)
    return StudentPending(count - asker.moving_pending, instructor.pending_cap)
