"""Every query of webhook endpoints, their deliveries, and the events they are made of."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import EventType, WebhookDeliveryStatus
from booking.models.base import UTCDateTime, one_of
from booking.models.events import Event
from booking.models.webhooks import WebhookDelivery, WebhookEndpoint

INSERT_DELIVERY = insert(WebhookDelivery)


def _pending() -> ColumnElement[bool]:
    # Written into the SQL, not sent as a parameter, so the partial index `WHERE status = 'pending'`
    # matches a prepared statement's generic plan too.
    return one_of(WebhookDelivery.status, [WebhookDeliveryStatus.PENDING])


def due_for_attempt(now: datetime) -> ColumnElement[bool]:
    """Deliveries to attempt now (their endpoint enabled aside): pending, due, and not leased."""
    return and_(
        _pending(),
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
    )


def any_delivery_due(now: datetime) -> ColumnElement[bool]:
    """For the worker's idle check: a delivery due to an enabled endpoint (one probe of its index)."""
    return exists().where(
        due_for_attempt(now),
        WebhookEndpoint.id == WebhookDelivery.endpoint_id,
        WebhookEndpoint.enabled.is_(True),
    )


def any_event_undispatched(now: datetime) -> ColumnElement[bool]:
    """For the worker's idle check: an event not fanned out yet (ix_events_undispatched)."""
    return exists().where(Event.dispatched_at.is_(None))


# --- endpoints ------------------------------------------------------------------------------------


async def endpoints_of_brand(session: AsyncSession, brand_id: UUID) -> Sequence[WebhookEndpoint]:
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.brand_id == brand_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return (await session.scalars(query)).all()


async def endpoint_in_brand(
    session: AsyncSession, brand_id: UUID, endpoint_id: UUID
) -> WebhookEndpoint | None:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.id == endpoint_id, WebhookEndpoint.brand_id == brand_id
    )
    return (await session.scalars(query)).one_or_none()


async def delete_endpoint(session: AsyncSession, endpoint_id: UUID) -> None:
    """The endpoint and, by the foreign key's cascade, every delivery to it."""
    await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))


async def endpoints_of_brands(
    session: AsyncSession, brand_ids: Collection[UUID]
) -> Sequence[WebhookEndpoint]:
    """Every endpoint of these brands, enabled or not, key-share locked on PostgreSQL so that one cannot
    be deleted between this read and the insert of its deliveries."""
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.brand_id.in_(list(brand_ids)))
        .with_for_update(read=True, key_share=True)
    )
    return (await session.scalars(query)).all()


# --- deliveries, as the API shows them ----------------------------------------------------------------


async def deliveries_of(session: AsyncSession, endpoint_id: UUID, limit: int) -> Sequence[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def delivery_of(session: AsyncSession, endpoint_id: UUID, delivery_id: str) -> WebhookDelivery | None:
    query = select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id
    )
    return (await session.scalars(query)).one_or_none()


# --- events into deliveries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Undispatched:
    """What the fan-out of an event needs: not its payload, which the attempts read later."""

    id: UUID
    brand_id: UUID
    type: EventType
    booking_id: UUID | None


async def undispatched_events(session: AsyncSession, limit: int) -> list[Undispatched]:
    """The oldest events not yet fanned out, locked for this transaction (others skip them)."""
    query = (
        select(Event.id, Event.brand_id, Event.type, Event.booking_id)
        .where(Event.dispatched_at.is_(None))
        .order_by(Event.created_at, Event.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [Undispatched(*row) for row in await session.execute(query)]


async def add_deliveries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(INSERT_DELIVERY, list(rows))


async def mark_dispatched(session: AsyncSession, event_ids: Collection[UUID], now: datetime) -> None:
    # On the connection, as Core: no ORM object holds these rows, so no session state to synchronise.
    statement = update(Event).where(Event.id.in_(list(event_ids))).values(dispatched_at=now)
    await (await session.connection()).execute(statement)


# --- the worker's attempts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A delivery leased for one attempt, with all the attempt needs."""

    id: str
    url: str
    secret: str
    event_type: EventType
    event_created_at: datetime
    data: str  # JSON of the payload's `data`
    attempts: int  # before this attempt


async def claim_due(session: AsyncSession, now: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
    """Pending deliveries due by `now` to enabled endpoints and not leased, oldest due first, leased
    until `lease_until`. On PostgreSQL rows another worker is claiming are skipped (SKIP LOCKED); on
    SQLite the write lock serialises claims and the lease does the rest."""
    query = (
        select(
            WebhookDelivery.id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookDelivery.event_type,
            Event.created_at,
            Event.data,
            WebhookDelivery.attempts,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(due_for_attempt(now), WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    claimed = [Claimed(*row) for row in (await session.execute(query)).all()]
    if claimed:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([item.id for item in claimed]))
            .values(locked_until=lease_until)
        )
    return claimed


# One statement for every outcome of a pass, sent as one batch (executemany).
RECORD_ATTEMPT = (
    update(WebhookDelivery)
    .where(WebhookDelivery.id == bindparam("delivery_id"))
    .values(
        attempts=WebhookDelivery.attempts + 1,
        locked_until=None,
        status=bindparam("new_status"),
        last_status_code=bindparam("status_code"),
        last_error=bindparam("error"),
        next_attempt_at=bindparam("next_at", type_=UTCDateTime()),
        delivered_at=func.coalesce(bindparam("delivered", type_=UTCDateTime()), WebhookDelivery.delivered_at),
    )
    .execution_options(synchronize_session=False)
)


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt's outcome, as the deliveries table keeps it."""

    delivery_id: str
    status: WebhookDeliveryStatus
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


async def record_attempts(session: AsyncSession, records: Sequence[AttemptRecord]) -> None:
    """The outcomes of a pass; leases released. A delivery deleted meanwhile is simply not there."""
    if not records:
        return
    params = [
        {
            "delivery_id": record.delivery_id,
            "new_status": record.status,
            "status_code": record.status_code,
            "error": record.error,
            "next_at": record.next_attempt_at,
            "delivered": record.delivered_at,
        }
        for record in records
    ]
    await (await session.connection()).execute(RECORD_ATTEMPT, params)


@dataclass(frozen=True)
class Backlog:
    """Pending deliveries, for the worker's metrics."""

    pending: int  # to enabled endpoints: the worker's to do, now or on their schedule
    paused: int  # to disabled endpoints: waiting for them to be enabled again
    oldest_due_at: datetime | None  # the earliest `next_attempt_at` that is due now (enabled endpoints)


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    enabled = WebhookEndpoint.enabled.is_(True)
    due = WebhookDelivery.next_attempt_at <= now
    query = (
        select(
            func.count().filter(enabled),
            func.count().filter(~enabled),
            func.min(WebhookDelivery.next_attempt_at).filter(enabled, due),
        )
        .select_from(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(_pending())
    )
    pending, paused, oldest = (await session.execute(query)).one()
    return Backlog(int(pending), int(paused), oldest)
