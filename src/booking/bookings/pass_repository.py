"""The queries of spending a pass: read it locked, take sessions from it under a guard, give one back."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Row, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models.packages import Pass


async def pass_for_update(session: AsyncSession, pass_id: UUID) -> Pass | None:
    """The pass, row-locked until the transaction ends (PostgreSQL; SQLite's write lock serialises):
    concurrent bookings paying with it judge it one after another."""
    return await session.get(Pass, pass_id, with_for_update=True, populate_existing=True)


async def take_sessions(session: AsyncSession, pass_id: UUID, count: int, now: datetime) -> bool:
    """`sessions_left` falls by `count` only if it has that many (the guard in the UPDATE itself, and
    the table's CHECK under it): False when it has not, and nothing changed."""
    statement = (
        update(Pass)
        .where(Pass.id == pass_id, Pass.sessions_left >= count)
        .values(sessions_left=Pass.sessions_left - count, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def give_back_session(
    session: AsyncSession, pass_id: UUID, now: datetime
) -> Row[UUID, UUID, UUID, int] | None:
    """One session back, never more than the pass was sold with; `valid_until` stays. The pass as it
    is now (its id, brand, student and sessions left), or None when nothing was given back."""
    statement = (
        update(Pass)
        .where(Pass.id == pass_id, Pass.sessions_left < Pass.sessions_total)
        .values(sessions_left=Pass.sessions_left + 1, updated_at=now)
        .returning(Pass.id, Pass.brand_id, Pass.student_id, Pass.sessions_left)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first()
