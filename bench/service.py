"""Our service through real HTTP: slots, sequential bookings, concurrent load."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bench import wrk
from bench.harness import (
    EVERY_DAY,
    MON_FRI_9_TO_17,
    SERVICE,
    LightClient,
    booking_body,
    link,
    percentile,
    seed,
    server,
    student_headers,
    tomorrow_midnight,
)

SLOT_CALLS = 200
SEQUENTIAL_BOOKINGS = 200
BUSY_BOOKINGS = 500
BUSY_OCCURRENCES = 2000


def _timed_gets(base: str, url: str, params: dict[str, Any], calls: int) -> tuple[list[float], int]:
    """`calls` GETs of the slot list through one LightClient connection; timings and the slots listed."""
    path = f"{urlsplit(url).path}?{urlencode(params)}"
    client = LightClient(base)
    try:
        client.request("GET", path)  # warm-up
        timings, count = [], 0
        for _ in range(calls):
            started = time.perf_counter()
            status, body = client.request("GET", path)
            timings.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(body.decode())
            count = len(json.loads(body)["slots"])
    finally:
        client.close()
    return timings, count


def _busy_feed(first: datetime, days: int, count: int) -> bytes:
    """An iCalendar file of `count` 20-minute events at random times over `days` days from `first`."""
    rng = random.Random(2)
    events = []
    for index in range(count):
        start = first + timedelta(minutes=rng.randrange(days * 24 * 60 // 5) * 5)
        stamp = f"{start:%Y%m%dT%H%M%SZ}"
        end = f"{start + timedelta(minutes=20):%Y%m%dT%H%M%SZ}"
        events.append(
            f"BEGIN:VEVENT\r\nUID:{index}@bench\r\nDTSTAMP:{stamp}\r\nDTSTART:{stamp}\r\n"
            f"DTEND:{end}\r\nSUMMARY:Busy\r\nEND:VEVENT\r\n"
        )
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"
    ).encode()


@contextmanager
def _feed_server(body: bytes) -> Iterator[str]:
    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/calendar")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/busy.ics"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _subscribe(client: httpx.Client, base: str, instructor: str, url: str) -> int:
    """Save the busy calendar and wait for the service's worker to have synced it; its busy count."""
    path = f"{base}/api/instructors/{instructor}/busy-calendars"
    client.put(path, json={"calendars": [{"url": url}]}, headers=SERVICE).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        (calendar,) = client.get(path, headers=SERVICE).json()["calendars"]
        if calendar["last_synced_at"] is not None or calendar["last_error"] is not None:
            if calendar["last_error"] is not None:
                raise RuntimeError(calendar["last_error"])
            return int(calendar["busy_count"])
        time.sleep(0.1)
    raise RuntimeError("the busy calendar was not synced within 60 s")


def slots(database_url: str, backend: str) -> list[dict[str, Any]]:
    """GET …/slots over 62 days, Mon-Fri 09-17, 60 min, no buffer: empty calendar, then 500 bookings,
    then those and a busy calendar of 2,000 occurrences (SPEC §13)."""
    rows = []
    with server(database_url, extra_env={"ALLOW_PRIVATE_URLS": "true"}) as base:
        main = seed(base, weekly=MON_FRI_9_TO_17, timezone="Europe/Berlin")
        instructor = main.instructor_ids[0]
        first = tomorrow_midnight().date()
        params = {"brand_id": main.brand_id, "from": str(first), "to": str(first + timedelta(days=61))}
        url = f"{base}/api/instructors/{instructor}/slots"
        with httpx.Client() as client:
            timings, listed = _timed_gets(base, url, params, SLOT_CALLS)
            rows.append(
                _latency_row("slots 62 days, empty calendar", backend, timings, 5.0, f"{listed} slots")
            )
            # 500 bookings in the range, made in a second brand with all-day availability: all of them
            # are busy time for the slots of the first brand.
            other = seed(base, instructors=0)
            link(base, instructor, other.brand_id, EVERY_DAY)
            rng = random.Random(1)
            starts = [
                tomorrow_midnight() + timedelta(days=day, hours=hour)
                for day in range(62)
                for hour in rng.sample(range(24), 9)
            ][:BUSY_BOOKINGS]
            for start in starts:
                body = booking_body(other, instructor, start, brand_id=other.brand_id)
                client.post(f"{base}/api/bookings", json=body, headers=student_headers()).raise_for_status()
            timings, listed = _timed_gets(base, url, params, SLOT_CALLS)
            rows.append(_latency_row("slots 62 days, 500 bookings", backend, timings, 5.0, f"{listed} slots"))
            # Spread over the 90 days the sync reads (the default advance window).
            with _feed_server(_busy_feed(tomorrow_midnight(), 90, BUSY_OCCURRENCES)) as feed:
                busy = _subscribe(client, base, instructor, feed)
            timings, listed = _timed_gets(base, url, params, SLOT_CALLS)
            name = f"slots 62 days, 500 bookings + busy feed of {BUSY_OCCURRENCES}"
            rows.append(_latency_row(name, backend, timings, None, f"{listed} slots, {busy} busy intervals"))
    return rows


def sequential_bookings(
    database_url: str,
    backend: str,
    label: str = "",
    env: dict[str, str] | None = None,
    price_amount: int | None = None,
) -> dict[str, Any]:
    """200 POST /api/bookings one after another, every rule checked, the default pending cap (3) among
    them: each booking is a new student's (tokens minted before the clock starts)."""
    with server(database_url, extra_env=env) as base:
        seeded = seed(base, pending_cap=3, price_amount=price_amount)
        instructor = seeded.instructor_ids[0]
        students = [student_headers() for _ in range(SEQUENTIAL_BOOKINGS)]
        timings = []
        client = LightClient(base)
        try:
            start = tomorrow_midnight()
            client.request("GET", "/health")
            for index in range(SEQUENTIAL_BOOKINGS):
                body = booking_body(seeded, instructor, start + timedelta(hours=index))
                began = time.perf_counter()
                status, answer = client.request("POST", "/api/bookings", body, students[index])
                timings.append((time.perf_counter() - began) * 1000)
                if status != 201:
                    raise RuntimeError(answer.decode())
        finally:
            client.close()
    target = 2.0 if backend == "sqlite" and not env and price_amount is None else None
    name = "booking, one after another" + (f" ({label})" if label else "")
    return _latency_row(name, backend, timings, target, f"{SEQUENTIAL_BOOKINGS} bookings")


def _latency_row(
    name: str, backend: str, timings: list[float], target: float | None, note: str
) -> dict[str, Any]:
    median = statistics.median(timings)
    return {
        "benchmark": name,
        "database": backend,
        "median_ms": round(median, 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "target": f"< {target} ms median" if target else "",
        "met": "" if target is None else ("yes" if median < target else "no"),
        "note": note,
    }


async def _load(
    base: str, instructors: list[str], brand_id: str, clients: int, seconds: float
) -> dict[str, Any]:
    counter = iter(range(10**9))
    origin = tomorrow_midnight()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one_client() -> None:
            nonlocal errors
            headers = student_headers()
            while time.monotonic() < deadline:
                k = next(counter)
                body = {
                    "brand_id": brand_id,
                    "instructor_id": instructors[k % len(instructors)],
                    "starts_at": (origin + timedelta(hours=k // len(instructors))).isoformat(),
                    "student_timezone": "UTC",
                }
                began = time.perf_counter()
                try:
                    response = await client.post(f"{base}/api/bookings", json=body, headers=headers)
                    ok = response.status_code == 201
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - began) * 1000)
                errors += not ok

        started = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.monotonic() - started
    done = len(latencies) - errors
    return {
        "bookings_per_s": round(done / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "errors": errors,
        "bookings": done,
    }


def concurrent_load(
    database_url: str,
    workers: int,
    clients: int,
    seconds: float,
    instructors: int,
    caps: dict[str, int] | None = None,
) -> dict[str, Any]:
    """wrk when it is installed (it leaves the CPU to the server), else an asyncio httpx client.

    One token for every request, so no pending cap; with `caps`, every instructor has daily and weekly
    caps high enough to refuse nothing: each booking then takes its instructor's cap lock."""
    with server(database_url, workers=workers) as base:
        seeded = seed(base, instructors=instructors, caps=caps)
        if wrk.available():
            token = student_headers()["Authorization"].removeprefix("Bearer ")
            ids = seeded.instructor_ids
            result = wrk.run(base, seeded.brand_id, ids, token, tomorrow_midnight(), clients, seconds)
        else:
            result = asyncio.run(_load(base, seeded.instructor_ids, seeded.brand_id, clients, seconds))
            result["client"] = "httpx (install wrk for a lighter client)"
    name = f"concurrent booking, {workers} process(es), {instructors} instructor(s)"
    if caps:
        name += ", capped"
    return {"benchmark": name, "database": "postgresql"} | result
