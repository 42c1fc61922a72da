"""Faults: the database going away mid-request, a locked SQLite file, graceful shutdown.

Provider faults (hang, reset, garbage, refusals, nothing listening) are in tests/test_notifications.py.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from booking.clock import FixedClock
from booking.models.bookings import Booking
from tests.booking_world import MONDAY, World, make_world
from tests.conftest import asyncpg_dsn, running_api
from tests.fake_providers import Providers
from tests.figures import FIGURES
from tests.loopback import Reply
from tests.servers import booking_process, seed_through
from tests.support import SECRET, SERVICE, SERVICE_KEY, Api, make_settings

START = "2026-12-01T10:00:00+01:00"


async def booking_count(world: World) -> int:
    async with world.api.app.state.context.db.transaction(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Booking)) or 0)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_connection_killed_mid_booking_is_503_and_writes_nothing(
    api: Api, clock: FixedClock, database_url: str
) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        # Hold the instructor's link row so that the booking request stops inside its transaction.
        await admin.execute("BEGIN")
        await admin.execute(
            "SELECT 1 FROM instructors_brands WHERE instructor_id = $1 FOR UPDATE",
            uuid.UUID(world.instructor["id"]),
        )
        request = asyncio.create_task(world.book(START))
        pid = None
        for _ in range(200):
            pid = await admin.fetchval(
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = 'booking' AND wait_event_type = 'Lock'"
            )
            if pid:
                break
            await asyncio.sleep(0.02)
        assert pid, "the booking request never reached the lock"
        await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        FIGURES["faults injected: connection killed mid-request"] += 1
        assert_unavailable(await request)
        await admin.execute("ROLLBACK")
    finally:
        await admin.close()
    assert await booking_count(world) == 0, "no half-written booking"
    # Recovery without a restart: the pool replaces the dead connection.
    assert (await world.book(START)).status_code == 201
    assert await booking_count(world) == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_all_connections_killed_then_service_recovers(
    api: Api, clock: FixedClock, database_url: str
) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    await world.booked(START)
    admin = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'booking'"
        )
    finally:
        await admin.close()
    FIGURES["faults injected: all connections killed"] += 1
    assert killed >= 1
    statuses = []
    for _ in range(3):
        response = await world.client.get(
            "/api/bookings", params={"brand_id": world.brand["id"]}, headers=SERVICE
        )
        statuses.append(response.status_code)
        if response.status_code == 503:
            assert_unavailable(response)
    assert statuses[-1] == 200, f"recovered without a restart: {statuses}"
    assert len(response.json()["bookings"]) == 1, "nothing was lost"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_locked_by_another_process_is_503_then_recovers(
    database_url: str, clock: FixedClock
) -> None:
    clock.set(MONDAY)
    settings = make_settings(database_url, sqlite_busy_timeout_seconds=0.3)
    async with running_api(settings, clock) as api:
        world = await make_world(api)
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        FIGURES["faults injected: database locked by another process"] += 1
        try:
            assert_unavailable(await world.book(START))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert await booking_count(world) == 0
        assert (await world.book(START)).status_code == 201


def test_graceful_shutdown_finishes_in_flight_requests(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    """SIGTERM while a booking waits on a hanging provider: the booking is answered and kept."""
    providers.twilio.failure = Reply(hang=True)
    env = {
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
        "NOTIFICATION_TIMEOUT_SECONDS": "1.5",
        "LOG_LEVEL": "warning",
    } | {k.upper(): str(v) for k, v in providers.settings().items()}
    with booking_process(["serve"], env=env, cwd=tmp_path) as (base, process, _):
        target = seed_through(base)
        starts_at = (datetime.now(UTC) + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
        body = target | {
            "starts_at": starts_at.isoformat(),
            "student_timezone": "UTC",
            "student_id": str(uuid.uuid4()),
            "student_phone": "+15551234567",
        }

        async def book_and_stop() -> httpx.Response:
            async with httpx.AsyncClient(timeout=30) as client:
                request = asyncio.create_task(client.post(f"{base}/api/bookings", json=body, headers=SERVICE))
                await asyncio.sleep(0.5)  # the booking is committed; Twilio is hanging
                process.send_signal(signal.SIGTERM)
                FIGURES["faults injected: SIGTERM during a request"] += 1
                return await request

        started = time.monotonic()
        response = asyncio.run(book_and_stop())
        assert response.status_code == 201, response.text
        assert "timeout" in response.json()["notifications"]["sms_blocker"]
        # uvicorn re-raises the signal once it has drained, so the exit status says SIGTERM.
        assert process.wait(timeout=15) in (0, -signal.SIGTERM)
        assert time.monotonic() - started < 15
    # The booking outlived the server.
    with booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, _):
        listed = httpx.get(
            f"{base}/api/bookings", params={"brand_id": target["brand_id"]}, headers=SERVICE
        ).json()
        assert [b["id"] for b in listed["bookings"]] == [response.json()["booking"]["id"]]
