"""Every query of availability: the scheduling core's inputs, settings, weekly rules and overrides.

A booking or a slot list needs: the instructor with their link to the brand and its settings (one
query), the weekly rules and the date overrides (one query), and the busy time of the instructor in
every brand (one query). Those statements are built once, at import: they run on every slot list and
every booking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Date,
    Select,
    SmallInteger,
    String,
    Uuid,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from booking.availability.schemas import DEFAULT_SETTINGS, SettingsOut
from booking.calendars.parsing import PIECE
from booking.driver import HotStatement
from booking.enums import ACTIVE_STATUSES, BookingStatus
from booking.i18n import DEFAULT_LOCALE
from booking.models.availability import DateOverride, SchedulingSettings, WeeklyRule
from booking.models.base import UTCDateTime
from booking.models.bookings import Booking, status_is
from booking.models.brands import Brand
from booking.models.calendars import BusyInterval
from booking.models.instructors import Instructor, InstructorBrand
from booking.scheduling import (
    BusyIndex,
    Interval,
    SchedulingRules,
    WeeklyWindow,
)
from booking.scheduling import DateOverride as OverrideRule
from booking.types import LONGEST_BLOCK

SETTING_COLUMNS = tuple(SettingsOut.model_fields)
DEFAULT_CURRENCY = "usd"  # a brand's until it chooses one (and an unknown brand's, never priced)


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
    pending_cap: int | None  # the brand's max_pending_per_student
    currency: str  # the brand's, of every price in it
    brand_name: str
    brand_locale: str  # a new booking's language unless its body names one
    own_locale: str | None  # the instructor's own language; None: the brand's

    @property
    def rules(self) -> SchedulingRules:
        return SchedulingRules(
            buffer_minutes=self.settings.buffer_minutes,
            advance_booking_days=self.settings.advance_booking_days,
            min_notice_minutes=self.settings.min_notice_minutes,
            max_bookings_per_day=self.settings.max_bookings_per_day,
            max_bookings_per_week=self.settings.max_bookings_per_week,
            slot_interval_minutes=self.settings.slot_interval_minutes,
        )


def _instructor_in_brand_query(*, for_booking: bool) -> Select[Any]:
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
        Instructor.locale.label("own_locale"),
        Instructor.active,
        InstructorBrand.brand_id,
        *(getattr(SchedulingSettings, name) for name in SETTING_COLUMNS),
        Brand.max_pending_per_student.label("pending_cap"),
        Brand.currency,
        Brand.name.label("brand_name"),
        Brand.locale.label("brand_locale"),
    ]
    query = select(*columns).where(Instructor.id == bindparam("instructor_id"))
    if for_booking:
        # Share-lock the link (PostgreSQL) so that an unlink waits for the booking's commit.
        query = query.join(InstructorBrand, link_matches).with_for_update(read=True, of=InstructorBrand)
    else:
        query = query.outerjoin(InstructorBrand, link_matches)
    # The brand's row once, for its pending cap and its currency (none: an unknown brand).
    query = query.outerjoin(SchedulingSettings, settings_match)
    return query.outerjoin(Brand, Brand.id == bindparam("brand_id"))


INSTRUCTOR_SEEN_FROM_BRAND = HotStatement(_instructor_in_brand_query(for_booking=False))
INSTRUCTOR_LINKED_FOR_BOOKING = HotStatement(_instructor_in_brand_query(for_booking=True))

WEEKLY = "weekly"  # the kind of a weekly rule's row in RULES; overrides carry their own kind
RULES = HotStatement(
    union_all(
        select(
            literal(WEEKLY, String).label("kind"),
            WeeklyRule.weekday,
            cast(null(), Date).label("date"),
            WeeklyRule.start_minute,
            WeeklyRule.end_minute,
        ).where(
            WeeklyRule.instructor_id == bindparam("instructor_id"),
            WeeklyRule.brand_id == bindparam("brand_id"),
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
)

# Whether a hold has expired and whether the booking is in the asking brand are answered by the database
# as two booleans: converting each row's instant and UUID in Python costs more than the read itself.
# The instructor's busy-calendar time comes in the same statement (one round trip), flagged `external`.
BUSY = HotStatement(
    union_all(
        select(
            Booking.starts_at,
            Booking.blocked_until,
            func.coalesce(Booking.hold_expires_at <= bindparam("now", type_=UTCDateTime()), False).label(
                "expired"
            ),
            (Booking.brand_id == bindparam("brand_id", type_=Uuid())).label("in_brand"),
            false().label("external"),
        ).where(
            Booking.instructor_id == bindparam("instructor_id"),
            status_is(*ACTIVE_STATUSES),
            Booking.starts_at < bindparam("until", type_=UTCDateTime()),
            Booking.starts_at > bindparam("earliest", type_=UTCDateTime()),
            Booking.blocked_until > bindparam("since", type_=UTCDateTime()),
        ),
        select(BusyInterval.starts_at, BusyInterval.ends_at, false(), false(), true()).where(
            BusyInterval.instructor_id == bindparam("instructor_id"),
            BusyInterval.starts_at < bindparam("until", type_=UTCDateTime()),
            BusyInterval.starts_at > bindparam("earliest_piece", type_=UTCDateTime()),
            BusyInterval.ends_at > bindparam("since", type_=UTCDateTime()),
        ),
    )
)


async def instructor_in_brand(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, *, for_booking: bool = False
) -> InstructorInBrand | None:
    """One query; with `for_booking`, None unless the instructor is linked (and the link locked)."""
    params = {"instructor_id": instructor_id, "brand_id": brand_id}
    query = INSTRUCTOR_LINKED_FOR_BOOKING if for_booking else INSTRUCTOR_SEEN_FROM_BRAND
    row = await query.first(session, params)
    if row is None:
        return None
    settings = DEFAULT_SETTINGS
    if row.buffer_minutes is not None:
        # Stored settings were validated when saved: no second validation per booking.
        settings = SettingsOut.model_construct(**{name: getattr(row, name) for name in SETTING_COLUMNS})
    return InstructorInBrand(
        id=row.id,
        brand_id=brand_id,
        name=row.name,
        email=row.email,
        timezone=row.timezone,
        active=row.active,
        linked=row.brand_id is not None,
        settings=settings,
        pending_cap=row.pending_cap,
        currency=row.currency or DEFAULT_CURRENCY,
        brand_name=row.brand_name or "",
        brand_locale=row.brand_locale or DEFAULT_LOCALE,
        own_locale=row.own_locale,
    )


async def scheduling_rules(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, first: date, last: date
) -> tuple[list[WeeklyWindow], list[OverrideRule]]:
    """Weekly rules and the overrides dated first..last, in one query."""
    params = {"instructor_id": instructor_id, "brand_id": brand_id, "first": first, "last": last}
    windows: list[WeeklyWindow] = []
    dated: list[OverrideRule] = []
    for rule in await RULES.rows(session, params):
        if rule.kind == WEEKLY:
            windows.append(WeeklyWindow(rule.weekday, rule.start_minute, rule.end_minute))
        elif rule.kind == "custom":
            dated.append(OverrideRule(_as_date(rule.date), "custom", rule.start_minute, rule.end_minute))
        else:
            dated.append(OverrideRule(_as_date(rule.date), "blocked"))
    return windows, dated


def _as_date(value: date | str) -> date:
    # A NULL-typed column in a UNION loses its type on SQLite, which then hands back ISO text.
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass(frozen=True)
class BusyTime:
    """What the instructor's active bookings mean for a span, as of `now`.

    `index`: the time that blocks (every brand; expired holds left out). `external`: the instructor's
    busy-calendar time, which blocks without buffer. `expired`: the expired holds
    that still sit in the database guard, to be cancelled by a booking that takes their time.
    `counted`: starts of this brand's bookings that count against its caps, within `counted_span`.
    """

    index: BusyIndex
    external: BusyIndex
    expired: tuple[Interval, ...]
    counted: tuple[datetime, ...]


async def busy_time(
    session: AsyncSession,
    instructor_id: UUID,
    brand_id: UUID,
    span: Interval,
    rules: SchedulingRules,
    now: datetime,
    counted_span: Interval | None = None,
    moving: Interval | None = None,
) -> BusyTime:
    """Active bookings of the instructor in every brand that could collide with a session in `span`,
    and, given a `counted_span`, this brand's bookings starting in it (one read serves both).

    `moving` is the [start, blocked_until) of a booking being rescheduled: it neither blocks nor counts.
    The overlap guard keeps two active bookings of one instructor from sharing any instant, so that
    interval names one row.
    """
    since, until = span.start, span.end + rules.buffer
    if counted_span is not None:
        since, until = min(since, counted_span.start), max(until, counted_span.end)
    params = {
        "instructor_id": instructor_id,
        "until": until,
        "earliest": since - LONGEST_BLOCK,
        # Busy-calendar time (SPEC §13) is stored in pieces of at most PIECE: the same kind of lower bound.
        "earliest_piece": since - PIECE,
        "since": since,
        "now": now,
        "brand_id": brand_id,
    }
    blocking: list[Interval] = []
    external: list[Interval] = []
    expired: list[Interval] = []
    counted: list[datetime] = []
    for row in await BUSY.rows(session, params):
        interval = Interval(row.starts_at, row.blocked_until)
        if row.external:
            external.append(interval)
            continue
        if moving is not None and interval == moving:
            continue
        if row.expired:
            expired.append(interval)
            continue
        blocking.append(interval)
        if counted_span is not None and row.in_brand and counted_span.holds(row.starts_at):
            counted.append(row.starts_at)
    return BusyTime(BusyIndex.of(blocking), BusyIndex.of(external), tuple(expired), tuple(counted))


# A pending series counts once toward the cap (its occurrences share one payment and one hold).
PENDING_OF_STUDENT = HotStatement(
    select(func.count(func.distinct(func.coalesce(Booking.series_id, Booking.id))).label("pending")).where(
        Booking.student_id == bindparam("student_id"),
        Booking.brand_id == bindparam("brand_id"),
        status_is(BookingStatus.PENDING),
        or_(
            Booking.hold_expires_at.is_(None),
            Booking.hold_expires_at > bindparam("now", type_=UTCDateTime()),
        ),
    )
)


async def pending_count_of(session: AsyncSession, student_id: UUID, brand_id: UUID, now: datetime) -> int:
    """The student's pending bookings in the brand whose hold has not expired, a series counting once."""
    params = {"student_id": student_id, "brand_id": brand_id, "now": now}
    return int((await PENDING_OF_STUDENT.first(session, params)).pending)


async def scheduling_settings(session: AsyncSession, instructor_id: UUID, brand_id: UUID) -> SettingsOut:
    """The settings of an instructor in a brand; the defaults until they are first saved."""
    row = await session.get(SchedulingSettings, (instructor_id, brand_id))
    return DEFAULT_SETTINGS if row is None else SettingsOut.model_validate(row)


# What blocks one session, named (the "why not?" of a time): the instructor's active bookings in every
# brand, expired holds left out, and the busy-calendar pieces; bounded by the same indexes as BUSY.
BLOCKERS = HotStatement(
    union_all(
        select(
            Booking.id,
            Booking.starts_at,
            Booking.blocked_until.label("ends_at"),
            Booking.brand_id,
            false().label("external"),
        ).where(
            Booking.instructor_id == bindparam("instructor_id"),
            status_is(*ACTIVE_STATUSES),
            Booking.starts_at < bindparam("until_booked", type_=UTCDateTime()),
            Booking.starts_at > bindparam("earliest", type_=UTCDateTime()),
            Booking.blocked_until > bindparam("since", type_=UTCDateTime()),
            or_(
                Booking.hold_expires_at.is_(None),
                Booking.hold_expires_at > bindparam("now", type_=UTCDateTime()),
            ),
        ),
        select(
            BusyInterval.calendar_id, BusyInterval.starts_at, BusyInterval.ends_at, cast(null(), Uuid), true()
        ).where(
            BusyInterval.instructor_id == bindparam("instructor_id"),
            BusyInterval.starts_at < bindparam("until_busy", type_=UTCDateTime()),
            BusyInterval.starts_at > bindparam("earliest_piece", type_=UTCDateTime()),
            BusyInterval.ends_at > bindparam("since", type_=UTCDateTime()),
        ),
    )
)


@dataclass(frozen=True)
class Blocker:
    """A booking ([starts_at, blocked_until) as `ends_at`) or a busy-calendar piece (`id`: its calendar's)."""

    id: UUID
    starts_at: datetime
    ends_at: datetime
    brand_id: UUID | None
    external: bool


async def blockers_of(
    session: AsyncSession, instructor_id: UUID, session_time: Interval, buffer: timedelta, now: datetime
) -> list[Blocker]:
    """The active bookings (any brand) that meet [start, end + buffer) and the busy-calendar time that
    meets [start, end): what makes `rejection` answer slot_unavailable, ordered by start."""
    since = session_time.start
    params = {
        "instructor_id": instructor_id,
        "since": since,
        "until_booked": session_time.end + buffer,
        "until_busy": session_time.end,
        "earliest": since - LONGEST_BLOCK,
        "earliest_piece": since - PIECE,
        "now": now,
    }
    rows = await BLOCKERS.rows(session, params)
    found = [Blocker(row.id, row.starts_at, row.ends_at, row.brand_id, bool(row.external)) for row in rows]
    return sorted(found, key=lambda blocker: (blocker.starts_at, blocker.ends_at))
