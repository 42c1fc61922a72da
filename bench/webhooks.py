"""`python -m bench webhooks`: events delivered per second by `booking worker` processes, loopback receiver.

Set-up, once per database: one `booking serve` (with `BOOKING_WORKER=off`, so that it delivers nothing
itself) makes a brand with one webhook endpoint subscribed to `"*"` pointing at the receiver (and, on
PostgreSQL, a second brand with four), and 20 bookings per brand through HTTP. Their `booking.created`
events, as the service wrote them, are the templates; they are marked dispatched and the server stops.

A run: 2,000 deliveries' worth of events (2,000 for one endpoint, 500 for four), copies of the templates
(their `data` is a real booking's JSON; new ids, `created_at` now), are committed in one transaction
straight into `events`; then 1 or 2 `booking worker` processes are started (`ALLOW_PRIVATE_URLS=true`,
`AUTO_REMINDERS=off`). Rates are over the time from the receiver's first request to the last one, so the
workers' start-up (about a second of imports) is not in them, and both workers of a 2-worker run begin
together. The worker processes' CPU time per delivery and the whole machine's busy share are taken over
the same span. Then, the backlog gone, six single events are committed 0.37 s apart while the workers
idle: their latency from commit to receipt is what a lone event waits. The receiver (asyncio, in this
process, on its own thread) answers `200` with an empty body at once; afterwards every signature is
checked, every `webhook-id` must have come once, and every delivery must be `delivered` after exactly
one attempt.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, insert, select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bench.harness import SERVICE, booking_body, database, seed, server, student_headers, tomorrow_midnight
from booking.db import Database, parse_database_url
from booking.enums import EventType
from booking.models.events import Event
from booking.models.webhooks import WebhookDelivery

DELIVERIES = 2000
QUICK_DELIVERIES = 500
FAN_OUT = 4  # endpoints of the second brand
TEMPLATES = 20
LONE_EVENTS = 6
# Between two lone events: not a divisor of the worker's 1 s poll, so they fall at different phases of it.
LONE_SPACING_SECONDS = 0.37
SERVER_ENV = {"ALLOW_PRIVATE_URLS": "true", "BOOKING_WORKER": "off", "AUTO_REMINDERS": "off"}
WAIT_SECONDS = 120.0
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


# --- the receiver -------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    at: float  # time.perf_counter() when the whole request was in


class Receiver:
    """A minimal HTTP/1.1 server (keep-alive, no chunked bodies) that answers 200 to every request."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.ids: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stop: asyncio.Event | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise TimeoutError("the receiver did not start")

    def close(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def reset(self) -> None:
        self.requests = []
        self.ids = set()

    def wait_for(self, distinct: int, timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while len(self.ids) < distinct:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the receiver saw {len(self.ids)} of {distinct} deliveries")
            time.sleep(0.005)

    def _serve(self) -> None:
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        listening = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = listening.sockets[0].getsockname()[1]
        self._ready.set()
        async with listening:
            await self._stop.wait()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                webhook_id = headers.get("webhook-id", "")
                self.requests.append(
                    Received(
                        lines[0].split(" ")[1],
                        webhook_id,
                        headers.get("webhook-timestamp", ""),
                        headers.get("webhook-signature", ""),
                        body,
                        time.perf_counter(),
                    )
                )
                self.ids.add(webhook_id)
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.close()


# --- set-up: a brand, an endpoint, real bookings whose events are the templates --------------------------


@dataclass(frozen=True)
class Template:
    type: EventType
    brand_id: UUID
    booking_id: UUID | None  # None: an event about a pass
    data: str


@dataclass
class Setup:
    """A brand with `endpoints` endpoints on the receiver: their secrets by path, its event templates."""

    url: str
    endpoints: int
    secrets: dict[str, str] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)


def prepare(url: str, receiver: Receiver, fan_outs: tuple[int, ...]) -> list[Setup]:
    """One brand per entry of `fan_outs`, with that many endpoints and `TEMPLATES` bookings."""
    setups: list[Setup] = []
    brands: list[UUID] = []
    with server(url, extra_env=SERVER_ENV) as base, httpx.Client(base_url=base, timeout=30) as client:
        for endpoints in fan_outs:
            seeded = seed(base)
            setup = Setup(url, endpoints)
            for index in range(endpoints):
                path = f"/hook/{len(setups)}/{index}"
                created = client.post(
                    f"/api/brands/{seeded.brand_id}/webhooks",
                    json={"url": receiver.base + path, "events": ["*"]},
                    headers=SERVICE,
                )
                created.raise_for_status()
                setup.secrets[path] = created.json()["webhook"]["secret"]
            headers = student_headers()
            for index in range(TEMPLATES):
                start = tomorrow_midnight() + timedelta(hours=index)
                body = booking_body(seeded, seeded.instructor_ids[0], start)
                client.post("/api/bookings", json=body, headers=headers).raise_for_status()
            setups.append(setup)
            brands.append(UUID(seeded.brand_id))
    templates = asyncio.run(_take_templates(url))
    for setup, brand in zip(setups, brands, strict=True):
        setup.templates = [template for template in templates if template.brand_id == brand]
        if len(setup.templates) != TEMPLATES:
            raise RuntimeError(f"{len(setup.templates)} events for {TEMPLATES} bookings")
    return setups


async def _take_templates(url: str) -> list[Template]:
    """The events the bookings wrote, marked dispatched so that the workers leave them alone."""
    db = Database(parse_database_url(url), pool_size=1)
    try:
        async with db.transaction(write=True) as session:
            events = (await session.scalars(select(Event).where(Event.dispatched_at.is_(None)))).all()
            await session.execute(update(Event).values(dispatched_at=datetime.now(UTC)))
            return [Template(e.type, e.brand_id, e.booking_id, e.data) for e in events]
    finally:
        await db.dispose()


async def _commit_events(url: str, templates: list[Template], count: int) -> tuple[datetime, float]:
    """`count` events in one transaction; answers the newest `created_at` and time.perf_counter() right
    after the commit."""
    db = Database(parse_database_url(url), pool_size=1)
    try:
        now = datetime.now(UTC)
        rows = [
            {
                "id": uuid.uuid4(),
                "type": template.type,
                "brand_id": template.brand_id,
                "booking_id": template.booking_id,
                "data": template.data,
                # Oldest first in the order they were made, as a burst of real changes would be.
                "created_at": now - timedelta(microseconds=count - 1 - index),
                "dispatched_at": None,
            }
            for index in range(count)
            for template in [templates[index % len(templates)]]
        ]
        async with db.transaction(write=True) as session:
            await session.execute(insert(Event), rows)
        return now, time.perf_counter()
    finally:
        await db.dispose()


async def _deliveries_by_state(url: str) -> dict[str, int]:
    db = Database(parse_database_url(url), pool_size=1)
    try:
        async with db.transaction(write=False) as session:
            query = select(WebhookDelivery.status, WebhookDelivery.attempts, func.count()).group_by(
                WebhookDelivery.status, WebhookDelivery.attempts
            )
            return {f"{status} after {attempts}": n for status, attempts, n in await session.execute(query)}
    finally:
        await db.dispose()


# --- worker processes -------------------------------------------------------------------------------------


@contextmanager
def workers(url: str, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `booking worker` processes; SIGTERM (the pass under way finishes) when the block ends."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/"),
        "DATABASE_URL": url,
        "ALLOW_PRIVATE_URLS": "true",
        "AUTO_REMINDERS": "off",
    }
    command = [sys.executable, "-m", "booking.cli", "worker"]
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as workdir, ExitStack() as stack:
        processes = []
        for index in range(count):
            log = stack.enter_context(open(Path(workdir) / f"worker-{index}.log", "wb"))
            processes.append(
                subprocess.Popen(command, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=log)
            )
        try:
            yield processes
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM)]
            if failed:
                logs = "\n".join(path.read_text()[-2000:] for path in Path(workdir).glob("*.log"))
                raise RuntimeError(f"a worker exited with {failed}:\n{logs}")


# --- one run ------------------------------------------------------------------------------------------------


def _unsigned(setup: Setup, requests: list[Received]) -> int:
    webhooks = {path: Webhook(secret) for path, secret in setup.secrets.items()}
    bad = 0
    for request in requests:
        if request.path not in webhooks:
            bad += 1
            continue
        headers = {
            "webhook-id": request.webhook_id,
            "webhook-timestamp": request.timestamp,
            "webhook-signature": request.signature,
        }
        try:
            webhooks[request.path].verify(request.body, headers)
        except WebhookVerificationError:
            bad += 1
    return bad


def _process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes used so far; 0 where /proc is not there."""
    total = 0.0
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists():
            # The fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _machine_jiffies() -> tuple[int, int]:
    """(busy, all) CPU time of the whole machine so far, from /proc/stat; (0, 0) without it."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return 0, 0
    values = [int(value) for value in stat.read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)  # all but idle and iowait


def _lone_latencies(setup: Setup, receiver: Receiver, already: int) -> list[float]:
    """Single events committed one at a time while the workers idle; milliseconds from commit to receipt."""
    committed: dict[datetime, float] = {}
    for _ in range(LONE_EVENTS):
        time.sleep(LONE_SPACING_SECONDS)
        created_at, at = asyncio.run(_commit_events(setup.url, setup.templates, 1))
        committed[created_at] = at
    receiver.wait_for(already + LONE_EVENTS * setup.endpoints)
    latencies = []
    for request in receiver.requests:
        created_at = datetime.fromisoformat(json.loads(request.body)["timestamp"])
        if created_at in committed:
            latencies.append((request.at - committed[created_at]) * 1000)
    return latencies


def run_one(setup: Setup, receiver: Receiver, backend: str, count: int, deliveries: int) -> dict[str, Any]:
    """`deliveries` / endpoints events delivered by `count` worker processes."""
    events = deliveries // setup.endpoints
    deliveries = events * setup.endpoints
    receiver.reset()
    asyncio.run(_commit_events(setup.url, setup.templates, events))
    spawned = time.perf_counter()
    with workers(setup.url, count) as processes:
        pids = [process.pid for process in processes]
        receiver.wait_for(1)
        cpu_before, (busy_before, all_before) = _process_cpu(pids), _machine_jiffies()
        receiver.wait_for(deliveries)
        cpu_after, (busy_after, all_after) = _process_cpu(pids), _machine_jiffies()
        burst = list(receiver.requests)
        lone = _lone_latencies(setup, receiver, deliveries)
    requests = list(receiver.requests)
    states = asyncio.run(_deliveries_by_state(setup.url))
    first, last = burst[0].at, burst[-1].at
    wrong = {state: n for state, n in states.items() if state != "delivered after 1"}
    return {
        "benchmark": f"webhooks, {count} worker{'s' if count > 1 else ''}",
        "database": backend,
        "endpoints": setup.endpoints,
        "events": events,
        "deliveries": deliveries,
        # From the first delivery's receipt to the last one's: the workers' start-up is not in it.
        "events_per_s": round(events / (last - first), 1),
        "deliveries_per_s": round(deliveries / (last - first), 1),
        "drain_s": round(last - first, 2),
        "spawn_to_last_s": round(last - spawned, 2),
        "worker_cpu_ms_per_delivery": round((cpu_after - cpu_before) * 1000 / (deliveries - 1), 2),
        "machine_busy": f"{(busy_after - busy_before) / max(1, all_after - all_before):.0%}",
        "lone_p50_ms": round(statistics.median(lone), 1),
        "lone_max_ms": round(max(lone), 1),
        "duplicates": len(requests) - len({request.webhook_id for request in requests}),
        "bad_signatures": _unsigned(setup, requests),
        "not_delivered_once": sum(wrong.values()),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    deliveries = QUICK_DELIVERIES if quick else DELIVERIES
    rows = []
    with receiving() as receiver:
        with database("postgresql") as url:
            single, fanned = prepare(url, receiver, (1, FAN_OUT))
            for count in (1, 2):
                rows.append(run_one(single, receiver, "postgresql", count, deliveries))
            rows.append(run_one(fanned, receiver, "postgresql", 1, deliveries))
        with database("sqlite") as url:
            (single,) = prepare(url, receiver, (1,))
            rows.append(run_one(single, receiver, "sqlite", 1, deliveries))
    return rows
