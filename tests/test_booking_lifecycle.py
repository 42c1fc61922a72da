"""PATCH /api/bookings/{id}: the lifecycle and permissions of SPEC §8, with the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.support import SERVICE, Api, new_user

START = "2026-12-03T10:00:00+01:00"  # Thursday; 09:00Z
START_UTC = datetime.fromisoformat(START)


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


async def booking(world: World, status: str = "pending") -> dict[str, Any]:
    created = await world.booked(START)
    if status == "confirmed":
        response = await world.patch(created["id"], {"payment_status": "paid"}, world.admin_headers)
        assert response.json()["booking"]["status"] == "confirmed"
        return dict(response.json()["booking"])
    return created


async def status_of(world: World, booking_id: str) -> str:
    response = await world.client.get(f"/api/bookings/{booking_id}", headers=SERVICE)
    return str(response.json()["booking"]["status"])


async def test_payment_confirms_pending_in_the_same_change(world: World) -> None:
    created = await booking(world)
    response = await world.patch(created["id"], {"payment_status": "paid"}, world.admin_headers)
    assert response.status_code == 200
    assert (response.json()["booking"]["status"], response.json()["booking"]["payment_status"]) == (
        "confirmed",
        "paid",
    )
    detail = (await world.client.get(f"/api/bookings/{created['id']}", headers=world.admin_headers)).json()
    assert [(h["from_status"], h["to_status"], h["payment_status"]) for h in detail["history"]] == [
        (None, "pending", None),
        ("pending", "confirmed", "paid"),
    ]
    assert detail["history"][1]["actor"].startswith("user:")
    assert detail["history"][1]["created_at"] == "2026-11-30T06:00:00Z"


async def test_only_staff_write_payment(world: World) -> None:
    created = await booking(world)
    for headers in (world.student_headers, world.instructor_headers):
        assert (await world.patch(created["id"], {"payment_status": "paid"}, headers)).status_code == 403
    assert await status_of(world, created["id"]) == "pending"
    assert (await world.patch(created["id"], {"payment_status": "paid"}, SERVICE)).status_code == 200


async def test_student_cancels_own_booking_before_the_cutoff(world: World, clock: FixedClock) -> None:
    created = await booking(world, "confirmed")
    clock.set(START_UTC - timedelta(hours=24))  # exactly at the cutoff: still allowed
    response = await world.patch(
        created["id"], {"status": "cancelled", "cancellation_reason": "sick"}, world.student_headers
    )
    assert response.status_code == 200
    assert response.json()["booking"]["cancellation_reason"] == "sick"


async def test_student_cannot_cancel_after_the_cutoff(world: World, clock: FixedClock) -> None:
    created = await booking(world, "confirmed")
    clock.set(START_UTC - timedelta(hours=24) + timedelta(seconds=1))
    response = await world.patch(created["id"], {"status": "cancelled"}, world.student_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "cancellation_cutoff_passed")
    assert await status_of(world, created["id"]) == "confirmed"
    # Staff are not bound by the cutoff.
    assert (await world.patch(created["id"], {"status": "cancelled"}, world.admin_headers)).status_code == 200


async def test_cutoff_follows_the_brand_setting(world: World, clock: FixedClock) -> None:
    await world.set_availability(settings={"cancellation_cutoff_hours": 0})
    created = await booking(world)
    clock.set(START_UTC - timedelta(minutes=1))
    assert (
        await world.patch(created["id"], {"status": "cancelled"}, world.student_headers)
    ).status_code == 200


@pytest.mark.parametrize("target", ["confirmed", "completed", "no_show"])
async def test_student_may_only_cancel(world: World, clock: FixedClock, target: str) -> None:
    created = await booking(world, "confirmed" if target != "confirmed" else "pending")
    clock.set(START_UTC + timedelta(minutes=5))
    assert (await world.patch(created["id"], {"status": target}, world.student_headers)).status_code == 403


async def test_student_cannot_write_notes(world: World) -> None:
    created = await booking(world)
    response = await world.patch(created["id"], {"instructor_notes": "hi"}, world.student_headers)
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["completed", "no_show"])
async def test_completed_and_no_show_only_after_the_start(
    world: World, clock: FixedClock, target: str
) -> None:
    created = await booking(world, "confirmed")
    clock.set(START_UTC - timedelta(seconds=1))
    for headers in (world.instructor_headers, world.admin_headers, SERVICE):
        response = await world.patch(created["id"], {"status": target}, headers)
        assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition")
    clock.set(START_UTC)
    assert (await world.patch(created["id"], {"status": target}, world.instructor_headers)).status_code == 200


async def test_instructor_cancels_before_start_not_after(world: World, clock: FixedClock) -> None:
    first = await booking(world, "confirmed")
    clock.set(START_UTC - timedelta(minutes=1))
    assert (
        await world.patch(first["id"], {"status": "cancelled"}, world.instructor_headers)
    ).status_code == 200
    clock.set(MONDAY)
    second = await world.booked(START)
    clock.set(START_UTC)
    response = await world.patch(second["id"], {"status": "cancelled"}, world.instructor_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition")


async def test_instructor_cannot_confirm(world: World) -> None:
    created = await booking(world)
    assert (
        await world.patch(created["id"], {"status": "confirmed"}, world.instructor_headers)
    ).status_code == 403


async def test_instructor_writes_notes_and_students_never_see_them(world: World) -> None:
    created = await booking(world)
    response = await world.patch(
        created["id"], {"instructor_notes": "Bring the score"}, world.instructor_headers
    )
    assert response.json()["booking"]["instructor_notes"] == "Bring the score"
    as_student = await world.client.get(f"/api/bookings/{created['id']}", headers=world.student_headers)
    assert as_student.json()["booking"]["instructor_notes"] is None
    assert as_student.json().get("history") is None
    listed = await world.client.get(
        "/api/bookings", params={"brand_id": world.brand["id"]}, headers=world.student_headers
    )
    assert listed.json()["bookings"][0]["instructor_notes"] is None
    as_admin = await world.client.get(f"/api/bookings/{created['id']}", headers=world.admin_headers)
    assert as_admin.json()["booking"]["instructor_notes"] == "Bring the score"


@pytest.mark.parametrize("final", ["completed", "cancelled", "no_show"])
async def test_end_states_are_final(world: World, clock: FixedClock, final: str) -> None:
    created = await booking(world, "confirmed")
    clock.set(START_UTC + timedelta(hours=2))
    assert (await world.patch(created["id"], {"status": final}, SERVICE)).status_code == 200
    for target in {"pending", "confirmed", "completed", "cancelled", "no_show"} - {final}:
        response = await world.patch(created["id"], {"status": target}, SERVICE)
        assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition"), target
    assert await status_of(world, created["id"]) == final


async def test_pending_cannot_complete_or_go_back(world: World, clock: FixedClock) -> None:
    created = await booking(world)
    clock.set(START_UTC + timedelta(hours=2))
    for target in ("completed", "no_show"):
        response = await world.patch(created["id"], {"status": target}, SERVICE)
        assert response.json()["error"]["code"] == "invalid_transition"
    confirmed = await world.patch(created["id"], {"status": "confirmed"}, SERVICE)
    assert confirmed.status_code == 200
    back = await world.patch(created["id"], {"status": "pending"}, SERVICE)
    assert back.json()["error"]["code"] == "invalid_transition"


async def test_cancellation_reason_goes_with_cancelling(world: World) -> None:
    created = await booking(world)
    response = await world.patch(created["id"], {"cancellation_reason": "why not"}, world.admin_headers)
    assert response.status_code == 422
    assert await status_of(world, created["id"]) == "pending"


async def test_other_users_get_404(world: World) -> None:
    created = await booking(world)
    _, stranger = new_user()
    other = await world.api.brand(slug="other")
    _, other_admin = await world.api.admin_of(other["id"])
    for headers in (stranger, other_admin):
        assert (await world.patch(created["id"], {"status": "cancelled"}, headers)).status_code == 404
        assert (await world.client.get(f"/api/bookings/{created['id']}", headers=headers)).status_code == 404
    assert (await world.patch(created["id"], {"status": "cancelled"}, {})).status_code == 401
    assert await status_of(world, created["id"]) == "pending"


async def test_invalid_patch_bodies_are_422(world: World) -> None:
    created = await booking(world)
    for body in (
        {"status": "done"},
        {"payment_status": "refunded"},
        {"status": None, "x": 1},
        {"instructor_notes": 5},
    ):
        assert (await world.patch(created["id"], body, SERVICE)).status_code == 422, body
    assert (await world.client.patch("/api/bookings/not-a-uuid", json={}, headers=SERVICE)).status_code == 422


async def test_each_status_change_is_recorded_with_its_actor(world: World, clock: FixedClock) -> None:
    created = await booking(world)
    await world.patch(created["id"], {"payment_status": "paid"}, SERVICE)
    clock.set(START_UTC + timedelta(minutes=61))
    await world.patch(created["id"], {"status": "completed"}, world.instructor_headers)
    history = (
        await world.client.get(f"/api/bookings/{created['id']}", headers=world.instructor_headers)
    ).json()["history"]
    assert [(h["to_status"], h["actor"].split(":")[0]) for h in history] == [
        ("pending", "user"),
        ("confirmed", "service"),
        ("completed", "user"),
    ]
    assert history[-1]["created_at"] == "2026-12-03T10:01:00Z"
