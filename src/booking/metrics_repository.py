"""The queue reads of GET /metrics: how many jobs wait in each queue, and since when.

One statement per queue, each answered from the queue's partial index (`ix_events_undispatched`,
`ix_webhook_deliveries_due`, `ix_outbox_messages_due`, `ix_payment_tasks_due`): the statuses are written
into the SQL, not sent as parameters, so that SQLite and a prepared statement's generic plan on
PostgreSQL can see that the filter implies the index's `WHERE`. A scrape reads index entries of waiting
jobs only, never history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import OPEN_MESSAGE_STATES, WebhookDeliveryStatus
from booking.models.base import one_of
from booking.models.events import Event
from booking.models.notifications import OutboxMessage
from booking.models.payments import PaymentTask
from booking.models.webhooks import WebhookDelivery

EVENTS = "events"
WEBHOOK_DELIVERIES = "webhook_deliveries"
OUTBOX_MESSAGES = "outbox_messages"
PAYMENT_TASKS = "payment_tasks"


@dataclass(frozen=True)
class Backlog:
    queue: str  # the table
    queued: int  # jobs due now
    oldest_due_at: datetime | None  # when the longest-waiting of them became due; None when empty


def _undispatched_events() -> Select[int, datetime | None]:
    # An event is due as soon as it is committed: its wait starts at created_at.
    return select(func.count(), func.min(Event.created_at)).where(Event.dispatched_at.is_(None))


def _due_deliveries() -> Select[int, datetime | None]:
    return select(func.count(), func.min(WebhookDelivery.next_attempt_at)).where(
        one_of(WebhookDelivery.status, [WebhookDeliveryStatus.PENDING]),
        WebhookDelivery.next_attempt_at <= bindparam("now"),
    )


def _due_messages() -> Select[int, datetime | None]:
    return select(func.count(), func.min(OutboxMessage.next_attempt_at)).where(
        one_of(OutboxMessage.status, OPEN_MESSAGE_STATES),
        OutboxMessage.next_attempt_at <= bindparam("now"),
    )


def _due_payment_tasks() -> Select[int, datetime | None]:
    return select(func.count(), func.min(PaymentTask.next_attempt_at)).where(
        PaymentTask.done_at.is_(None), PaymentTask.next_attempt_at <= bindparam("now")
    )


QUEUE_STATEMENTS: tuple[tuple[str, Select[int, datetime | None]], ...] = (
    (EVENTS, _undispatched_events()),
    (WEBHOOK_DELIVERIES, _due_deliveries()),
    (OUTBOX_MESSAGES, _due_messages()),
    (PAYMENT_TASKS, _due_payment_tasks()),
)


async def backlogs(session: AsyncSession, now: datetime) -> list[Backlog]:
    """Each queue's jobs due at `now` (events: every undispatched one) and the oldest's due time."""
    found = []
    for queue, statement in QUEUE_STATEMENTS:
        # The events statement has no `now`: an unused parameter is ignored.
        row = (await session.execute(statement, {"now": now})).one()
        found.append(Backlog(queue, int(row[0]), row[1]))
    return found
