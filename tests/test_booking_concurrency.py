"""No double booking under concurrency, and Idempotency-Key replay, on both databases."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.servers import seed_through, two_servers
from tests.support import Api, user_headers

ROUNDS = 5
CONCURRENT = 20


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


def keyed(key: str, headers: dict[str, str]) -> dict[str, str]:
    return headers | {"Idempotency-Key": key}


async def test_retry_with_same_key_and_body_replays_the_first_answer(world: World) -> None:
    body = world.body("2026-12-01T10:00:00+01:00")
    headers = keyed("retry-1", world.student_headers)
    first = await world.client.post("/api/bookings", json=body, headers=headers)
    second = await world.client.post("/api/bookings", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert len(await world.all_bookings()) == 1


async def test_same_key_with_another_body_is_422(world: World) -> None:
    headers = keyed("retry-2", world.student_headers)
    await world.client.post("/api/bookings", json=world.body("2026-12-01T10:00:00+01:00"), headers=headers)
    other = await world.client.post(
        "/api/bookings", json=world.body("2026-12-01T12:00:00+01:00"), headers=headers
    )
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert len(await world.all_bookings()) == 1


async def test_keys_are_per_caller(world: World) -> None:
    body = world.body("2026-12-01T10:00:00+01:00")
    await world.client.post("/api/bookings", json=body, headers=keyed("shared", world.student_headers))
    someone_else = user_headers(uuid.uuid4())
    response = await world.client.post("/api/bookings", json=body, headers=keyed("shared", someone_else))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "slot_unavailable"), (
        "not a replay"
    )


async def test_keys_expire_after_24_hours(world: World, clock: FixedClock) -> None:
    await world.set_availability(settings={"payment_hold_minutes": 0})  # the booking still holds its time
    body = world.body("2026-12-03T10:00:00+01:00")
    headers = keyed("old", world.student_headers)
    assert (await world.client.post("/api/bookings", json=body, headers=headers)).status_code == 201
    clock.set(MONDAY + timedelta(hours=23, minutes=59))
    assert (await world.client.post("/api/bookings", json=body, headers=headers)).status_code == 201
    clock.set(MONDAY + timedelta(hours=24, minutes=1))
    response = await world.client.post("/api/bookings", json=body, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "slot_unavailable")


async def test_failed_request_is_not_stored(world: World) -> None:
    headers = keyed("fails-first", world.student_headers)
    outside = await world.client.post(
        "/api/bookings", json=world.body("2026-12-01T07:00:00+01:00"), headers=headers
    )
    assert outside.status_code == 422
    fixed = await world.client.post(
        "/api/bookings", json=world.body("2026-12-01T10:00:00+01:00"), headers=headers
    )
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", [b"", b"x" * 256, b"tab\tkey", "ключ".encode()])
async def test_malformed_keys_are_422(world: World, key: bytes) -> None:
    headers = [(name.encode(), value.encode()) for name, value in world.student_headers.items()]
    headers.append((b"Idempotency-Key", key))
    response = await world.client.post(
        "/api/bookings", json=world.body("2026-12-01T10:00:00+01:00"), headers=headers
    )
    assert response.status_code == 422
    assert await world.all_bookings() == []


async def test_concurrent_requests_with_one_key_book_once(world: World) -> None:
    body = world.body("2026-12-01T10:00:00+01:00")
    headers = keyed("burst", world.student_headers)
    responses = await asyncio.gather(
        *(world.client.post("/api/bookings", json=body, headers=headers) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["booking"]["id"] for r in responses}) == 1
    assert len(await world.all_bookings()) == 1


def overlapping_bodies(world: World, day: datetime) -> list[dict[str, Any]]:
    """Twenty requests whose sessions all overlap: starts ten minutes apart within one hour."""
    return [
        world.body((day + timedelta(minutes=(i % 6) * 10)).isoformat(), duration_minutes=60)
        for i in range(CONCURRENT)
    ]


async def test_twenty_simultaneous_overlapping_requests_give_one_booking(world: World) -> None:
    for round_ in range(ROUNDS):
        # New students each round: a student who won three rounds would meet the pending cap (3).
        students = [user_headers(uuid.uuid4()) for _ in range(CONCURRENT)]
        day = datetime(2026, 12, 1 + round_ % 4, 9, 0, tzinfo=UTC) + timedelta(hours=3 * (round_ // 4))
        responses = await asyncio.gather(
            *(
                world.client.post("/api/bookings", json=body, headers=headers)
                for body, headers in zip(overlapping_bodies(world, day), students, strict=True)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (CONCURRENT - 1), f"round {round_}: {statuses}"
        assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"slot_unavailable"}
    assert len(await world.all_bookings()) == ROUNDS


# --- two server processes sharing one database ------------------------------------------------------


async def _race(bases: list[str], target: dict[str, Any], start: datetime) -> list[int]:
    async with httpx.AsyncClient(timeout=60) as client:
        requests = []
        for i in range(CONCURRENT):
            body = target | {
                "starts_at": (start + timedelta(minutes=(i % 6) * 10)).isoformat(),
                "student_timezone": "UTC",
            }
            headers = user_headers(uuid.uuid4())
            requests.append(client.post(f"{bases[i % len(bases)]}/api/bookings", json=body, headers=headers))
        return sorted(r.status_code for r in await asyncio.gather(*requests))


async def test_two_server_processes_never_double_book(database_url: str, tmp_path: Path) -> None:
    with two_servers(database_url, tmp_path) as (first, second):
        target = seed_through(first)
        soon = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
        for round_ in range(ROUNDS):
            statuses = await _race([first, second], target, soon + timedelta(hours=3 * round_))
            assert statuses == [201] + [409] * (CONCURRENT - 1), f"round {round_}: {statuses}"


async def test_chains_of_neighbouring_requests_never_fail_or_overlap(world: World) -> None:
    """Sixteen simultaneous bookings an hour apart: each overlaps its neighbours' 15-minute buffer, so
    the database makes some wait on others (on PostgreSQL, deadlocks that it breaks). Every answer is
    201 or 409, never a 5xx, and what was booked does not overlap."""
    every_day = [{"weekday": d, "start_time": "00:00", "end_time": "24:00"} for d in range(7)]
    await world.set_availability(weekly=every_day)
    for round_ in range(ROUNDS):
        day = datetime(2026, 12, 1 + round_, 8, 0, tzinfo=UTC)
        responses = await asyncio.gather(
            *(
                world.book(
                    (day + timedelta(hours=i % 8, minutes=30 * (i // 8))).isoformat(),
                    headers=user_headers(uuid.uuid4()),
                )
                for i in range(16)
            )
        )
        assert {r.status_code for r in responses} <= {201, 409}, [
            r.text for r in responses if r.status_code >= 500
        ]
        booked = sorted(
            datetime.fromisoformat(r.json()["booking"]["starts_at"])
            for r in responses
            if r.status_code == 201
        )
        assert booked, "something was booked"
        for earlier, later in itertools.pairwise(booked):
            assert later - earlier >= timedelta(minutes=75), "an hour plus the buffer between sessions"
