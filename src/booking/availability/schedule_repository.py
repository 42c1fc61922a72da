"""The queries that edit an instructor's schedule in a brand: weekly hours, date overrides, settings.

Apart from `repository`, whose reads are on the slot and booking path."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from sqlalchemy import (
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from booking.availability.schemas import DEFAULT_SETTINGS, OverrideIn, WeeklyWindowIn
from booking.models.availability import DateOverride, SchedulingSettings, WeeklyRule


async def settings_row(session: AsyncSession, instructor_id: UUID, brand_id: UUID) -> SchedulingSettings:
    """The stored settings row, added with the defaults when there is none yet."""
    row = await session.get(SchedulingSettings, (instructor_id, brand_id))
    if row is None:
        row = SchedulingSettings(
            instructor_id=instructor_id, brand_id=brand_id, **DEFAULT_SETTINGS.model_dump()
        )
        session.add(row)
    return row


async def weekly_rules_of(session: AsyncSession, instructor_id: UUID, brand_id: UUID) -> Sequence[WeeklyRule]:
    query = (
        select(WeeklyRule)
        .where(WeeklyRule.instructor_id == instructor_id, WeeklyRule.brand_id == brand_id)
        .order_by(WeeklyRule.weekday, WeeklyRule.start_minute)
    )
    return (await session.scalars(query)).all()


async def overrides_between(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, first: date, last: date | None
) -> Sequence[DateOverride]:
    """Date overrides dated first..last (no end: every later one), by date and start."""
    query = select(DateOverride).where(
        DateOverride.instructor_id == instructor_id,
        DateOverride.brand_id == brand_id,
        DateOverride.date >= first,
    )
    if last is not None:
        query = query.where(DateOverride.date <= last)
    return (await session.scalars(query.order_by(DateOverride.date, DateOverride.start_minute))).all()


async def replace_weekly_rules(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, weekly: Sequence[WeeklyWindowIn]
) -> None:
    await session.execute(
        delete(WeeklyRule).where(WeeklyRule.instructor_id == instructor_id, WeeklyRule.brand_id == brand_id)
    )
    session.add_all(
        WeeklyRule(
            instructor_id=instructor_id,
            brand_id=brand_id,
            weekday=window.weekday,
            start_minute=window.minutes[0],
            end_minute=window.minutes[1],
        )
        for window in weekly
    )


async def replace_overrides(
    session: AsyncSession, instructor_id: UUID, brand_id: UUID, overrides: Sequence[OverrideIn]
) -> None:
    """Each given date loses what it had; `clear` entries leave their date without an override."""
    await session.execute(
        delete(DateOverride).where(
            DateOverride.instructor_id == instructor_id,
            DateOverride.brand_id == brand_id,
            DateOverride.date.in_({o.date for o in overrides}),
        )
    )
    for override in overrides:
        if override.kind == "clear":
            continue
        start, end = override.minutes if override.kind == "custom" else (None, None)
        session.add(
            DateOverride(
                instructor_id=instructor_id,
                brand_id=brand_id,
                date=override.date,
                kind=override.kind,
                start_minute=start,
                end_minute=end,
            )
        )
