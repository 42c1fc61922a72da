"""GET /api/bookings filters: instructor_id, payment_status, q (the student's name or email) and order."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from booking.clock import FixedClock
from tests.booking_world import MON_FRI_9_TO_17, MONDAY, World, make_world
from tests.support import SERVICE, Api, new_user


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(api)
    await world.set_brand_settings(max_pending_per_student=None)
    colleague_user, _ = new_user()
    colleague = await api.instructor([world.brand["id"]], user_id=colleague_user, name="Colleague")
    url = f"/api/instructors/{colleague['id']}/availability"
    body = {"brand_id": world.brand["id"], "weekly": MON_FRI_9_TO_17}
    assert (await api.client.put(url, json=body, headers=SERVICE)).status_code == 200
    world.extra["colleague"] = colleague
    return world


async def made(world: World, clock: FixedClock, start: str, name: str, email: str, **extra: Any) -> str:
    """A booking staff makes for another student (or the world's own student books: `own`)."""
    clock.set(clock.now() + timedelta(seconds=1))  # creation order is the order made
    own = extra.pop("own", False)
    people = {} if own else {"student_id": str(uuid.uuid4()), "student_email": email}
    body = {"student_name": name} | people | extra
    response = await world.book(start, headers=world.student_headers if own else SERVICE, **body)
    assert response.status_code == 201, response.text
    booking_id: str = response.json()["booking"]["id"]
    return booking_id


async def listed(world: World, headers: dict[str, str] = SERVICE, **params: Any) -> list[str]:
    response = await world.client.get(
        "/api/bookings", params={"brand_id": world.brand["id"]} | params, headers=headers
    )
    assert response.status_code == 200, response.text
    return [b["id"] for b in response.json()["bookings"]]


@pytest.fixture
async def four(world: World, clock: FixedClock) -> list[str]:
    colleague = world.extra["colleague"]["id"]
    ids = [
        await made(world, clock, "2026-12-01T09:00:00+01:00", "Zoe 100% Real", "", own=True),
        await made(
            world, clock, "2026-12-01T09:00:00+01:00", "Grace_Hopper", "g@navy.example",
            instructor_id=colleague,
        ),
        await made(world, clock, "2026-12-01T11:00:00+01:00", "Kelly", "GRACE.kelly@Example.org"),
        await made(world, clock, "2026-12-02T10:00:00+01:00", "Back\\Slash", "b@example.net"),
    ]  # fmt: skip
    paid = await world.patch(ids[2], {"payment_status": "paid"}, SERVICE)
    assert paid.status_code == 200, paid.text
    return ids


async def test_each_filter_alone(world: World, four: list[str]) -> None:
    own, hopper, kelly, slash = four
    assert await listed(world) == four
    assert await listed(world, instructor_id=world.extra["colleague"]["id"]) == [hopper]
    assert await listed(world, instructor_id=world.instructor["id"]) == [own, kelly, slash]
    assert await listed(world, payment_status="paid") == [kelly]
    assert await listed(world, payment_status="unpaid") == [own, hopper, slash]
    assert await listed(world, order="desc") == four[::-1]
    assert await listed(world, order="asc") == four


async def test_q_is_a_part_of_name_or_email_in_any_case_taken_literally(
    world: World, four: list[str]
) -> None:
    own, hopper, kelly, slash = four
    assert await listed(world, q="grace") == [hopper, kelly]  # a name; an email
    assert await listed(world, q="EXAMPLE.ORG") == [kelly]
    assert await listed(world, q="gRaCe.KeL") == [kelly]
    assert await listed(world, q="%") == [own]  # not "anything"
    assert await listed(world, q="0% r") == [own]
    assert await listed(world, q="_") == [hopper]  # not "any one character"
    assert await listed(world, q="e_h") == [hopper]
    assert await listed(world, q="k\\s") == [slash]
    assert await listed(world, q="\\") == [slash]
    assert await listed(world, q="nobody") == []
    assert await listed(world, q="x" * 100) == []


async def test_filters_combined(world: World, four: list[str]) -> None:
    own, hopper, kelly, slash = four
    mine = world.instructor["id"]
    assert await listed(world, q="grace", instructor_id=mine) == [kelly]
    assert await listed(world, q="grace", payment_status="unpaid") == [hopper]
    assert await listed(world, q="e", instructor_id=mine, payment_status="unpaid", order="desc") == [
        slash,
        own,
    ]
    week: dict[str, Any] = {"from": "2026-12-01T00:00:00Z", "to": "2026-12-02T00:00:00Z"}
    assert await listed(world, q="example", **week) == [own, hopper, kelly]  # not the 2nd's
    assert await listed(world, q="example", order="desc", limit=2, **week) == [kelly, hopper]
    assert await listed(world, q="example", status="confirmed", **week) == [kelly]  # paid
    assert await listed(world, q="example", status="pending", order="desc", **week) == [hopper, own]
    assert await listed(world, world.admin_headers, q="grace", instructor_id=mine) == [kelly]


async def test_a_students_q_finds_only_their_own(world: World, four: list[str]) -> None:
    own = four[0]
    assert await listed(world, world.student_headers, q="grace") == []
    assert await listed(world, world.student_headers, q="zoe") == [own]
    assert await listed(world, world.student_headers, q="e", order="desc") == [own]
    # The instructor: their own sessions only, whatever instructor_id asks for.
    colleague = world.extra["colleague"]["id"]
    assert await listed(world, world.instructor_headers, instructor_id=colleague) == []
    assert await listed(world, world.instructor_headers, q="grace") == [four[2]]


async def pages(world: World, headers: dict[str, str], **params: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        more: dict[str, str] = {"cursor": cursor} if cursor else {}
        response = await world.client.get(
            "/api/bookings", params={"brand_id": world.brand["id"]} | params | more, headers=headers
        )
        assert response.status_code == 200, response.text
        seen += [b["id"] for b in response.json()["bookings"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_cursor_pages_through_everything_once_in_both_orders(world: World, clock: FixedClock) -> None:
    colleague = world.extra["colleague"]["id"]
    ids = []
    for day in range(1, 4):
        for hour in range(9, 17, 2):
            start = f"2026-12-0{day}T{hour:02d}:00:00+01:00"
            ids.append(await made(world, clock, start, f"Student {day}{hour}", f"s{day}{hour}@example.com"))
            ids.append(await made(world, clock, start, "Other", "o@example.net", instructor_id=colleague))
    assert await pages(world, SERVICE, limit=5) == ids
    assert await pages(world, SERVICE, limit=5, order="desc") == ids[::-1]
    assert await pages(world, SERVICE, limit=1, order="desc") == ids[::-1]
    assert await pages(world, SERVICE, limit=3, order="desc", q="student") == ids[-2::-2]
    assert await pages(world, SERVICE, limit=2, order="desc", instructor_id=colleague) == ids[::-1][::2]
    assert await pages(world, world.instructor_headers, limit=4, order="desc") == ids[-2::-2]
    assert await pages(world, SERVICE, limit=4, order="desc", status="pending") == ids[::-1]
    span = {"from": "2026-12-02T00:00:00Z", "to": "2026-12-03T00:00:00Z"}
    assert await pages(world, SERVICE, limit=3, order="desc", **span) == ids[8:16][::-1]


@pytest.mark.parametrize(
    "bad",
    [
        {"order": "sideways"},
        {"order": "DESC"},
        {"payment_status": "refunded"},
        {"instructor_id": "not-a-uuid"},
        {"q": ""},
        {"q": "x" * 101},
        {"q": "ann\u0000"},  # PostgreSQL refuses NUL in text: a 422, never a 500 (found by the fuzz test)
        {"q": "ann\u0007"},
    ],
)
async def test_bad_values_are_422(world: World, bad: dict[str, str]) -> None:
    response = await world.client.get(
        "/api/bookings", params={"brand_id": world.brand["id"]} | bad, headers=SERVICE
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
