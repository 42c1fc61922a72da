"""The payments room's queries: a booking's Checkout Sessions, the payment task queue, the Stripe event
ids already applied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import CheckoutStatus
from booking.models.payments import CheckoutSession, PaymentTask, StripeEvent

RECORD_EVENT = {
    "postgresql": postgresql.insert(StripeEvent).on_conflict_do_nothing(index_elements=["id"]),
    "sqlite": sqlite.insert(StripeEvent).on_conflict_do_nothing(index_elements=["id"]),
}


# --- checkout sessions ------------------------------------------------------------------------------


def sessions_of(kind: str, owner_id: UUID) -> ColumnElement[bool]:
    """The sessions of one booking, series or pass (`kind`)."""
    column = {"booking": CheckoutSession.booking_id, "series": CheckoutSession.series_id}.get(
        kind, CheckoutSession.pass_id
    )
    return column == owner_id


async def open_session(
    session: AsyncSession, owner: ColumnElement[bool], now: datetime
) -> CheckoutSession | None:
    """The session a student may still pay through (of the `owner`, see `sessions_of`): open and not
    past its expiry, or with a delayed payment on its way (a second session could charge twice)."""
    payable = or_(
        and_(CheckoutSession.status == CheckoutStatus.OPEN, CheckoutSession.expires_at > now),
        CheckoutSession.status == CheckoutStatus.PROCESSING,
    )
    query = select(CheckoutSession).where(owner, payable).order_by(CheckoutSession.created_at.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def session_by_id(session: AsyncSession, session_id: str) -> CheckoutSession | None:
    return await session.get(CheckoutSession, session_id)


async def latest_session(session: AsyncSession, owner: ColumnElement[bool]) -> CheckoutSession | None:
    query = select(CheckoutSession).where(owner).order_by(CheckoutSession.created_at.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


async def count_sessions(session: AsyncSession, owner: ColumnElement[bool]) -> int:
    query = select(func.count()).where(owner)
    return int((await session.execute(query)).scalar_one())


def add_session(session: AsyncSession, row: CheckoutSession) -> None:
    session.add(row)


async def set_session_status(session: AsyncSession, session_id: str, status: CheckoutStatus) -> None:
    await session.execute(
        update(CheckoutSession).where(CheckoutSession.id == session_id).values(status=status)
    )


# --- payment tasks ----------------------------------------------------------------------------------


def is_due(now: datetime) -> ColumnElement[bool]:
    return and_(PaymentTask.done_at.is_(None), PaymentTask.next_attempt_at <= now)


def any_task_due(now: datetime) -> ColumnElement[bool]:
    """For the worker's idle check (ix_payment_tasks_due)."""
    return exists().where(is_due(now))


async def queue_tasks(session: AsyncSession, rows: Sequence[PaymentTask]) -> None:
    session.add_all(rows)
    await session.flush()


async def claim_due_tasks(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> Sequence[PaymentTask]:
    """Due tasks, oldest due first, leased until `lease_until` (their next attempt moved there: a worker
    dying mid-call leaves them due again then). SKIP LOCKED on PostgreSQL; SQLite's write lock serialises."""
    query = (
        select(PaymentTask)
        .where(is_due(now))
        .order_by(PaymentTask.next_attempt_at, PaymentTask.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    tasks = (await session.execute(query)).scalars().all()
    for task in tasks:
        task.next_attempt_at = lease_until
    await session.flush()
    return tasks


async def task_by_id(session: AsyncSession, task_id: UUID) -> PaymentTask | None:
    return await session.get(PaymentTask, task_id, with_for_update=True)


# --- Stripe events ----------------------------------------------------------------------------------


async def claim_event(session: AsyncSession, event_id: str, event_type: str, now: datetime) -> bool:
    """Record a Stripe event id in the transaction that applies it; False: it was applied before."""
    dialect = session.get_bind().dialect.name
    values: dict[str, Any] = {"id": event_id, "type": event_type, "received_at": now}
    statement = RECORD_EVENT[dialect].values(values).returning(StripeEvent.id)
    return (await session.execute(statement)).first() is not None
