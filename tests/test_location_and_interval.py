"""Two settings per instructor and brand, on both databases: `slot_interval_minutes` (the step of the
slot list, so that one booking with its buffer removes one slot, not three) and `location` (where each
session happens, `{booking_id}` replaced; in booking JSON, the student's email and the .ics)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.fake_providers import Providers
from tests.support import SERVICE, Api

TUESDAY = "2026-12-01"


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)  # Monday to Friday 9:00-17:00 Berlin, 60-minute sessions


async def berlin_slots(world: World, day: str = TUESDAY) -> list[str]:
    params = {"brand_id": world.brand["id"], "from": day, "to": day, "timezone": "Europe/Berlin"}
    response = await world.client.get(f"/api/instructors/{world.instructor['id']}/slots", params=params)
    assert response.status_code == 200, response.text
    berlin = ZoneInfo("Europe/Berlin")
    starts = [datetime.fromisoformat(slot["starts_at"]) for slot in response.json()["slots"]]
    return [f"{start.astimezone(berlin):%H:%M}" for start in starts]


async def test_a_75_minute_step_lets_one_booking_take_one_slot(world: World) -> None:
    await world.set_availability(settings={"buffer_minutes": 15})
    assert await berlin_slots(world) == [
        "09:00",
        "10:00",
        "11:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]
    await world.booked(f"{TUESDAY}T10:00:00+01:00")
    # On the session's own grid, a booking and its buffer take its neighbours too: 5 slots left of 8.
    assert await berlin_slots(world) == ["12:00", "13:00", "14:00", "15:00", "16:00"]
    await world.set_availability(settings={"slot_interval_minutes": 75})
    assert await berlin_slots(world) == ["11:30", "12:45", "14:00", "15:15"]

    wednesday = "2026-12-02"
    assert await berlin_slots(world, wednesday) == ["09:00", "10:15", "11:30", "12:45", "14:00", "15:15"]
    await world.booked(f"{wednesday}T10:15:00+01:00")
    assert await berlin_slots(world, wednesday) == ["09:00", "11:30", "12:45", "14:00", "15:15"]
    await world.set_availability(settings={"slot_interval_minutes": None})  # back to the session's length
    assert await berlin_slots(world, wednesday) == ["09:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


@pytest.mark.parametrize(
    "settings",
    [
        {"slot_interval_minutes": 4},
        {"slot_interval_minutes": 481},
        {"slot_interval_minutes": "75"},
        {"location": ""},
        {"location": "x" * 501},
        {"location": "room\u0007"},
        {"location": 5},
    ],
)
async def test_bad_settings_are_422_and_change_nothing(world: World, settings: dict[str, Any]) -> None:
    url = f"/api/instructors/{world.instructor['id']}/availability"
    before = await world.client.get(url, params={"brand_id": world.brand["id"]})
    response = await world.client.put(
        url, json={"brand_id": world.brand["id"], "settings": settings}, headers=SERVICE
    )
    assert response.status_code == 422, response.text
    assert (await world.client.get(url, params={"brand_id": world.brand["id"]})).json() == before.json()


async def test_the_location_goes_with_each_booking_made_after_it_is_set(world: World) -> None:
    await world.set_brand_settings(max_pending_per_student=None)
    before = await world.booked(f"{TUESDAY}T09:00:00+01:00")
    assert before["location"] is None
    await world.set_availability(settings={"location": "https://meet.example.com/anna/{booking_id}"})
    booking = await world.booked(f"{TUESDAY}T11:00:00+01:00")
    assert booking["location"] == f"https://meet.example.com/anna/{booking['id']}"
    await world.set_availability(settings={"location": "Marktplatz 1, Berlin"})
    moved = await world.client.post(
        f"/api/bookings/{booking['id']}/reschedule",
        json={"starts_at": f"{TUESDAY}T13:00:00+01:00"},
        headers=world.student_headers,
    )
    assert moved.json()["booking"]["location"] == booking["location"]  # made before the change
    later = await world.booked(f"{TUESDAY}T15:00:00+01:00")
    assert later["location"] == "Marktplatz 1, Berlin"
    await world.set_availability(settings={"location": None})
    assert (await world.booked("2026-12-02T09:00:00+01:00"))["location"] is None


async def test_the_student_email_and_its_calendar_event_say_where(
    notifying_api: Api, clock: FixedClock, providers: Providers
) -> None:
    clock.set(MONDAY)
    world = await make_world(notifying_api)
    await world.set_availability(settings={"location": "https://meet.example.com/anna/{booking_id}"})
    booking = await world.booked(f"{TUESDAY}T10:00:00+01:00")
    where = f"https://meet.example.com/anna/{booking['id']}"
    (student,) = [e for e in providers.resend.emails() if e["to"] == ["student@example.com"]]
    assert f"Where: {where}" in student["text"]
    (event,) = Calendar.from_ical(providers.resend.calendar(student)).walk("VEVENT")
    assert str(event["LOCATION"]) == where
