"""GET /api/bookings (visibility, filters, cursor pages), GET /api/bookings/{id}, the instructor calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.support import SERVICE, Api, new_user


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(api)
    # Listing needs more bookings of one student than the default pending cap lets them hold.
    await world.set_brand_settings(max_pending_per_student=None)
    return world


async def book_at(
    world: World, clock: FixedClock, starts: list[str], headers: dict[str, str] | None = None
) -> list[str]:
    ids = []
    for start in starts:
        clock.set(clock.now() + timedelta(seconds=1))  # creation order is list order
        response = await world.book(start, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["booking"]["id"])
    return ids


async def listed(world: World, headers: dict[str, str], **params: Any) -> list[str]:
    response = await world.client.get(
        "/api/bookings", params={"brand_id": world.brand["id"]} | params, headers=headers
    )
    assert response.status_code == 200, response.text
    return [b["id"] for b in response.json()["bookings"]]


async def test_each_caller_sees_what_spec_allows(world: World, clock: FixedClock) -> None:
    mine = await book_at(world, clock, ["2026-12-01T09:00:00+01:00"])
    _, other_student = new_user()
    theirs = await book_at(world, clock, ["2026-12-01T12:00:00+01:00"], headers=other_student)
    other_brand = await world.api.brand(slug="other")
    _, other_admin = await world.api.admin_of(other_brand["id"])
    _, stranger = new_user()

    assert await listed(world, world.student_headers) == mine
    assert await listed(world, other_student) == theirs
    assert await listed(world, world.instructor_headers) == mine + theirs
    assert await listed(world, world.admin_headers) == mine + theirs
    assert await listed(world, SERVICE) == mine + theirs
    assert await listed(world, other_admin) == []
    assert await listed(world, stranger) == []
    response = await world.client.get("/api/bookings", params={"brand_id": world.brand["id"]})
    assert response.status_code == 401


async def test_instructor_sees_only_own_sessions(world: World, clock: FixedClock) -> None:
    colleague_user, colleague_headers = new_user()
    colleague = await world.api.instructor([world.brand["id"]], user_id=colleague_user, name="Colleague")
    await world.client.put(
        f"/api/instructors/{colleague['id']}/availability",
        json={
            "brand_id": world.brand["id"],
            "weekly": [{"weekday": 2, "start_time": "09:00", "end_time": "17:00"}],
        },
        headers=SERVICE,
    )
    ours = await book_at(world, clock, ["2026-12-01T09:00:00+01:00"])
    response = await world.client.post(
        "/api/bookings",
        json=world.body("2026-12-01T09:00:00+01:00", instructor_id=colleague["id"]),
        headers=world.student_headers,
    )
    assert response.status_code == 201
    assert await listed(world, world.instructor_headers) == ours
    assert await listed(world, colleague_headers) == [response.json()["booking"]["id"]]


async def test_filters(world: World, clock: FixedClock) -> None:
    early, late = await book_at(world, clock, ["2026-12-01T09:00:00+01:00", "2026-12-02T09:00:00+01:00"])
    await world.patch(late, {"payment_status": "paid"}, SERVICE)
    assert await listed(world, SERVICE, status="confirmed") == [late]
    assert await listed(world, SERVICE, status="pending") == [early]
    assert await listed(world, SERVICE, **{"from": "2026-12-02T00:00:00Z"}) == [late]
    assert await listed(world, SERVICE, to="2026-12-02T00:00:00+01:00") == [early]
    assert await listed(world, SERVICE, **{"from": "2026-12-01T08:00:00Z", "to": "2026-12-01T08:00:01Z"}) == [
        early
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"from": "2026-12-01T00:00:00"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage!"},
    ],
)
async def test_bad_list_queries_are_422(world: World, params: dict[str, Any]) -> None:
    response = await world.client.get(
        "/api/bookings", params={"brand_id": world.brand["id"]} | params, headers=SERVICE
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_cursor_pages_are_stable_while_bookings_are_added(world: World, clock: FixedClock) -> None:
    starts = [f"2026-12-0{day}T{hour:02d}:00:00+01:00" for day in (1, 2) for hour in (9, 11, 13, 15)]
    first_five = await book_at(world, clock, starts[:5])
    seen: list[str] = []
    cursor = None
    added: list[str] = []
    while True:
        params: dict[str, Any] = {"brand_id": world.brand["id"], "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await world.client.get("/api/bookings", params=params, headers=SERVICE)).json()
        seen += [b["id"] for b in page["bookings"]]
        if not added:
            added = await book_at(world, clock, starts[5:])  # inserted while paging
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == first_five + added, "no booking twice, none skipped, newest last"


async def test_get_one_booking(world: World, clock: FixedClock) -> None:
    [booking_id] = await book_at(world, clock, ["2026-12-01T09:00:00+01:00"])
    for headers in (world.student_headers, world.instructor_headers, world.admin_headers, SERVICE):
        response = await world.client.get(f"/api/bookings/{booking_id}", headers=headers)
        assert response.status_code == 200
        assert response.json()["booking"]["id"] == booking_id
    staff_view = (
        await world.client.get(f"/api/bookings/{booking_id}", headers=world.instructor_headers)
    ).json()
    assert staff_view["history"][0]["to_status"] == "pending"
    _, stranger = new_user()
    assert (await world.client.get(f"/api/bookings/{booking_id}", headers=stranger)).status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await world.client.get(f"/api/bookings/{missing}", headers=SERVICE)).status_code == 404
    assert (await world.client.get(f"/api/bookings/{booking_id}")).status_code == 401


# --- calendar ---------------------------------------------------------------------------------------


def calendar_url(world: World) -> str:
    return f"/api/instructors/{world.instructor['id']}/calendar"


async def test_calendar_lists_upcoming_active_sessions_in_order(world: World, clock: FixedClock) -> None:
    later, earlier, cancelled = await book_at(
        world, clock, ["2026-12-02T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "2026-12-01T12:00:00+01:00"]
    )
    await world.patch(cancelled, {"status": "cancelled"}, SERVICE)
    await world.patch(earlier, {"instructor_notes": "first lesson"}, world.instructor_headers)
    response = await world.client.get(
        calendar_url(world), params={"brand_id": world.brand["id"]}, headers=world.instructor_headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/Berlin"
    assert [s["id"] for s in body["sessions"]] == [earlier, later]
    assert body["sessions"][0]["instructor_local"]["starts_at"] == "2026-12-01T09:00:00+01:00"
    assert body["sessions"][0]["instructor_notes"] == "first lesson"
    clock.set(MONDAY + timedelta(days=1, hours=3))  # after the first session started
    upcoming = await world.client.get(
        calendar_url(world), params={"brand_id": world.brand["id"]}, headers=SERVICE
    )
    assert [s["id"] for s in upcoming.json()["sessions"]] == [later]
    ranged = await world.client.get(
        calendar_url(world),
        params={"brand_id": world.brand["id"], "from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"},
        headers=world.admin_headers,
    )
    assert [s["id"] for s in ranged.json()["sessions"]] == [earlier]


async def test_calendar_permissions(world: World) -> None:
    params = {"brand_id": world.brand["id"]}
    other = await world.api.brand(slug="other")
    _, other_admin = await world.api.admin_of(other["id"])
    assert (await world.client.get(calendar_url(world), params=params)).status_code == 401
    assert (
        await world.client.get(calendar_url(world), params=params, headers=world.student_headers)
    ).status_code == 403
    assert (
        await world.client.get(calendar_url(world), params=params, headers=other_admin)
    ).status_code == 403
    for headers in (world.instructor_headers, world.admin_headers, SERVICE):
        assert (
            await world.client.get(calendar_url(world), params=params, headers=headers)
        ).status_code == 200
