"""The background worker (SPEC §12): the outbox's other end.

One pass (`run_once`) does what is due, each queue claimed so that any number of workers in any number of
processes share it without doing a job twice (PostgreSQL: `FOR UPDATE SKIP LOCKED` and a lease; SQLite:
the single write lock and the same lease):

- events not yet fanned out become one webhook delivery per subscribed endpoint;
- webhook deliveries due (first attempts and retries on their schedule) are attempted;
- messages whose first attempt never ran, and transient failures with no working fallback, are sent;
- expired payment holds are cancelled (their time is already free: this makes it visible and tells
  the student);
- busy calendars due (just saved, or every CALENDAR_SYNC_MINUTES) are fetched and their busy time stored;
- every minute, unless `AUTO_REMINDERS=off`, the due reminders (claimed at most once, as the endpoint does).

`run` repeats passes until told to stop; a stop request lets the current pass finish. A pass that
fails (the database away) is logged and the loop goes on after a pause: the worker never exits on its
own. Tests drive `run_once` with the injectable clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.bookings.holds import HOLDS_PER_PASS, expire_due_holds
from booking.calendars.sync import TIMEOUT_SECONDS as CALENDAR_TIMEOUT_SECONDS
from booking.calendars.sync import sync_due_calendars
from booking.clock import Clock
from booking.config import Settings
from booking.db import Database
from booking.notifications import outbox
from booking.notifications.notifier import Notifier
from booking.notifications.service import send_due_reminders
from booking.outbound import OutboundClient
from booking.queues import due_work
from booking.webhooks.delivery import DELIVERY_LIMIT, DISPATCH_LIMIT, deliver_due, dispatch_events
from booking.webhooks.delivery import TIMEOUT_SECONDS as WEBHOOK_TIMEOUT_SECONDS

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # the first webhook attempt starts within this (SPEC §12 asks for 5 s)
# Woken by a commit, the worker waits this long so that a burst of commits is one pass, not many.
GATHER_SECONDS = 0.2
PAUSE_AFTER_FAILURE_SECONDS = 5.0
REMINDERS_EVERY = timedelta(minutes=1)
MESSAGES_PER_PASS = 20
# Webhook batches attempted at once by one worker (each holds its deliveries' leases).
ATTEMPTS_IN_FLIGHT = 4


@dataclass(frozen=True)
class Pass:
    """What one pass did."""

    events: int = 0
    deliveries: int = 0
    messages: int = 0
    reminders: int = 0
    holds: int = 0
    delivery_batches_started: int = 0  # attempted in the background, not counted in `deliveries`
    calendars: int = 0
    calendar_syncs_started: int = 0  # fetched in the background, not counted in `calendars`

    @property
    def busy(self) -> bool:
        return any(
            (
                self.events,
                self.deliveries,
                self.messages,
                self.reminders,
                self.holds,
                self.delivery_batches_started,
                self.calendars,
                self.calendar_syncs_started,
            )
        )

    @property
    def batch_full(self) -> bool:
        """A queue gave a whole batch: more are likely waiting behind it, so the next pass starts at once.
        A pass that emptied its queues waits instead, for a commit (then GATHER_SECONDS, so that a
        stream of bookings is a few passes a second, not one per booking) or for POLL_SECONDS."""
        return (
            self.events >= DISPATCH_LIMIT
            or self.messages >= MESSAGES_PER_PASS
            or self.holds >= HOLDS_PER_PASS
        )


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


class Worker:
    def __init__(
        self,
        db: Database,
        notifier: Notifier,
        outbound: OutboundClient,
        clock: Clock,
        *,
        reminders: bool = True,
        delivery_timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS,
        calendar_sync_every: timedelta = timedelta(minutes=10),
        calendar_timeout_seconds: float = CALENDAR_TIMEOUT_SECONDS,
    ) -> None:
        self.db = db
        self.delivery_timeout_seconds = delivery_timeout_seconds
        self.notifier = notifier
        self.outbound = outbound
        self.clock = clock
        self.reminders = reminders
        self.calendar_sync_every = calendar_sync_every
        self.calendar_timeout_seconds = calendar_timeout_seconds
        self._sync: asyncio.Task[int] | None = None
        self._reminded_at: datetime | None = None
        self._wake = asyncio.Event()
        self._committed = False  # woken by a commit (gather a burst) rather than by a finished batch
        self._attempts: set[asyncio.Task[int]] = set()

    def wake(self) -> None:
        """Something is waiting (a request just committed events): start the next pass now."""
        self._committed = True
        self._wake.set()

    async def run_once(self, *, wait_for_deliveries: bool = True) -> Pass:
        """One pass. Without `wait_for_deliveries` (the loop), webhook attempts run on in the background,
        so that a receiver that hangs for its 15 s delays neither the next pass's first attempts nor the
        messages; their leases keep two attempts from overlapping."""
        now = self.clock.now()
        async with self.db.transaction(write=False) as session:
            due = await due_work(session, now)
        # Holds first: the events of their cancellations go out in this same pass.
        holds = await expire_due_holds(self.db, self.notifier, now) if due.holds else 0
        events = await dispatch_events(self.db, now) if due.events or holds else 0
        deliveries = started = 0
        # Events just fanned out are due deliveries at once.
        if (due.deliveries or events) and len(self._attempts) < ATTEMPTS_IN_FLIGHT:
            attempt = asyncio.create_task(
                deliver_due(self.db, self.outbound, now, timeout_seconds=self.delivery_timeout_seconds)
            )
            self._attempts.add(attempt)
            attempt.add_done_callback(self._attempt_done)
            if wait_for_deliveries:
                deliveries = await attempt
            else:
                started = 1
        messages = await send_due_messages(self.db, self.notifier, now) if due.messages else 0
        reminders = await self._reminders_if_due(now)
        calendars = syncs = 0
        # One sync at a time per worker, beside the other queues: a feed's server may take its 10 s.
        if due.calendars and (self._sync is None or self._sync.done()):
            self._sync = asyncio.create_task(
                sync_due_calendars(
                    self.db,
                    self.outbound,
                    now,
                    self.calendar_sync_every,
                    timeout_seconds=self.calendar_timeout_seconds,
                )
            )
            self._sync.add_done_callback(_log_failure)
            if wait_for_deliveries:
                calendars = await self._sync
            else:
                syncs = 1
        return Pass(events, deliveries, messages, reminders, holds, started, calendars, syncs)

    @property
    def attempts_in_flight(self) -> frozenset[asyncio.Task[int]]:
        return frozenset(self._attempts)

    def _attempt_done(self, attempt: asyncio.Task[int]) -> None:
        self._attempts.discard(attempt)
        if attempt.cancelled():
            return
        if attempt.exception() is not None:
            log.error("webhook deliveries failed", exc_info=attempt.exception())
        elif attempt.result() >= DELIVERY_LIMIT:
            self._wake.set()  # a full batch: more are likely waiting, and a slot is free again

    async def _reminders_if_due(self, now: datetime) -> int:
        if not self.reminders:
            return 0
        if self._reminded_at is not None and now - self._reminded_at < REMINDERS_EVERY:
            return 0
        self._reminded_at = now
        return len(await send_due_reminders(self.notifier, self.db, now))

    async def run(
        self, stop: asyncio.Event, *, pause_after_failure: float = PAUSE_AFTER_FAILURE_SECONDS
    ) -> None:
        """Passes until `stop` is set; the pass under way when it is set runs to its end."""
        while not stop.is_set():
            pause = POLL_SECONDS
            # Cleared before the pass, not after it: a commit during the pass still wakes the next one.
            self._wake.clear()
            try:
                done = await self.run_once(wait_for_deliveries=False)
                if done.batch_full:
                    pause = 0.0
            except Exception:  # the database away, a bug in one job: log, wait, go on
                log.exception("worker pass failed; retrying in %.0f s", pause_after_failure)
                pause = pause_after_failure
            await self._wait(stop, pause)
        # Stopping finishes the attempts under way rather than abandoning them to their leases.
        await asyncio.gather(*self._attempts, *filter(None, [self._sync]), return_exceptions=True)

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        if seconds <= 0:
            return
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            woken.cancel()
        if self._committed and not stop.is_set():
            await asyncio.sleep(GATHER_SECONDS)
        self._committed = False


def _log_failure(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("calendar sync failed", exc_info=task.exception())


async def run_worker(settings: Settings) -> None:
    """`booking worker`: the loop until SIGTERM or SIGINT, which let the current pass finish."""
    from booking.context import AppContext  # the context owns a worker: import it only here

    context = AppContext.from_settings(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker started (%s)", context.db.dialect)
    try:
        await context.worker.run(stop)
    finally:
        await context.aclose()
    log.info("worker stopped")
