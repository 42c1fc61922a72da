"""One owner of a change's transaction and of what the change causes after it.

A write runs as `UnitOfWork.run(change)`: the change gets the session, checks its rules, writes, and
collects what it causes: events (`emit`), messages (`send`) and bookkeeping that must wait for the
messages' outcome (`after_delivery`). Before the commit, in the change's own transaction, the unit of
work stores them: event rows, the outbox rows of the messages to send, and the log rows of messages
that were decided without sending (no address, no provider). So a committed change always has its
events and messages, even if the process dies right after the commit, and a rolled-back change has none.

After the commit the request makes the first attempt at its messages (marked `sending` first, so that a
process dying mid-attempt never leads to a second text) and settles them with the bookkeeping in one
transaction; the worker (`booking.worker`) does everything else: webhook deliveries, retries, and the
messages of a request that never got to try.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import Database, retrying
from booking.driver import HotStatement
from booking.enums import EventType
from booking.models import Event
from booking.notifications import outbox
from booking.notifications.notifier import Notifier, Outgoing
from booking.notifications.repository import add_log_rows
from booking.notifications.results import failed, skipped

log = logging.getLogger(__name__)

T = TypeVar("T")
AfterDelivery = Callable[[AsyncSession], Awaitable[None]]
INSERT_EVENT = HotStatement(insert(Event))
QUEUED_FOR_WORKER = "not sent yet: queued for the background worker"


class UnitOfWork:
    def __init__(
        self, db: Database, notifier: Notifier, now: datetime, wake_worker: Callable[[], None] | None = None
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.now = now
        # Tells this process's worker that events are waiting, so deliveries start at once.
        self.wake_worker = wake_worker
        self.change_id: UUID = uuid4()
        self._session: AsyncSession | None = None
        self._events: list[dict[str, Any]] = []
        self._outgoing: list[Outgoing] = []
        self._after_delivery: list[AfterDelivery] = []

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "the session exists only while run() runs the change"
        return self._session

    def emit(self, event_type: EventType, *, brand_id: UUID, booking_id: UUID, data: dict[str, Any]) -> None:
        """An event of this change (SPEC §12); `data` is the webhook payload's `data`."""
        self._events.append(
            {
                "id": uuid4(),
                "type": event_type,
                "brand_id": brand_id,
                "booking_id": booking_id,
                "data": orjson.dumps(data).decode(),  # compact, as json.dumps with tight separators
                "created_at": self.now,
                "dispatched_at": None,
            }
        )

    def send(self, *outgoing: Outgoing) -> None:
        """Messages this change causes: delivered after the commit, never for a rolled-back change."""
        self._outgoing.extend(outgoing)

    def after_delivery(self, step: AfterDelivery) -> None:
        """Bookkeeping that needs the delivery outcomes, run in the transaction that logs them."""
        self._after_delivery.append(step)

    async def run(self, change: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `change` in one write transaction, commit, then dispatch what it collected."""

        async def attempt() -> T:
            self._forget()
            async with self.db.transaction(write=True) as session:
                self._session = session
                try:
                    result = await change(self)
                    await self._store(session)
                finally:
                    self._session = None
            return result

        result = await retrying(attempt)
        if self._events and self.wake_worker is not None:
            self.wake_worker()
        await self._dispatch()
        return result

    def _forget(self) -> None:
        # A retried change starts again from nothing.
        self.change_id = uuid4()
        self._events.clear()
        self._outgoing.clear()
        self._after_delivery.clear()

    async def _store(self, session: AsyncSession) -> None:
        """What the change caused, in its own transaction."""
        await INSERT_EVENT.execute_many(session, self._events)
        await add_log_rows(session, [item for item in self._outgoing if not item.waiting], self.now)
        await outbox.queue(
            session, [item for item in self._outgoing if item.waiting], self.change_id, self.now
        )

    async def _dispatch(self) -> None:
        """The first attempt at the change's messages; what fails here is the worker's to finish.

        A held fallback email goes in a second round, when its text failed in the first.
        """
        held = {item.id: item for item in self._outgoing if item.waiting and item.fallback_of is not None}
        waiting = [item for item in self._outgoing if item.waiting and item.fallback_of is None]
        while waiting:
            waiting = await self._attempt(waiting, held)
        for item in held.values():
            if item.waiting:  # its text went out
                item.result = skipped(outbox.FALLBACK_NOT_NEEDED)

    async def _attempt(self, waiting: list[Outgoing], held: dict[UUID, Outgoing]) -> list[Outgoing]:
        """One round: mark, send, settle; answers the fallbacks released for the next round."""
        taken: set[UUID] = set()
        try:
            async with self.db.transaction(write=True) as session:
                taken = await outbox.mark_sending(session, [item.id for item in waiting], self.now)
        except Exception:  # still queued: the worker sends them once their lease runs out
            log.exception("could not start sending the messages of a committed change")
        for item in waiting:
            if item.id not in taken:
                item.result = failed(QUEUED_FOR_WORKER)
        waiting = [item for item in waiting if item.id in taken]
        if not waiting:
            return []
        await self.notifier.deliver(waiting)
        released: set[UUID] = set()
        try:
            async with self.db.transaction(write=True) as session:
                # Without a held fallback, the first round holds every message of the change.
                released = await outbox.settle(session, waiting, self.now, siblings=bool(held))
                if not released:
                    for step in self._after_delivery:
                        await step(session)
        except Exception:  # the change is committed and the messages went out: the answer stands
            log.exception("could not record the deliveries of a committed change")
        return [held[message_id] for message_id in released if message_id in held]
