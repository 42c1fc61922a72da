"""The scheduling core's inputs, loaded in as few round trips as the rules allow.

A booking or a slot list needs: the instructor with their link to the brand and its settings (one
query), the weekly rules and the date overrides (one query), and the busy time of the instructor in
every brand (one query).
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CompoundSelect,
    Date,
    Select,
    SmallInteger,
    String,
    and_,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from booking.availability.schemas import SettingsOut
from booking.enums import ACTIVE_STATUSES
from booking.models import (
    Booking,
    DateOverride,
    Instructor,
    InstructorBrand,
    SchedulingSettings,
    UTCDateTime,
    WeeklyRule,
)
from booking.scheduling import (
    BookingContext,
    BusyIndex,
    Interval,
    SchedulingRules,
    WeeklyWindow,
    availability_windows,
    local_dates_around,
)
from booking.scheduling import DateOverride as OverrideRule
from booking.types import MAX_BUFFER_MINUTES, MAX_SESSION_MINUTES

DEFAULT_SETTINGS = SettingsOut(
    buffer_minutes=15,
    advance_booking_days=90,
    cancellation_cutoff_hours=24,
    session_minutes=60,
    min_notice_minutes=0,
)
SETTING_COLUMNS = tuple(SettingsOut.model_fields)


@dataclass(frozen=True)
class InstructorInBrand:
    """An instructor as seen from one brand: linked or not, with that brand's settings."""

    id: UUID
    brand_id: UUID
    name: str
    email: str
    timezone: str
    active: bool
    linked: bool
    settings: SettingsOut

    @property
    def rules(self) -> SchedulingRules:
        return SchedulingRules(
            buffer_minutes=self.settings.buffer_minutes,
            advance_booking_days=self.settings.advance_booking_days,
            min_notice_minutes=self.settings.min_notice_minutes,
        )


def _instructor_in_brand_query(for_booking: bool) -> Select[Any]:
    link_matches = and_(
        InstructorBrand.instructor_id == Instructor.id,
        InstructorBrand.brand_id == bindparam("brand_id"),
        InstructorBrand.unlinked_at.is_(None),
    )
    settings_match = and_(
        SchedulingSettings.instructor_id == Instructor.id,
        SchedulingSettings.brand_id == bindparam("brand_id"),
    )
    columns = [
        Instructor.id,
        Instructor.name,
        Instructor.email,
        Instructor.timezone,
        Instructor.active,
        InstructorBrand.brand_id,
        *(getattr(SchedulingSettings, name) for name in SETTING_COLUMNS),
    ]
    query = select(*columns).where(Instructor.id == bindparam("instructor_id"))
    if for_booking:
        # Share-lock the link (PostgreSQL) so that an unlink waits for the booking's commit.
        query = query.join(InstructorBrand, link_matches).with_for_update(read=True, of=InstructorBrand)
    else:
        query = query.outerjoin(InstructorBrand, link_matches)
    return query.outerjoin(SchedulingSettings, settings_match)


# Built once: these run on every slot list and every booking.
INSTRUCTOR_IN_BRAND = {flag: _instructor_in_brand_query(flag) for flag in (False, True)}

RULES: CompoundSelect[Any] = union_all(
    select(
        literal("weekly", String).label("kind"),
        WeeklyRule.weekday,
        cast(null(), Date).label("date"),
        WeeklyRule.start_minute,
        WeeklyRule.end_minute,
    ).where(
        WeeklyRule.instructor_id == bindparam("instructor_id"), WeeklyRule.brand_id == bindparam("brand_id")
    ),
    select(
        DateOverride.kind,
        cast(null(), SmallInteger),
        DateOverride.date,
        DateOverride.start_minute,
        DateOverride.end_minute,
    ).where(
        DateOverride.instructor_id == bindparam("instructor_id"),
        DateOverride.brand_id == bindparam("brand_id"),
        DateOverride.date.between(bindparam("first", type_=Date), bindparam("last", type_=Date)),
    ),
)

# No booking blocks more than its longest session plus the largest buffer, so one that reaches into
# [since, until) started after `since` minus that: the lower bound keeps the index range (and the
# cost) independent of the instructor's history.
LONGEST_BLOCK = timedelta(minutes=MAX_SESSION_MINUTES + MAX_BUFFER_MINUTES)

BUSY = select(Booking.starts_at, Booking.blocked_until).where(
    Booking.instructor_id == bindparam("instructor_id"),
    Booking.status.in_(ACTIVE_STATUSES),
    Booking.starts_at < bindparam("until", type_=UTCDateTime()),
    Booking.starts_at > bindparam("earliest", type_=UTCDateTime()),
    Booking.blocked_until > bindparam("since", type_=UTCDateTime()),
)

RuleRow = tuple[str, Any, Any, Any, Any]


async def instructor_in_brand(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, *, for_booking: bool = False
) -> InstructorInBrand | None:
    """One query; with `for_booking`, None unless the instructor is linked (and the link locked)."""
    connection = await session.connection()
    params = {"instructor_id": instructor_id, "brand_id": brand_id}
    row = (await connection.execute(INSTRUCTOR_IN_BRAND[for_booking], params)).first()
    if row is None:
        return None
    stored = dict(zip(SETTING_COLUMNS, row[6:], strict=True))
    settings = DEFAULT_SETTINGS if stored["buffer_minutes"] is None else SettingsOut(**stored)
    return InstructorInBrand(
        id=row.id,
        brand_id=brand_id,
        name=row.name,
        email=row.email,
        timezone=row.timezone,
        active=row.active,
        linked=row.brand_id is not None,
        settings=settings,
    )


async def scheduling_rules(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, first: date, last: date
) -> tuple[list[WeeklyWindow], list[OverrideRule]]:
    """Weekly rules and the overrides dated first..last, in one query."""
    connection = await session.connection()
    params = {"instructor_id": instructor_id, "brand_id": brand_id, "first": first, "last": last}
    rows = typing.cast(Sequence[RuleRow], (await connection.execute(RULES, params)).all())
    windows: list[WeeklyWindow] = []
    dated: list[OverrideRule] = []
    for kind, weekday, day, start, end in rows:
        if kind == "weekly":
            windows.append(WeeklyWindow(weekday, start, end))
        elif kind == "custom":
            dated.append(OverrideRule(_as_date(day), "custom", start, end))
        else:
            dated.append(OverrideRule(_as_date(day), "blocked"))
    return windows, dated


def _as_date(value: date | str) -> date:
    # A NULL-typed column in a UNION loses its type on SQLite, which then hands back ISO text.
    return value if isinstance(value, date) else date.fromisoformat(value)


async def busy_time(
    session: AsyncSession, instructor_id: UUID, span: Interval, rules: SchedulingRules
) -> BusyIndex:
    """Active bookings of the instructor in every brand that could collide with a session in `span`."""
    connection = await session.connection()
    params = {
        "instructor_id": instructor_id,
        "until": span.end + rules.buffer,
        "earliest": span.start - LONGEST_BLOCK,
        "since": span.start,
    }
    rows = await connection.execute(BUSY, params)
    return BusyIndex.of(Interval(start, end) for start, end in rows)


async def booking_context(
    session: AsyncSession, instructor: InstructorInBrand, brand_id: UUID, now: datetime, span: Interval
) -> BookingContext:
    """What the rules need to judge bookings of the instructor in `brand_id` lying within `span`."""
    zone = ZoneInfo(instructor.timezone)
    first, last = local_dates_around(span.start, span.end, zone)
    weekly, overrides = await scheduling_rules(session, instructor.id, brand_id, first, last)
    rules = instructor.rules
    return BookingContext(
        now=now,
        rules=rules,
        windows=availability_windows(weekly, overrides, zone, first, last),
        busy=await busy_time(session, instructor.id, span, rules),
        instructor_bookable=instructor.active and instructor.linked,
    )
