"""PostgreSQL going away under booking load, and coming back.

Two `booking serve` processes reach a throwaway database of their own through a loopback proxy
(tests/pg_proxy.py), so the shared PostgreSQL keeps running for the rest of the suite. While eight
clients book (the hot path, on the driver), list slots (the hot path's reads) and read their bookings
back (FastAPI's route, the ORM), the proxy cuts every connection mid-stream (half with PostgreSQL's
`FATAL 57P01`, half with a reset), then closes each new connection at once, answers the next ones
`FATAL 57P03 the database system is shutting down`, refuses the next ones, and lets them through again.

Every request gets an answer within a bound; during the outage the answer is a success or `503
database_unavailable`, never a `500`; afterwards bookings succeed again on the same processes (the pools
dropped their dead connections); and every booking answered `201` is in the database.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from booking.migrate import upgrade
from tests.conftest import (
    BACKENDS,
    asyncpg_dsn,
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
)
from tests.figures import FIGURES
from tests.pg_proxy import Mode, PostgresProxy, postgres_proxy
from tests.servers import booking_process, seed_through
from tests.support import SECRET, SERVICE, SERVICE_KEY, user_headers

CLIENTS = 8
# An answer later than this counts as none: a request must never hang on a database that is away.
ANSWER_WITHIN = 15.0
# Each round cuts every connection twice: once alone, once followed by an outage. Repeated, because
# which request meets a dead pooled connection first varies from run to run.
ROUNDS = 3
# Each way of refusing new connections lasts this long: an outage of about 2.4 s a round.
PHASE_SECONDS = 0.8
# A client that was answered 503 waits this long before its next request, as a retrying client would.
BACKOFF_SECONDS = 0.05
# After the restore every client must see this many successes in a row (bounded by RECOVERY_WITHIN).
RECOVERED_STREAK = 3
RECOVERY_WITHIN = 20.0
WARM_UP_BOOKINGS = 2 * CLIENTS
UNAVAILABLE = (503, "database_unavailable")


@dataclass(frozen=True)
class Answer:
    client: int
    kind: str  # book (hot path, driver), slots (hot path, reads), read (FastAPI route, ORM)
    sent: float  # time.monotonic()
    took: float
    status: int | None  # None: no answer (timeout, connection dropped)
    code: str | None  # the error envelope's code
    booking_id: str | None  # of a 201
    failure: str | None  # why there was no answer


@pytest.fixture
def outage_database() -> Iterator[str]:
    if "postgresql" not in BACKENDS:
        pytest.skip("PostgreSQL left out (BOOKING_TEST_BACKENDS)")
    name = create_postgres_database()
    try:
        upgrade(postgres_url(name))
        yield postgres_url(name)
    finally:
        drop_postgres_database(name)


def through(url: str, proxy: PostgresProxy) -> str:
    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


class Load:
    """Eight clients booking, listing slots and reading back, each on its own until told to stop."""

    def __init__(self, bases: list[str], target: dict[str, str]) -> None:
        self.bases = bases
        self.target = target
        self.answers: list[Answer] = []
        self.stop = asyncio.Event()
        first = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
        # Two hours apart (an hour's session and the buffer): no booking competes with another.
        self._starts = (first + timedelta(hours=2 * n) for n in itertools.count())
        self.day = first.date().isoformat()

    def count(self, status: int, since: float = 0.0) -> int:
        return sum(1 for a in self.answers if a.status == status and a.sent >= since)

    async def run(self) -> None:
        await asyncio.gather(*(self._client(i) for i in range(CLIENTS)))

    async def _client(self, i: int) -> None:
        base = self.bases[i % len(self.bases)]
        async with httpx.AsyncClient(base_url=base, timeout=ANSWER_WITHIN) as client:
            booked: str | None = None
            while not self.stop.is_set():
                body = self.target | {"starts_at": next(self._starts).isoformat(), "student_timezone": "UTC"}
                answer = await self._send(client, i, "book", "POST", "/api/bookings", body)
                booked = answer.booking_id or booked
                await self._send(client, i, "slots", "GET", self._slots_path(), None)
                if booked is not None:
                    await self._send(client, i, "read", "GET", f"/api/bookings/{booked}", None)

    def _slots_path(self) -> str:
        query = f"brand_id={self.target['brand_id']}&from={self.day}&to={self.day}"
        return f"/api/instructors/{self.target['instructor_id']}/slots?{query}"

    async def _send(
        self, client: httpx.AsyncClient, i: int, kind: str, method: str, path: str, body: Any
    ) -> Answer:
        headers = user_headers(uuid.uuid4()) if kind == "book" else SERVICE
        sent = time.monotonic()
        try:
            response = await client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as error:
            answer = Answer(i, kind, sent, time.monotonic() - sent, None, None, None, repr(error))
        else:
            try:
                data = response.json()
            except ValueError:  # not the envelope: uvicorn's own text for an error that escaped the app
                data = {}
            code = data.get("error", {}).get("code") if response.status_code >= 400 else None
            booking_id = data["booking"]["id"] if response.status_code == 201 else None
            answer = Answer(
                i, kind, sent, time.monotonic() - sent, response.status_code, code, booking_id, None
            )
        self.answers.append(answer)
        if answer.status == 503:
            await asyncio.sleep(BACKOFF_SECONDS)
        return answer

    def recovered(self, since: float) -> bool:
        """Every client's last answers, all sent after `since`, are successes."""
        for i in range(CLIENTS):
            last = [a for a in self.answers if a.client == i][-RECOVERED_STREAK:]
            if len(last) < RECOVERED_STREAK or any(
                a.sent < since or a.status not in (200, 201) for a in last
            ):
                return False
        return True


async def wait_for(condition: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@dataclass(frozen=True)
class Round:
    refused: bool  # new connections were refused for a while; else only the open ones were cut
    cut: int  # connections cut
    began: float
    restored: float
    recovered: bool
    ended: float  # every client had succeeded again (or the wait gave up)


async def outage(proxy: PostgresProxy, load: Load, *, refuse: bool) -> Round:
    """Cut every connection (and, with `refuse`, refuse new ones for a while), then wait until every
    client succeeds again."""
    began = time.monotonic()
    if refuse:
        proxy.set_mode(Mode.CLOSE)  # first, so that no connection slips in between the cut and the refusal
    cut = proxy.cut()
    assert cut > 0, "the cut met no connection"
    if refuse:
        for mode in (Mode.CLOSE, Mode.SHUTTING_DOWN, Mode.REFUSE):
            proxy.set_mode(mode)
            await asyncio.sleep(PHASE_SECONDS)
        proxy.set_mode(Mode.FORWARD)
    restored = time.monotonic()
    recovered = await wait_for(partial(load.recovered, restored), RECOVERY_WITHIN)
    return Round(refuse, cut, began, restored, recovered, time.monotonic())


async def stored_bookings(url: str) -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {str(row["id"]) for row in await connection.fetch("SELECT id FROM bookings")}
    finally:
        await connection.close()


def test_database_outage_under_load_is_503_never_500_and_recovers(
    outage_database: str, tmp_path: Path
) -> None:
    upstream = make_url(outage_database)
    with postgres_proxy(upstream.host or "127.0.0.1", upstream.port or 5432) as proxy:
        env = {
            "DATABASE_URL": through(outage_database, proxy),
            "SUPABASE_JWT_SECRET": SECRET,
            "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
            "LOG_LEVEL": "warning",
        }
        with (
            booking_process(["serve"], env=env, cwd=tmp_path) as (first, _, first_log),
            booking_process(["serve"], env=env, cwd=tmp_path) as (second, _, second_log),
        ):
            load = Load([first, second], seed_through(first))

            async def run() -> list[Round]:
                rounds = []
                clients = asyncio.create_task(load.run())
                try:
                    warmed = await wait_for(lambda: load.count(201) >= WARM_UP_BOOKINGS, 20)
                    assert warmed, f"no load before the outage: {Counter(a.status for a in load.answers)}"
                    for _ in range(ROUNDS):
                        # Connections killed while the server stays up (a terminated backend), then an outage.
                        rounds.append(await outage(proxy, load, refuse=False))
                        rounds.append(await outage(proxy, load, refuse=True))
                finally:
                    load.stop.set()
                    await clients
                return rounds

            rounds = asyncio.run(run())
        FIGURES["faults injected: PostgreSQL connections cut under load"] += proxy.counts["cut"]
        FIGURES["faults injected: PostgreSQL outages under load (refused for 2.4 s)"] += ROUNDS
        logs = first_log.read_text() + second_log.read_text()

    answers = load.answers
    summary = (
        f"answers (kind, status, code): {Counter((a.kind, a.status, a.code) for a in answers)}; "
        f"connections met by the proxy: {dict(proxy.counts)}; "
        f"errors the servers logged: {logged_errors(logs)}"
    )
    unanswered = [a for a in answers if a.status is None or a.took > ANSWER_WITHIN]
    assert not unanswered, f"requests without an answer: {unanswered[:3]}; {summary}"
    wrong = [a for a in answers if a.status not in (200, 201) and (a.status, a.code) != UNAVAILABLE]
    assert not wrong, f"answers other than success or 503 database_unavailable; {summary}"
    # Each outage reached the service: connections were cut, new ones met each refusal, clients saw 503.
    assert proxy.counts["cut"] >= 2 * ROUNDS and proxy.counts[Mode.CLOSE] and proxy.counts[Mode.SHUTTING_DOWN]
    for round_ in rounds:
        if round_.refused:
            assert any(a.status == 503 for a in answers if round_.began <= a.sent < round_.restored), summary
        else:
            # New connections work: each connection cut fails at most the one request that meets it,
            # and is then discarded, never handed out again.
            failed = [
                a for a in answers if a.status == 503 and round_.began <= a.sent + a.took <= round_.ended
            ]
            assert len(failed) <= round_.cut, (
                f"{len(failed)} 503s for {round_.cut} connections cut; {summary}"
            )
    # The same processes book again after each fault: their pools replaced the dead connections.
    assert all(r.recovered for r in rounds), (
        f"no {RECOVERED_STREAK} successes in a row after a fault: {summary}"
    )
    booked = {a.booking_id for a in answers if a.booking_id is not None}
    missing = booked - asyncio.run(stored_bookings(outage_database))
    assert not missing, f"{len(missing)} bookings answered 201 are not in the database"


def logged_errors(logs: str) -> Counter[str]:
    """The last line of each traceback in the servers' output: what an unhandled error was."""
    return Counter(line for line in logs.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line))
