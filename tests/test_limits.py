"""Booking limits (SPEC §10) on both databases: caps at exactly N and N+1, local days and Monday-to-Sunday
weeks across DST and far from UTC, per brand, the pending cap, and both under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.servers import seed_through, two_servers
from tests.support import SERVICE, Api, user_headers

EVERY_DAY = [{"weekday": d, "start_time": "00:00", "end_time": "24:00"} for d in range(7)]


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


def student() -> dict[str, str]:
    return user_headers(uuid.uuid4())


def code(response: httpx.Response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error", {}).get("code")


async def slots(world: World, first: str, last: str | None = None) -> list[str]:
    response = await world.client.get(
        f"/api/instructors/{world.instructor['id']}/slots",
        params={"brand_id": world.brand["id"], "from": first, "to": last or first},
    )
    assert response.status_code == 200, response.text
    return [slot["starts_at"] for slot in response.json()["slots"]]


# --- the instructor's caps --------------------------------------------------------------------------


async def test_a_daily_cap_takes_exactly_n_and_empties_that_days_slots(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 3})
    for hour in (9, 11):
        assert (await world.book(f"2026-12-01T{hour:02d}:00:00+01:00", headers=student())).status_code == 201
    assert len(await slots(world, "2026-12-01")) == 4, "four of eight taken by two bookings and buffers"
    assert (await world.book("2026-12-01T13:00:00+01:00", headers=student())).status_code == 201
    fourth = await world.book("2026-12-01T15:00:00+01:00", headers=student())
    assert code(fourth) == (409, "booking_limit_reached")
    assert await slots(world, "2026-12-01") == []
    assert len(await slots(world, "2026-12-02")) == 8, "the next day is untouched"
    assert (await world.book("2026-12-02T09:00:00+01:00", headers=student())).status_code == 201


async def test_rule_five_comes_before_the_cap(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 1})
    assert (await world.book("2026-12-01T09:00:00+01:00", headers=student())).status_code == 201
    assert code(await world.book("2026-12-01T09:30:00+01:00", headers=student())) == (409, "slot_unavailable")
    assert code(await world.book("2026-12-01T12:00:00+01:00", headers=student())) == (
        409,
        "booking_limit_reached",
    )


async def test_a_cancelled_booking_or_an_expired_hold_frees_its_place_under_the_cap(
    world: World, clock: FixedClock
) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 1})
    first = await world.booked("2026-12-01T09:00:00+01:00")
    assert code(await world.book("2026-12-01T12:00:00+01:00", headers=student())) == (
        409,
        "booking_limit_reached",
    )
    await world.patch(first["id"], {"status": "cancelled"}, world.student_headers)
    second = await world.book("2026-12-01T12:00:00+01:00", headers=student())
    assert second.status_code == 201
    clock.set(MONDAY + timedelta(minutes=30))  # the second's hold has expired: it no longer counts
    assert (await world.book("2026-12-01T15:00:00+01:00", headers=student())).status_code == 201


async def test_a_weekly_cap_counts_monday_to_sunday_across_a_dst_change(
    world: World, clock: FixedClock
) -> None:
    """Berlin leaves winter time on Sunday 28 March 2027: that week is 167 hours long, and still one week."""
    clock.set(datetime(2027, 3, 15, 12, 0, tzinfo=UTC))
    await world.set_availability(weekly=EVERY_DAY, settings={"max_bookings_per_week": 2, "buffer_minutes": 0})
    assert (
        await world.book("2027-03-22T00:00:00+01:00", headers=student())
    ).status_code == 201  # Monday 00:00
    assert (
        await world.book("2027-03-28T23:00:00+02:00", headers=student())
    ).status_code == 201  # Sunday 23:00
    assert code(await world.book("2027-03-25T10:00:00+01:00", headers=student())) == (
        409,
        "booking_limit_reached",
    )
    assert await slots(world, "2027-03-22", "2027-03-28") == []
    assert (await world.book("2027-03-21T23:00:00+01:00", headers=student())).status_code == 201, (
        "week before"
    )
    monday = await world.book("2027-03-29T00:00:00+02:00", headers=student())  # 22:00 UTC on Sunday
    assert monday.status_code == 201, "the next week starts at local midnight, not UTC midnight"


async def test_a_day_is_the_instructors_local_date_far_from_utc(api: Api, clock: FixedClock) -> None:
    """Auckland is UTC+13 in December: local 2 December runs from 1 December 11:00 UTC."""
    clock.set(MONDAY)
    world = await make_world(api, timezone="Pacific/Auckland")
    await world.set_availability(weekly=EVERY_DAY, settings={"max_bookings_per_day": 1, "buffer_minutes": 0})
    assert (
        await world.book("2026-12-01T11:00:00Z", headers=student())
    ).status_code == 201  # local 2nd, 00:00
    refused = await world.book("2026-12-02T10:00:00Z", headers=student())  # local 2nd, 23:00
    assert code(refused) == (409, "booking_limit_reached")
    assert (await world.book("2026-12-02T11:00:00Z", headers=student())).status_code == 201  # local 3rd
    last = await world.book("2026-12-01T10:00:00Z", headers=student())  # local 1st, 23:00
    assert last.status_code == 201, last.text


async def test_caps_count_their_own_brand_but_time_is_shared(world: World) -> None:
    other = await world.api.brand("other", "Other")
    url = f"/api/instructors/{world.instructor['id']}"
    assert (await world.client.put(f"{url}/brands/{other['id']}", headers=SERVICE)).status_code in (200, 201)
    body = {"brand_id": other["id"], "weekly": EVERY_DAY, "settings": {"max_bookings_per_day": 1}}
    assert (await world.client.put(f"{url}/availability", json=body, headers=SERVICE)).status_code == 200
    await world.set_availability(settings={"max_bookings_per_day": 1})

    in_other = world.body("2026-12-01T10:00:00+01:00", brand_id=other["id"])
    assert (await world.client.post("/api/bookings", json=in_other, headers=student())).status_code == 201
    same_time = await world.book("2026-12-01T10:00:00+01:00", headers=student())
    assert code(same_time) == (409, "slot_unavailable"), "the other brand's booking still blocks the time"
    assert (await world.book("2026-12-01T13:00:00+01:00", headers=student())).status_code == 201, (
        "but does not count against this brand's cap"
    )
    again = world.body("2026-12-01T15:00:00+01:00", brand_id=other["id"])
    assert code(await world.client.post("/api/bookings", json=again, headers=student())) == (
        409,
        "booking_limit_reached",
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"max_bookings_per_day": 0},
        {"max_bookings_per_day": 101},
        {"max_bookings_per_week": 0},
        {"max_bookings_per_week": 501},
        {"payment_hold_minutes": -1},
        {"payment_hold_minutes": 10081},
        {"max_bookings_per_day": "3"},
    ],
)
async def test_out_of_range_limits_are_422(world: World, settings: dict[str, Any]) -> None:
    url = f"/api/instructors/{world.instructor['id']}/availability"
    response = await world.client.put(
        url, json={"brand_id": world.brand["id"], "settings": settings}, headers=SERVICE
    )
    assert code(response) == (422, "validation_error")


async def test_a_cap_set_to_null_is_lifted_and_left_out_stays(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 2, "max_bookings_per_week": 9})
    url = f"/api/instructors/{world.instructor['id']}/availability"
    body = {"brand_id": world.brand["id"], "settings": {"max_bookings_per_day": None, "buffer_minutes": None}}
    response = await world.client.put(url, json=body, headers=SERVICE)
    settings = response.json()["settings"]
    assert (settings["max_bookings_per_day"], settings["max_bookings_per_week"]) == (None, 9)
    assert settings["buffer_minutes"] == 15, "a null for a setting without a null meaning changes nothing"


# --- the student's pending cap ------------------------------------------------------------------------


async def test_a_student_holds_at_most_three_pending_bookings_by_default(
    world: World, clock: FixedClock
) -> None:
    assert world.brand["settings"] == {
        "max_pending_per_student": 3,
        "currency": "usd",
        "timezone": "UTC",
        "locale": "en",
    }
    booked = [await world.booked(f"2026-12-01T{hour:02d}:00:00+01:00") for hour in (9, 11, 13)]
    fourth = await world.book("2026-12-01T15:00:00+01:00")
    assert code(fourth) == (409, "too_many_pending_bookings")
    await world.patch(booked[0]["id"], {"payment_status": "paid"}, SERVICE)  # confirmed: no longer pending
    assert (await world.book("2026-12-01T15:00:00+01:00")).status_code == 201
    assert code(await world.book("2026-12-02T09:00:00+01:00")) == (409, "too_many_pending_bookings")
    clock.set(MONDAY + timedelta(minutes=30))  # every hold has expired: none counts
    assert (await world.book("2026-12-02T09:00:00+01:00")).status_code == 201


async def test_staff_bookings_for_a_student_count_and_are_capped(world: World) -> None:
    await world.set_brand_settings(max_pending_per_student=1)
    for_student = {"student_id": str(world.student_id), "student_email": "student@example.com"}
    assert (await world.book("2026-12-01T09:00:00+01:00", headers=SERVICE, **for_student)).status_code == 201
    assert code(await world.book("2026-12-01T11:00:00+01:00")) == (409, "too_many_pending_bookings")
    by_admin = await world.book("2026-12-01T11:00:00+01:00", headers=world.admin_headers, **for_student)
    assert code(by_admin) == (409, "too_many_pending_bookings")


async def test_the_pending_cap_is_per_brand_and_comes_after_the_instructor_caps(world: World) -> None:
    await world.set_brand_settings(max_pending_per_student=1)
    await world.set_availability(settings={"max_bookings_per_day": 1})
    assert (await world.book("2026-12-01T09:00:00+01:00")).status_code == 201
    assert code(await world.book("2026-12-01T13:00:00+01:00")) == (409, "booking_limit_reached"), (
        "rule 6 first"
    )
    assert code(await world.book("2026-12-02T13:00:00+01:00")) == (409, "too_many_pending_bookings")

    other = await world.api.brand("other", "Other")
    url = f"/api/instructors/{world.instructor['id']}"
    await world.client.put(f"{url}/brands/{other['id']}", headers=SERVICE)
    await world.client.put(
        f"{url}/availability", json={"brand_id": other["id"], "weekly": EVERY_DAY}, headers=SERVICE
    )
    body = world.body("2026-12-02T13:00:00+01:00", brand_id=other["id"])
    assert (
        await world.client.post("/api/bookings", json=body, headers=world.student_headers)
    ).status_code == 201


async def test_brand_settings_are_changed_by_service_and_its_admin_only(world: World) -> None:
    url = f"/api/brands/{world.brand['id']}"
    by_admin = await world.client.patch(
        url, json={"name": "Acme II", "settings": {"max_pending_per_student": 5}}, headers=world.admin_headers
    )
    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["brand"] | {"id": None, "created_at": None} == {
        "id": None,
        "slug": "acme",
        "name": "Acme II",
        "settings": {"max_pending_per_student": 5, "currency": "usd", "timezone": "UTC", "locale": "en"},
        "created_at": None,
    }
    lifted = await world.client.patch(
        url, json={"settings": {"max_pending_per_student": None}}, headers=SERVICE
    )
    assert lifted.json()["brand"]["settings"] == {
        "max_pending_per_student": None,
        "currency": "usd",
        "timezone": "UTC",
        "locale": "en",
    }
    listed = (await world.client.get("/api/brands")).json()["brands"]
    assert listed[0]["settings"] == {
        "max_pending_per_student": None,
        "currency": "usd",
        "timezone": "UTC",
        "locale": "en",
    }
    for headers in (
        world.student_headers,
        world.instructor_headers,
        (await world.api.admin_of((await world.api.brand("else", "Else"))["id"]))[1],
    ):
        refused = await world.client.patch(url, json={"name": "Mine"}, headers=headers)
        assert code(refused) == (403, "forbidden")
    for bad in (0, 51, 2.5):
        invalid = await world.client.patch(
            url, json={"settings": {"max_pending_per_student": bad}}, headers=SERVICE
        )
        assert code(invalid) == (422, "validation_error")
    unknown = await world.client.patch(f"/api/brands/{uuid.uuid4()}", json={"name": "X"}, headers=SERVICE)
    assert code(unknown) == (404, "not_found")
    assert (await world.client.get("/api/brands")).json()["brands"][0]["name"] == "Acme II"


# --- concurrency ----------------------------------------------------------------------------------------


async def test_twelve_simultaneous_bookings_of_a_day_capped_at_three_give_three(world: World) -> None:
    await world.set_availability(weekly=EVERY_DAY, settings={"max_bookings_per_day": 3, "buffer_minutes": 0})
    for day in range(1, 4):
        responses = await asyncio.gather(
            *(
                world.book(f"2026-12-0{day}T{hour:02d}:00:00+01:00", headers=student())
                for hour in range(6, 18)
            )
        )
        assert sorted(code(r) for r in responses) == [(201, None)] * 3 + [(409, "booking_limit_reached")] * 9


async def test_ten_simultaneous_bookings_of_one_student_capped_at_two_give_two(world: World) -> None:
    await world.set_availability(weekly=EVERY_DAY, settings={"buffer_minutes": 0})
    await world.set_brand_settings(max_pending_per_student=2)
    responses = await asyncio.gather(
        *(world.book(f"2026-12-01T{hour:02d}:00:00+01:00") for hour in range(6, 16))
    )
    assert sorted(code(r) for r in responses) == [(201, None)] * 2 + [(409, "too_many_pending_bookings")] * 8


async def _burst(bases: list[str], target: dict[str, str], day: datetime) -> list[int]:
    async with httpx.AsyncClient(timeout=60) as client:
        requests = [
            client.post(
                f"{bases[hour % len(bases)]}/api/bookings",
                json=target
                | {"starts_at": (day + timedelta(hours=hour)).isoformat(), "student_timezone": "UTC"},
                headers=student(),
            )
            for hour in range(12)
        ]
        return sorted(r.status_code for r in await asyncio.gather(*requests))


async def test_two_server_processes_never_pass_a_cap(database_url: str, tmp_path: Path) -> None:
    with two_servers(database_url, tmp_path) as (first, second):
        target = seed_through(first, buffer_minutes=0)
        settings = {"brand_id": target["brand_id"], "settings": {"max_bookings_per_day": 3}}
        url = f"{first}/api/instructors/{target['instructor_id']}/availability"
        async with httpx.AsyncClient() as client:
            assert (await client.put(url, json=settings, headers=SERVICE)).status_code == 200
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        day = midnight + timedelta(days=20, hours=6)
        for round_ in range(3):
            statuses = await _burst([first, second], target, day + timedelta(days=round_))
            assert statuses == [201] * 3 + [409] * 9, f"round {round_}: {statuses}"
