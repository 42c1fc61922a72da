"""The events effect: what a change tells the outside world, stored as `events` rows in its transaction.

The webhooks room fans the rows out to its endpoints later (a worker job); here they are only recorded,
and this process's worker is woken after the commit so that deliveries start at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.driver import HotStatement
from booking.enums import EventType
from booking.models.events import Event
from booking.unit_of_work import Change

INSERT_EVENT = HotStatement(insert(Event))


class Events:
    """The events of one change; `wake_worker` tells this process's worker that some are waiting."""

    __slots__ = ("_recorded", "wake_worker")

    def __init__(self, wake_worker: Callable[[], None] | None = None) -> None:
        self.wake_worker = wake_worker
        self._recorded: list[dict[str, Any]] = []

    def emit(
        self, event_type: EventType, *, brand_id: UUID, booking_id: UUID | None, data: dict[str, Any]
    ) -> None:
        """An event of this change; `data` is the webhook payload's `data` (`booking_id`: None for an
        event about something else than a booking, a pass)."""
        self._recorded.append(
            {
                "id": uuid4(),
                "type": event_type,
                "brand_id": brand_id,
                "booking_id": booking_id,
                "data": orjson.dumps(data).decode(),  # compact, as json.dumps with tight separators
                "dispatched_at": None,
            }
        )

    def begin(self, session: AsyncSession) -> None:
        """Nothing to watch: what a change records is handed over explicitly."""

    def reset(self) -> None:
        self._recorded.clear()

    async def store(self, session: AsyncSession, change: Change) -> None:
        for row in self._recorded:
            row["created_at"] = change.now
        await INSERT_EVENT.execute_many(session, self._recorded)

    async def after_commit(self, change: Change) -> None:
        if self._recorded and self.wake_worker is not None:
            self.wake_worker()
