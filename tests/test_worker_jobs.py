"""The worker's own rules, with jobs made up for the test: it runs what the list gives it, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import ColumnElement, false, true

from booking.clock import FixedClock
from booking.db import Database, parse_database_url
from booking.worker import Job, Worker

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(parse_database_url(f"sqlite:///{tmp_path / 'worker.db'}"))
    yield database
    await database.dispose()


def due(answer: bool) -> Callable[[datetime], ColumnElement[bool]]:
    return lambda _: true() if answer else false()


class Runs:
    """Records which job ran when, and answers a fixed count."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, datetime]] = []

    def of(self, name: str, count: int) -> Callable[[datetime], Coroutine[Any, Any, int]]:
        async def run(now: datetime) -> int:
            self.seen.append((name, now))
            return count

        return run

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.seen]


async def test_only_due_jobs_run_in_list_order_and_work_wakes_the_jobs_after_it(db: Database) -> None:
    runs = Runs()
    jobs = [
        Job("idle", runs.of("idle", 0), due(False)),
        Job("busy", runs.of("busy", 2), due(True)),
        Job("follows", runs.of("follows", 1), due(False), after_work=True),
        Job("waits", runs.of("waits", 0), due(False)),
    ]
    done = await Worker(db, FixedClock(NOW), jobs).run_once()
    assert runs.names == ["busy", "follows"]
    assert (done["busy"], done["follows"], done["idle"]) == (2, 1, 0)
    assert done.busy and not done.batch_full


async def test_an_idle_pass_runs_nothing_and_a_full_batch_asks_for_the_next_pass_at_once(
    db: Database,
) -> None:
    runs = Runs()
    idle = await Worker(
        db, FixedClock(NOW), [Job("a", runs.of("a", 5), due(False), after_work=True)]
    ).run_once()
    assert runs.names == [] and not idle.busy
    full = await Worker(db, FixedClock(NOW), [Job("a", runs.of("a", 5), due(True), batch=5)]).run_once()
    assert full.batch_full


async def test_a_job_with_an_interval_runs_at_most_once_per_interval(db: Database) -> None:
    runs, clock = Runs(), FixedClock(NOW)
    worker = Worker(db, clock, [Job("minutely", runs.of("minutely", 1), every=timedelta(minutes=1))])
    for seconds in (0, 30, 59, 60, 90, 121):
        clock.set(NOW + timedelta(seconds=seconds))
        await worker.run_once()
    assert [when for _, when in runs.seen] == [NOW + timedelta(seconds=s) for s in (0, 60, 121)]


async def test_a_background_job_runs_on_after_the_pass_at_most_in_flight_at_once(db: Database) -> None:
    release = asyncio.Event()
    started = 0

    async def slow(_: datetime) -> int:
        nonlocal started
        started += 1
        await release.wait()
        return 1

    worker = Worker(db, FixedClock(NOW), [Job("slow", slow, due(True), in_flight=1)])
    first = await worker.run_once(wait_for_deliveries=False)
    second = await worker.run_once(wait_for_deliveries=False)
    await asyncio.sleep(0)
    assert (first.started, second.started, started) == ({"slow": 1}, {}, 1)
    (running,) = worker.in_flight("slow")
    release.set()
    assert await running == 1
    assert worker.in_flight("slow") == frozenset()
