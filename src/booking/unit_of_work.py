"""One owner of a change's transaction and of what the change causes after it.

A write runs as `UnitOfWork.run(change)`: the change gets the session, checks its rules, writes, and
collects the messages it causes (`send`) and any bookkeeping that must wait for their outcome
(`after_delivery`). The unit of work commits (running the whole change again when PostgreSQL aborted
it for a concurrent one), then makes the first delivery attempt of the collected messages and logs
every attempt, with the bookkeeping, in one transaction after the commit. A change that rolled back
causes nothing.

Where the collected effects are kept is this module's business alone: today the messages that are
already decided (skipped) are logged inside the change's transaction and the rest live in memory until
the commit; a durable outbox stores them all as rows in that same transaction instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import Database, retrying
from booking.notifications.notifier import Notifier, Outgoing
from booking.notifications.repository import add_log_rows

log = logging.getLogger(__name__)

T = TypeVar("T")
AfterDelivery = Callable[[AsyncSession], Awaitable[None]]


class UnitOfWork:
    def __init__(self, db: Database, notifier: Notifier, now: datetime) -> None:
        self.db = db
        self.notifier = notifier
        self.now = now
        self._session: AsyncSession | None = None
        self._outgoing: list[Outgoing] = []
        self._after_delivery: list[AfterDelivery] = []

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "the session exists only while run() runs the change"
        return self._session

    def send(self, *outgoing: Outgoing) -> None:
        """Messages this change causes: delivered after the commit, never for a rolled-back change."""
        self._outgoing.extend(outgoing)

    def after_delivery(self, step: AfterDelivery) -> None:
        """Bookkeeping that needs the delivery outcomes, run in the transaction that logs them."""
        self._after_delivery.append(step)

    async def run(self, change: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `change` in one write transaction, commit, then dispatch what it collected."""

        async def attempt() -> T:
            self._outgoing.clear()
            self._after_delivery.clear()
            async with self.db.transaction(write=True) as session:
                self._session = session
                try:
                    result = await change(self)
                    await add_log_rows(
                        session, [item for item in self._outgoing if not item.waiting], self.now
                    )
                finally:
                    self._session = None
            return result

        result = await retrying(attempt)
        await self._dispatch()
        return result

    async def _dispatch(self) -> None:
        waiting = [item for item in self._outgoing if item.waiting]
        if not waiting:
            return
        await self.notifier.deliver(waiting)
        try:
            async with self.db.transaction(write=True) as session:
                await add_log_rows(session, waiting, self.now)
                for step in self._after_delivery:
                    await step(session)
        except Exception:  # the change is committed and the messages went out: the answer stands
            log.exception("could not log the deliveries of a committed change")
