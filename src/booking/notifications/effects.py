"""The messages effect: what a change has to say, stored with it and sent after its commit.

Messages whose outcome is known before anything is sent (no address, provider not configured) are
logged in the change's transaction; the others are written to the outbox there. After the commit the
request makes the first attempt (marked `sending` first, so that a process dying mid-attempt never
leads to a second text) and settles them, with the bookkeeping that needs their outcome, in one
transaction; what fails here is the worker's to finish.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import Database
from booking.notifications import outbox
from booking.notifications.notifier import Notifier, Outgoing
from booking.notifications.repository import add_log_rows
from booking.notifications.results import failed, skipped
from booking.unit_of_work import Change

log = logging.getLogger(__name__)

AfterDelivery = Callable[[AsyncSession], Awaitable[None]]
QUEUED_FOR_WORKER = "not sent yet: queued for the background worker"


class Messages:
    """The messages of one change, composed with `notifier` and sent through it."""

    def __init__(self, db: Database, notifier: Notifier) -> None:
        self.db = db
        self.notifier = notifier
        self._outgoing: list[Outgoing] = []
        self._after_delivery: list[AfterDelivery] = []

    def send(self, *outgoing: Outgoing) -> None:
        """Messages this change causes: delivered after the commit, never for a rolled-back change."""
        self._outgoing.extend(outgoing)

    def after_delivery(self, step: AfterDelivery) -> None:
        """Bookkeeping that needs the delivery outcomes, run in the transaction that logs them."""
        self._after_delivery.append(step)

    def begin(self, session: AsyncSession) -> None:
        """Nothing to watch: what a change records is handed over explicitly."""

    def reset(self) -> None:
        self._outgoing.clear()
        self._after_delivery.clear()

    async def store(self, session: AsyncSession, change: Change) -> None:
        await add_log_rows(session, [item for item in self._outgoing if not item.waiting], change.now)
        waiting = [item for item in self._outgoing if item.waiting]
        await outbox.queue(session, waiting, change.id, change.now)

    async def after_commit(self, change: Change) -> None:
        """The first attempt at the change's messages; a held fallback email goes in a second round,
        when its text failed in the first."""
        held = {item.id: item for item in self._outgoing if item.waiting and item.fallback_of is not None}
        waiting = [item for item in self._outgoing if item.waiting and item.fallback_of is None]
        while waiting:
            waiting = await self._attempt(waiting, held, change)
        for item in held.values():
            if item.waiting:  # its text went out
                item.result = skipped(outbox.FALLBACK_NOT_NEEDED)

    async def _attempt(
        self, waiting: list[Outgoing], held: dict[UUID, Outgoing], change: Change
    ) -> list[Outgoing]:
        """One round: mark, send, settle; answers the fallbacks released for the next round."""
        taken: set[UUID] = set()
        try:
            async with self.db.transaction(write=True) as session:
                taken = await outbox.mark_sending(session, [item.id for item in waiting], change.now)
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
                released = await outbox.settle(session, waiting, change.now, siblings=bool(held))
                if not released:
                    for step in self._after_delivery:
                        await step(session)
        except Exception:  # the change is committed and the messages went out: the answer stands
            log.exception("could not record the deliveries of a committed change")
        return [held[message_id] for message_id in released if message_id in held]
