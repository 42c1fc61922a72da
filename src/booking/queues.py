"""What the worker's queues hold: one cheap read per queue, served by the queue's partial index.

An idle worker asks these in one read transaction and takes no write lock at all (on SQLite, a write
transaction per queue every second would queue up behind the requests' writers for nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.bookings.repository import any_expired_hold
from booking.calendars.repository import any_calendar_due
from booking.models import Event, WebhookDelivery, WebhookEndpoint
from booking.notifications import outbox
from booking.webhooks import repository as delivery_repository


@dataclass(frozen=True)
class DueWork:
    events: bool
    deliveries: bool
    messages: bool
    holds: bool = False
    calendars: bool = False


async def due_work(session: AsyncSession, now: datetime) -> DueWork:
    undispatched = exists().where(Event.dispatched_at.is_(None))
    deliveries_due = exists().where(
        delivery_repository.due_for_attempt(now),
        WebhookEndpoint.id == WebhookDelivery.endpoint_id,
        WebhookEndpoint.enabled.is_(True),
    )
    messages_due = exists().where(outbox.due_for_attempt(now))
    row = (
        await session.execute(
            select(undispatched, deliveries_due, messages_due, any_expired_hold(now), any_calendar_due(now))
        )
    ).one()
    return DueWork(*(bool(value) for value in row))
