"""24 h reminders: once per due confirmed booking, whoever calls and however often."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.conftest import running_api
from tests.fake_providers import TWILIO_ERRORS, Providers
from tests.servers import booking_process, seed_through, service_env
from tests.support import REMINDER_KEY, SERVICE, Api, make_settings, user_headers

KEY = {"x-booking-reminder-key": REMINDER_KEY}
RUN_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # reminders are due for starts until Dec 1 12:00Z


@pytest.fixture
async def world(notifying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(notifying_api)
    every_day = [{"weekday": d, "start_time": "00:00", "end_time": "24:00"} for d in range(7)]
    await world.set_availability(weekly=every_day, settings={"buffer_minutes": 0})
    return world


async def confirmed(world: World, starts_at: str, headers: dict[str, str] | None = None) -> str:
    response = await world.book(starts_at, headers=headers)
    assert response.status_code == 201, response.text
    booking_id: str = response.json()["booking"]["id"]
    await world.patch(booking_id, {"payment_status": "paid"}, SERVICE)
    return booking_id


async def remind(world: World, headers: dict[str, str] = KEY) -> httpx.Response:
    return await world.client.post("/api/bookings/reminders", headers=headers)


async def test_due_confirmed_bookings_are_reminded_once(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    due_sms = await confirmed(world, "2026-12-01T09:00:00Z")
    due_email = await confirmed(
        world, "2026-12-01T11:00:00Z", headers=user_headers(uuid.uuid4(), email="e@example.com")
    )
    pending = (await world.booked("2026-11-30T14:00:00Z"))["id"]
    cancelled = await confirmed(world, "2026-11-30T15:00:00Z")
    await world.patch(cancelled, {"status": "cancelled"}, SERVICE)
    later = await confirmed(world, "2026-12-01T12:01:00Z")
    providers.twilio.requests.clear()
    providers.resend.requests.clear()

    clock.set(RUN_AT)
    response = await remind(world)
    assert response.status_code == 200
    body = response.json()
    assert body["reminded"] == 2
    results = {r["booking_id"]: r for r in body["results"]}
    assert set(results) == {due_sms, due_email}
    assert pending not in results and cancelled not in results and later not in results
    assert results[due_sms]["sms"]["status"] == "sent"
    assert results[due_sms]["email"]["status"] == "skipped"
    assert results[due_email]["sms"]["status"] == "skipped"
    assert results[due_email]["email"]["status"] == "sent"
    [sms] = providers.twilio.messages()
    assert sms["Body"].startswith("Reminder:") and "America/New_York" in sms["Body"]
    [email] = providers.resend.emails()
    assert email["to"] == ["e@example.com"] and email["subject"].startswith("Reminder:")

    again = await remind(world)
    assert again.json() == {"reminded": 0, "results": []}
    clock.set(RUN_AT + timedelta(minutes=1))
    assert [r["booking_id"] for r in (await remind(world)).json()["results"]] == [later]


async def test_failed_sms_falls_back_to_email(world: World, clock: FixedClock, providers: Providers) -> None:
    booking_id = await confirmed(world, "2026-12-01T09:00:00Z")
    providers.twilio.failure = TWILIO_ERRORS["21211"]
    clock.set(RUN_AT)
    [result] = (await remind(world)).json()["results"]
    assert result["booking_id"] == booking_id
    assert result["sms"]["status"] == "failed" and "21211" in result["sms"]["reason"]
    assert result["email"]["status"] == "sent"


async def test_past_sessions_are_not_reminded(world: World, clock: FixedClock) -> None:
    await confirmed(world, "2026-11-30T09:00:00Z")
    clock.set(RUN_AT)
    assert (await remind(world)).json()["reminded"] == 0


async def test_concurrent_calls_remind_each_booking_once(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    due = {await confirmed(world, f"2026-12-01T0{hour}:00:00Z") for hour in range(1, 7)}
    providers.twilio.requests.clear()
    clock.set(RUN_AT)
    answers = await asyncio.gather(*(remind(world) for _ in range(6)))
    reminded = [r["booking_id"] for a in answers for r in a.json()["results"]]
    assert sorted(reminded) == sorted(due)
    assert len(providers.twilio.messages()) == len(due)


@pytest.mark.parametrize("headers", [{}, {"x-booking-reminder-key": "wrong"}, {"x-booking-reminder-key": ""}])
async def test_wrong_or_missing_key_is_401(world: World, clock: FixedClock, headers: dict[str, str]) -> None:
    await confirmed(world, "2026-12-01T09:00:00Z")
    clock.set(RUN_AT)
    response = await remind(world, headers)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
    assert (await remind(world)).json()["reminded"] == 1, "refused calls claimed nothing"


async def test_without_a_configured_key_every_call_is_refused(database_url: str, clock: FixedClock) -> None:
    settings = make_settings(database_url, booking_reminder_api_key=None)
    async with running_api(settings, clock) as api:
        for headers in ({}, {"x-booking-reminder-key": ""}, {"x-booking-reminder-key": "None"}, KEY):
            assert (await api.client.post("/api/bookings/reminders", headers=headers)).status_code == 401


# --- across processes, and from the command line ----------------------------------------------------


async def _seed_due_bookings(base: str, count: int) -> tuple[list[str], str]:
    """Confirmed bookings starting within the next hours (real clock), plus one due later."""
    target = seed_through(base, buffer_minutes=0)
    async with httpx.AsyncClient(base_url=base, headers=SERVICE) as client:
        base_time = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
        ids = []
        for offset in [*range(count), 30]:
            booking = {
                **target,
                "starts_at": (base_time + timedelta(hours=offset)).isoformat(),
                "student_timezone": "Europe/Paris",
                "student_id": str(uuid.uuid4()),
                "student_phone": "+33612345678",
            }
            created = await client.post("/api/bookings", json=booking)
            assert created.status_code == 201, created.text
            booking_id = created.json()["booking"]["id"]
            await client.patch(f"/api/bookings/{booking_id}", json={"payment_status": "paid"})
            ids.append(booking_id)
        return ids[:-1], ids[-1]


async def test_two_processes_six_callers_one_reminder_each(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    env = service_env(database_url, providers)
    with (
        booking_process(["serve"], env=env, cwd=tmp_path) as (first, _, _),
        booking_process(["serve"], env=env, cwd=tmp_path) as (second, _, _),
    ):
        due, not_due = await _seed_due_bookings(first, 5)
        providers.twilio.requests.clear()
        async with httpx.AsyncClient(timeout=30) as client:
            answers = await asyncio.gather(
                *(
                    client.post(f"{(first, second)[i % 2]}/api/bookings/reminders", headers=KEY)
                    for i in range(6)
                )
            )
    assert {a.status_code for a in answers} == {200}
    reminded = [r["booking_id"] for a in answers for r in a.json()["results"]]
    assert sorted(reminded) == sorted(due) and not_due not in reminded
    assert len(providers.twilio.messages()) == len(due)


def test_send_reminders_command(database_url: str, providers: Providers, tmp_path: Path) -> None:
    env = service_env(database_url, providers)
    with booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, _):
        due, _ = asyncio.run(_seed_due_bookings(base, 2))

    def run() -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "booking.cli", "send-reminders"],
            env={"PATH": ""} | env, cwd=tmp_path, capture_output=True, text=True, check=True,
        )  # fmt: skip
        summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return summary

    first = run()
    assert sorted(r["booking_id"] for r in first["results"]) == sorted(due)
    assert run()["reminded"] == 0
