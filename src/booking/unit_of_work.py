"""One owner of a change's transaction and of what the change causes after it.

A write runs as `UnitOfWork.run(change)`: the change gets the session, checks its rules, writes, and
records what it causes on the unit of work's effects (`work.effect(Events).emit(...)`,
`work.effect(Messages).send(...)`). An effect is anything a change causes beyond its own rows: events,
messages, and whatever a later room adds (an audit row, a queued refund) without a line here. Before the
commit, in the change's own transaction, each effect stores what it recorded (event rows, outbox rows,
log rows); so a committed change always has its effects, even if the process dies right after the
commit, and a rolled-back change has none. After the commit each effect carries on (the first attempt
at the messages, waking the worker); the worker does everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from booking.db import Database, retrying

log = logging.getLogger(__name__)

T = TypeVar("T")
E = TypeVar("E", bound="Effect")


class Effect(Protocol):
    """What a change causes: recorded while it runs, stored in its transaction, carried on after it."""

    def begin(self, session: AsyncSession) -> None:
        """The change's transaction has begun (the audit watches its session's flushes)."""

    def reset(self) -> None:
        """Forget what was recorded: a retried change starts again from nothing."""

    async def store(self, session: AsyncSession, change: Change) -> None:
        """Write what was recorded, in the change's own transaction, just before its commit."""

    async def after_commit(self, change: Change) -> None:
        """What follows a commit; never fails the change (it is committed)."""


class Change:
    """Who a change is, for its effects: its id (shared by everything it causes) and its `now`."""

    __slots__ = ("id", "now")

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.id: UUID = uuid4()


class UnitOfWork:
    def __init__(self, db: Database, now: datetime, effects: Iterable[Effect] = ()) -> None:
        self.db = db
        self.now = now
        self.change = Change(now)
        self._effects: dict[type, Effect] = {}
        for effect in effects:
            if type(effect) in self._effects:
                raise ValueError(f"two {type(effect).__name__} effects in one unit of work")
            self._effects[type(effect)] = effect
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None, "the session exists only while run() runs the change"
        return self._session

    def effect(self, kind: type[E]) -> E:
        """This unit of work's effect of that kind, to record on."""
        effect = self._effects.get(kind)
        if effect is None:  # a specialised effect (a test's) answers for the kind it specialises
            effect = next((found for found in self._effects.values() if isinstance(found, kind)), None)
        if not isinstance(effect, kind):
            raise LookupError(f"this unit of work records no {kind.__name__}")
        return effect

    async def run(self, change: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run `change` in one write transaction, store its effects, commit, then carry them on."""

        async def attempt() -> T:
            self._forget()
            async with self.db.transaction(write=True) as session:
                self._session = session
                for effect in self._effects.values():
                    effect.begin(session)
                try:
                    result = await change(self)
                    for effect in self._effects.values():
                        await effect.store(session, self.change)
                finally:
                    self._session = None
            return result

        result = await retrying(attempt)
        for effect in self._effects.values():
            try:
                await effect.after_commit(self.change)
            except Exception:  # the change is committed: what failed after it is logged, not answered
                log.exception("%s failed after a committed change", type(effect).__name__)
        return result

    def _forget(self) -> None:
        self.change = Change(self.now)
        for effect in self._effects.values():
            effect.reset()
