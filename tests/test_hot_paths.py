"""POST /api/bookings and GET …/slots answer the same through booking.hot_paths as through FastAPI's
routes: every request here goes to the app twice, once with the hot paths and once without, on one
database, and the two answers must be equal byte for byte (a booking's ids and instants aside)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from booking import hot_paths
from booking.app import create_app
from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.support import SERVICE, Api, make_settings, user_headers

COMPARED_HEADERS = ("content-type", "allow", "idempotent-replayed", "www-authenticate", "cache-control")


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


@pytest.fixture
async def routes_only(database_url: str, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    """The same app on the same database and clock, with every request left to FastAPI's routes."""
    app = create_app(make_settings(database_url), clock=clock, hot_paths=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://booking.test") as client:
            yield client
    finally:
        await app.state.context.aclose()


@contextmanager
def counting_hot_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The operations the hot paths ran themselves (a request they passed on to FastAPI is not one)."""
    ran: list[str] = []
    book, slots = hot_paths.HotPaths._book, hot_paths.HotPaths._list_slots

    async def counted_book(self: hot_paths.HotPaths, *args: Any) -> Any:
        ran.append("book")
        return await book(self, *args)

    async def counted_slots(self: hot_paths.HotPaths, *args: Any) -> Any:
        ran.append("slots")
        return await slots(self, *args)

    monkeypatch.setattr(hot_paths.HotPaths, "_book", counted_book)
    monkeypatch.setattr(hot_paths.HotPaths, "_list_slots", counted_slots)
    yield ran


def answer(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers}
    return response.status_code, headers, response.content


async def both(
    world: World, routes_only: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> tuple[httpx.Response, httpx.Response]:
    hot = await world.client.request(method, url, **kwargs)
    plain = await routes_only.request(method, url, **kwargs)
    return hot, plain


def slots_url(world: World) -> str:
    return f"/api/instructors/{world.instructor['id']}/slots"


def booking_requests(world: World) -> list[tuple[str, dict[str, Any]]]:
    body = world.body("2026-12-01T10:00:00+01:00")
    student = world.student_headers
    return [
        ("no token", {"json": body}),
        ("a bad token", {"json": body, "headers": {"Authorization": "Bearer not-a-token"}}),
        ("not a bearer", {"json": body, "headers": {"Authorization": "Basic abc"}}),
        (
            "JSON that does not parse",
            {"content": b"{", "headers": student | {"Content-Type": "application/json"}},
        ),
        (
            "not UTF-8",
            {"content": b'{"a": "\xff"}', "headers": student | {"Content-Type": "application/json"}},
        ),
        ("a list, not an object", {"json": [body], "headers": student}),
        (
            "a missing field",
            {"json": {k: v for k, v in body.items() if k != "starts_at"}, "headers": student},
        ),
        ("an unknown field", {"json": body | {"colour": "red"}, "headers": student}),
        ("a naive instant", {"json": body | {"starts_at": "2026-12-01T10:00:00"}, "headers": student}),
        ("no content type", {"content": b"{}", "headers": student}),
        ("text/plain", {"content": b"{}", "headers": student | {"Content-Type": "text/plain"}}),
        ("a key too long", {"json": body, "headers": student | {"Idempotency-Key": "k" * 300}}),
        ("outside availability", {"json": world.body("2026-12-01T05:00:00+01:00"), "headers": student}),
        ("an unknown instructor", {"json": body | {"instructor_id": str(uuid.uuid4())}, "headers": student}),
        ("a student naming another", {"json": body | {"student_id": str(uuid.uuid4())}, "headers": student}),
    ]


async def test_refused_bookings_are_answered_as_by_the_routes(
    world: World, routes_only: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, request in booking_requests(world):
        hot, plain = await both(world, routes_only, "POST", "/api/bookings", **request)
        assert hot.status_code >= 400, name
        assert answer(hot) == answer(plain), name
    assert await world.all_bookings() == []


async def test_a_booking_is_answered_as_by_the_routes(
    world: World, routes_only: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with counting_hot_answers(monkeypatch) as ran:
        hot = await world.book("2026-12-01T10:00:00+01:00")
        plain = await routes_only.post(
            "/api/bookings", json=world.body("2026-12-01T12:00:00+01:00"), headers=world.student_headers
        )
    assert ran == ["book"]
    assert hot.status_code == plain.status_code == 201
    mine, theirs = hot.json(), plain.json()
    assert mine["notifications"] == theirs["notifications"]
    assert set(mine["booking"]) == set(theirs["booking"])
    different = {
        "id",
        "starts_at",
        "ends_at",
        "instructor_local",
        "student_local",
        "created_at",
        "updated_at",
    }
    different |= {"hold_expires_at"}
    assert {k: v for k, v in mine["booking"].items() if k not in different} == {
        k: v for k, v in theirs["booking"].items() if k not in different
    }
    # Each path's booking holds its time against the other.
    taken_by_hot = await routes_only.post(
        "/api/bookings", json=world.body("2026-12-01T10:00:00+01:00"), headers=world.student_headers
    )
    taken_by_plain = await world.book("2026-12-01T12:00:00+01:00")
    assert answer(taken_by_hot)[::2] == answer(taken_by_plain)[::2]
    assert taken_by_hot.json()["error"]["code"] == "slot_unavailable"


async def test_a_replayed_booking_is_answered_as_by_the_routes(
    world: World, routes_only: httpx.AsyncClient
) -> None:
    headers = world.student_headers | {"Idempotency-Key": "same-key"}
    body = world.body("2026-12-01T10:00:00+01:00")
    first = await world.client.post("/api/bookings", json=body, headers=headers)
    hot, plain = await both(world, routes_only, "POST", "/api/bookings", json=body, headers=headers)
    assert first.status_code == 201
    assert answer(hot) == answer(plain)
    assert hot.headers["idempotent-replayed"] == "true"
    assert hot.content == first.content


def slot_queries(world: World) -> list[tuple[str, str, dict[str, Any]]]:
    brand = world.brand["id"]
    week = {"brand_id": brand, "from": "2026-11-30", "to": "2026-12-06"}
    url = slots_url(world)
    return [
        ("a week", url, {"params": week}),
        (
            "a week in Tokyo, 30 minutes",
            url,
            {"params": week | {"timezone": "Asia/Tokyo", "duration_minutes": 30}},
        ),
        ("with a token", url, {"params": week, "headers": world.student_headers}),
        ("a bad token", url, {"params": week, "headers": {"Authorization": "Bearer nope"}}),
        ("no brand", url, {"params": {k: v for k, v in week.items() if k != "brand_id"}}),
        ("a brand that is not a UUID", url, {"params": week | {"brand_id": "x"}}),
        ("a repeated brand", url, {"params": [("brand_id", brand), *week.items()]}),
        ("'to' before 'from'", url, {"params": week | {"to": "2026-11-01"}}),
        ("63 days", url, {"params": week | {"to": "2027-01-31"}}),
        ("a date with a time", url, {"params": week | {"from": "2026-11-30T00:00:00"}}),
        ("an unknown zone", url, {"params": week | {"timezone": "Mars/Olympus"}}),
        ("4 minutes", url, {"params": week | {"duration_minutes": 4}}),
        ("an unknown instructor", f"/api/instructors/{uuid.uuid4()}/slots", {"params": week}),
        ("an instructor that is not a UUID", "/api/instructors/abc/slots", {"params": week}),
        ("a longer path", f"/api/instructors/{world.instructor['id']}/x/slots", {"params": week}),
        ("another brand", url, {"params": week | {"brand_id": str(uuid.uuid4())}}),
        (
            "a reschedule",
            url,
            {"params": week | {"reschedule_of": str(uuid.uuid4())}, "headers": world.student_headers},
        ),
    ]


async def test_slot_lists_are_answered_as_by_the_routes(
    world: World, routes_only: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.booked("2026-12-01T10:00:00+01:00")
    with counting_hot_answers(monkeypatch) as ran:
        for name, url, request in slot_queries(world):
            hot, plain = await both(world, routes_only, "GET", url, **request)
            assert answer(hot) == answer(plain), name
    # The lists themselves, and the lists asked with a token, came from the hot path; the lists
    # that fail before the database is asked went to FastAPI.
    assert ran.count("slots") >= 4
    listed = (await world.client.get(slots_url(world), params=slot_queries(world)[0][2]["params"])).json()
    assert "2026-12-01T09:00:00Z" not in {slot["starts_at"] for slot in listed["slots"]}
    assert "2026-12-01T11:00:00Z" in {slot["starts_at"] for slot in listed["slots"]}


async def test_a_brand_admin_books_for_a_student_through_the_hot_path(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    student = uuid.uuid4()
    body = world.body("2026-12-01T10:00:00+01:00", student_id=str(student), student_email="s@example.com")
    with counting_hot_answers(monkeypatch) as ran:
        response = await world.client.post("/api/bookings", json=body, headers=world.admin_headers)
        other = body | {"starts_at": "2026-12-01T12:00:00+01:00"}
        refused = await world.client.post("/api/bookings", json=other, headers=user_headers(uuid.uuid4()))
    assert response.status_code == 201, response.text
    assert response.json()["booking"]["student_id"] == str(student)
    assert refused.status_code == 403  # a student may not book for another
    assert ran == ["book", "book"]
    listed = await world.client.get("/api/bookings", params={"brand_id": world.brand["id"]}, headers=SERVICE)
    assert len(listed.json()["bookings"]) == 1
