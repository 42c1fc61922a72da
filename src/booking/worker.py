"""The background worker: the outbox's other end, knowing no feature.

Each room offers its background work as data, a `Job` (name, what is due, how to run it), and the
process's wiring (`booking.jobs`) hands the list to the worker. One pass (`run_once`) asks every job's
due question in one read transaction (an idle worker takes no write lock at all), then runs the jobs
that have something due, in the list's order. Each job claims its work so that any number of workers
in any number of processes share it without doing a job twice (PostgreSQL: `FOR UPDATE SKIP LOCKED`
and a lease; SQLite: the single write lock and the same lease).

`run` repeats passes until told to stop; a stop request lets the current pass finish. A pass that
fails (the database away) is logged and the loop goes on after a pause: the worker never exits on its
own. Tests drive `run_once` with the injectable clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select

from booking.clock import Clock
from booking.db import Database

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0  # the first webhook attempt starts within this (5 s are promised)
# Woken by a commit, the worker waits this long so that a burst of commits is one pass, not many.
GATHER_SECONDS = 0.2
PAUSE_AFTER_FAILURE_SECONDS = 5.0


@dataclass(frozen=True)
class Job:
    """One kind of background work.

    - `run(now)` does what is due and answers how much it did.
    - `due(now)`, a SQL condition (an EXISTS served by the queue's partial index), says whether anything
      is; None: the job is due whenever `every` has passed.
    - `batch`: a run that did this much likely left more waiting, so the next pass starts at once.
    - `after_work`: also run when a job earlier in the list did something in this pass (it may have
      caused this job's work: a cancelled hold's events are fanned out in the same pass).
    - `every`: at most one run per this interval.
    - `in_flight`: above 0 the job runs in the background, at most that many runs at once, so that a
      slow receiver delays no other job; `run_once(wait=True)` still waits for it.
    """

    name: str
    run: Callable[[datetime], Coroutine[Any, Any, int]]
    due: Callable[[datetime], ColumnElement[bool]] | None = None
    batch: int | None = None
    after_work: bool = False
    every: timedelta | None = None
    in_flight: int = 0


@dataclass(frozen=True)
class Pass:
    """What one pass did: per job, what it finished, and the background runs it only started."""

    done: Mapping[str, int] = field(default_factory=dict)
    started: Mapping[str, int] = field(default_factory=dict)
    batch_full: bool = False  # a job filled its batch: more are likely waiting

    def __getitem__(self, job: str) -> int:
        return self.done.get(job, 0)

    @property
    def busy(self) -> bool:
        return any(self.done.values()) or any(self.started.values())


async def due_jobs(db: Database, jobs: Sequence[Job], now: datetime) -> set[str]:
    """The names of the queued jobs with something due: one read of one row, however many queues."""
    asked = [(job.name, job.due) for job in jobs if job.due is not None]
    if not asked:
        return set()
    async with db.transaction(write=False) as session:
        row = (await session.execute(select(*(due(now) for _, due in asked)))).one()
    return {name for (name, _), found in zip(asked, row, strict=True) if found}


class Worker:
    def __init__(self, db: Database, clock: Clock, jobs: Sequence[Job] = ()) -> None:
        self.db = db
        self.clock = clock
        self.jobs = tuple(jobs)
        names = [job.name for job in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"two jobs share a name: {names}")
        self._last_run: dict[str, datetime] = {}
        self._running: dict[str, set[asyncio.Task[int]]] = {job.name: set() for job in self.jobs}
        self._wake = asyncio.Event()
        self._committed = False  # woken by a commit (gather a burst) rather than by a finished batch

    def wake(self) -> None:
        """Something is waiting (a request just committed events): start the next pass now."""
        self._committed = True
        self._wake.set()

    def in_flight(self, job: str) -> frozenset[asyncio.Task[int]]:
        """The background runs of `job` not finished yet."""
        return frozenset(self._running[job])

    async def run_once(self, *, wait_for_deliveries: bool = True) -> Pass:
        """One pass. Without `wait_for_deliveries` (the loop), background jobs run on after the pass,
        so that a webhook receiver that hangs for its 15 s delays neither the next pass's first
        attempts nor the messages; their leases keep two attempts from overlapping."""
        now = self.clock.now()
        due = await due_jobs(self.db, self.jobs, now)
        done: dict[str, int] = {}
        started: dict[str, int] = {}
        for job in self.jobs:
            if not self._should_run(job, due, done, now):
                continue
            if job.in_flight:
                task = self._start(job, now)
                if wait_for_deliveries:
                    done[job.name] = await task
                else:
                    started[job.name] = 1
            else:
                done[job.name] = await job.run(now)
        full = any(job.batch is not None and done.get(job.name, 0) >= job.batch for job in self.jobs)
        return Pass(done, started, full)

    def _should_run(self, job: Job, due: set[str], done: Mapping[str, int], now: datetime) -> bool:
        if job.in_flight and len(self._running[job.name]) >= job.in_flight:
            return False  # as many runs as it may have are still going: the next pass tries again
        if job.every is not None:
            last = self._last_run.get(job.name)
            if last is not None and now - last < job.every:
                return False
        runs = job.due is None or job.name in due or (job.after_work and any(done.values()))
        if runs and job.every is not None:
            self._last_run[job.name] = now
        return runs

    def _start(self, job: Job, now: datetime) -> asyncio.Task[int]:
        task = asyncio.create_task(job.run(now), name=f"booking-{job.name}")
        self._running[job.name].add(task)
        task.add_done_callback(lambda finished: self._finished(job, finished))
        return task

    def _finished(self, job: Job, task: asyncio.Task[int]) -> None:
        self._running[job.name].discard(task)
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("background job %s failed", job.name, exc_info=task.exception())
        elif job.batch is not None and task.result() >= job.batch:
            self._wake.set()  # a full batch: more are likely waiting, and a slot is free again

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
        # Stopping finishes the runs under way rather than abandoning them to their leases.
        running = [task for tasks in self._running.values() for task in tasks]
        await asyncio.gather(*running, return_exceptions=True)

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
