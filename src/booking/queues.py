"""What the worker's queues hold: one cheap read per queue, served by the queue's partial index.

An idle worker asks these in one read transaction and takes no write lock at all (on SQLite, a write
transaction per queue every second would queue up behind the requests' writers for nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import WebhookDeliveryStatus
from booking.models import Event, OutboxMessage, WebhookDelivery, WebhookEndpoint, one_of
from booking.notifications import outbox


@dataclass(frozen=True)
class DueWork:
    events: bool
    deliveries: bool
    messages: bool

    @property
    def any(self) -> bool:
        return self.events or self.deliveries or self.messages


async def due_work(session: AsyncSession, now: datetime) -> DueWork:
    undispatched = exists().where(Event.dispatched_at.is_(None))
    deliveries_due = (
        exists()
        .where(
            one_of(WebhookDelivery.status, [WebhookDeliveryStatus.PENDING]),
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
        )
        .where(WebhookEndpoint.id == WebhookDelivery.endpoint_id, WebhookEndpoint.enabled.is_(True))
    )
    messages_due = exists().where(
        one_of(OutboxMessage.status, outbox.OPEN),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
    )
    row = (await session.execute(select(undispatched, deliveries_due, messages_due))).one()
    return DueWork(events=bool(row[0]), deliveries=bool(row[1]), messages=bool(row[2]))
