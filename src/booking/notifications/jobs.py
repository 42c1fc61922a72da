"""The worker's message job: outbox messages whose first attempt never ran, and retries, are sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists

from booking.db import Database
from booking.notifications import outbox
from booking.notifications.notifier import Notifier
from booking.worker import Job

MESSAGES_PER_PASS = 20


async def send_due_messages(
    db: Database, notifier: Notifier, now: datetime, limit: int = MESSAGES_PER_PASS
) -> int:
    """Attempt the outbox messages that are due; answers how many were attempted."""
    async with db.transaction(write=True) as session:
        claimed = await outbox.claim_due(session, now, limit)
        claimed = await outbox.skip_reached(session, claimed)
    attempted = 0
    while claimed:  # a second round for the fallback emails of texts that failed
        await notifier.deliver(claimed)
        attempted += len(claimed)
        async with db.transaction(write=True) as session:
            released = await outbox.settle(session, claimed, now)
            claimed = await outbox.take_released(session, released, now)
    return attempted


def any_message_due(now: datetime) -> ColumnElement[bool]:
    """For the worker's idle check: one probe of ix_outbox_messages_due."""
    return exists().where(outbox.due_for_attempt(now))


def message_jobs(db: Database, notifier: Notifier) -> list[Job]:
    return [
        Job(
            "messages",
            lambda now: send_due_messages(db, notifier, now),
            any_message_due,
            batch=MESSAGES_PER_PASS,
        )
    ]
