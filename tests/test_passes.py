"""Packages and passes on both databases: selling, activating, spending a pass (rule 8 and its
reasons, in order), a guarded decrement under concurrency, sessions given back on cancellation and
spent on completed/no-show, validity from the brand's own midnight (Europe/Paris), and reschedule."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from booking.clock import FixedClock
from tests.booking_world import World, make_world
from tests.support import SERVICE, Api, user_headers

# Monday 1 March 2027, 09:00 in Paris.
MONDAY = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
EVERY_DAY = [{"weekday": d, "start_time": "00:00", "end_time": "24:00"} for d in range(7)]


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(api, timezone="Europe/Paris")
    await world.set_brand_settings(timezone="Europe/Paris", currency="eur", max_pending_per_student=None)
    await world.set_availability(
        weekly=EVERY_DAY, settings={"buffer_minutes": 0, "price_amount": 6000, "session_minutes": 60}
    )
    return world


async def package(world: World, **extra: Any) -> dict[str, Any]:
    body = {"name": "Ten sessions", "sessions": 10, "valid_days": 180, "price_amount": 50000} | extra
    url = f"/api/brands/{world.brand['id']}/packages"
    response = await world.client.post(url, json=body, headers=world.admin_headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()["package"]
    return made


async def bought(world: World, package_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await world.client.post(
        "/api/passes", json={"package_id": package_id}, headers=headers or world.student_headers
    )
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()["pass"]
    return made


async def paid(world: World, pass_id: str) -> dict[str, Any]:
    response = await world.client.patch(
        f"/api/passes/{pass_id}", json={"payment_status": "paid"}, headers=SERVICE
    )
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()["pass"]
    return made


async def active_pass(world: World, **terms: Any) -> dict[str, Any]:
    made = await package(world, **terms)
    return await paid(world, (await bought(world, made["id"]))["id"])


async def read(world: World, pass_id: str) -> dict[str, Any]:
    response = await world.client.get(f"/api/passes/{pass_id}", headers=world.student_headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["pass"]
    return found


def refusal(response: httpx.Response) -> tuple[int, str, Any]:
    error = response.json()["error"]
    return response.status_code, error["code"], (error["details"] or {}).get("reason")


# --- packages ---------------------------------------------------------------------------------------


async def test_a_package_is_sold_in_the_brands_currency_and_listed(world: World, api: Api) -> None:
    made = await package(world, instructor_ids=[world.instructor["id"]])
    assert made["price"] == {"amount": 50000, "currency": "eur"}
    assert (made["sessions"], made["valid_days"], made["active"]) == (10, 180, True)
    assert made["instructor_ids"] == [world.instructor["id"]]
    url = f"/api/brands/{world.brand['id']}/packages"
    changed = await world.client.patch(
        f"{url}/{made['id']}", json={"active": False}, headers=world.admin_headers
    )
    assert changed.status_code == 200 and changed.json()["package"]["active"] is False
    anyone = await world.client.get(url)
    assert anyone.status_code == 200 and anyone.json()["packages"] == []
    staff = await world.client.get(url, headers=world.admin_headers)
    assert [p["id"] for p in staff.json()["packages"]] == [made["id"]]
    # Another brand's admin: as if the brand had no packages to change.
    other = await api.brand(slug="other", name="Other")
    _, stranger = await api.admin_of(other["id"])
    assert (
        await world.client.post(
            url, json={"name": "x", "sessions": 1, "valid_days": 1, "price_amount": 0}, headers=stranger
        )
    ).status_code == 404
    assert (
        await world.client.patch(f"{url}/{made['id']}", json={"active": True}, headers=stranger)
    ).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "sessions": 0, "valid_days": 10, "price_amount": 0},
        {"name": "x", "sessions": 101, "valid_days": 10, "price_amount": 0},
        {"name": "x", "sessions": 1, "valid_days": 1096, "price_amount": 0},
        {"name": "x", "sessions": 1, "valid_days": 10, "price_amount": -1},
        {"name": "x", "sessions": 1, "valid_days": 10, "price_amount": 100_000_001},
        {"name": "", "sessions": 1, "valid_days": 10, "price_amount": 0},
        {
            "name": "x",
            "sessions": 1,
            "valid_days": 10,
            "price_amount": 0,
            "instructor_ids": [str(uuid.uuid4())],
        },
        {"name": "x", "sessions": "1", "valid_days": 10, "price_amount": 0},
    ],
)
async def test_bad_packages_are_422_and_make_nothing(world: World, body: dict[str, Any]) -> None:
    url = f"/api/brands/{world.brand['id']}/packages"
    response = await world.client.post(url, json=body, headers=world.admin_headers)
    assert response.status_code == 422, response.text
    assert (await world.client.get(url, headers=world.admin_headers)).json()["packages"] == []


# --- passes -----------------------------------------------------------------------------------------


async def test_a_pass_is_pending_until_paid_then_valid_to_the_brands_midnight(world: World) -> None:
    made = await package(world, valid_days=30)
    bought_pass = await bought(world, made["id"])
    assert bought_pass["status"] == "pending"
    assert (bought_pass["valid_until"], bought_pass["activated_at"]) == (None, None)
    assert (bought_pass["sessions_total"], bought_pass["sessions_left"]) == (10, 10)
    assert bought_pass["price"] == {"amount": 50000, "currency": "eur"}
    assert bought_pass["payment"]["provider"] is None
    active = await paid(world, bought_pass["id"])
    assert active["status"] == "active"
    # Activated on 1 March (Paris): valid until the start of 31 March in Paris, after the clock change.
    assert active["valid_until"] == "2027-03-30T22:00:00Z"
    assert active["payment"] == {
        "provider": "manual",
        "amount_paid": 50000,
        "amount_refunded": 0,
        "refund_status": None,
    }


async def test_who_may_buy_read_and_change_a_pass(world: World, api: Api) -> None:
    made = await package(world)
    for_other = await world.client.post(
        "/api/passes",
        json={"package_id": made["id"], "student_id": str(uuid.uuid4())},
        headers=world.student_headers,
    )
    assert for_other.status_code == 403
    staff_sold = await world.client.post(
        "/api/passes",
        json={"package_id": made["id"], "student_id": str(world.student_id)},
        headers=world.admin_headers,
    )
    assert staff_sold.status_code == 201 and staff_sold.json()["pass"]["student_id"] == str(world.student_id)
    mine = await bought(world, made["id"])
    stranger = user_headers(uuid.uuid4())
    assert (await world.client.get(f"/api/passes/{mine['id']}", headers=stranger)).status_code == 404
    patched = await world.client.patch(
        f"/api/passes/{mine['id']}", json={"payment_status": "paid"}, headers=world.student_headers
    )
    assert patched.status_code == 403
    listed = await world.client.get("/api/passes", headers=world.student_headers)
    assert {p["id"] for p in listed.json()["passes"]} == {mine["id"], staff_sold.json()["pass"]["id"]}
    brand_list = await world.client.get(
        "/api/passes", params={"brand_id": world.brand["id"]}, headers=world.admin_headers
    )
    assert len(brand_list.json()["passes"]) == 2
    other = await api.brand(slug="other", name="Other")
    _, other_admin = await api.admin_of(other["id"])
    assert (await world.client.get(f"/api/passes/{mine['id']}", headers=other_admin)).status_code == 404


async def test_replaying_the_key_buys_one_pass(world: World) -> None:
    made = await package(world)
    headers = world.student_headers | {"Idempotency-Key": "buy-1"}
    first = await world.client.post("/api/passes", json={"package_id": made["id"]}, headers=headers)
    again = await world.client.post("/api/passes", json={"package_id": made["id"]}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    listed = await world.client.get("/api/passes", headers=world.student_headers)
    assert len(listed.json()["passes"]) == 1


# --- spending ---------------------------------------------------------------------------------------


async def test_a_booking_paid_with_a_pass_is_confirmed_and_takes_a_session(world: World) -> None:
    held = await active_pass(world)
    booking = await world.booked("2027-03-03T10:00:00+01:00", pass_id=held["id"])
    assert (booking["status"], booking["payment_status"]) == ("confirmed", "paid")
    assert booking["pass_id"] == held["id"] and booking["hold_expires_at"] is None
    assert booking["payment"]["provider"] == "pass" and booking["price"] is None
    assert (await read(world, held["id"]))["sessions_left"] == 9


async def test_rule_8_names_why_a_pass_cannot_pay(world: World, api: Api) -> None:
    start = "2027-03-03T10:00:00+01:00"
    pending = await bought(world, (await package(world))["id"])
    assert refusal(await world.book(start, pass_id=pending["id"])) == (409, "pass_not_usable", "not_active")
    other_coach = await api.instructor([world.brand["id"]], name="Bo Coach")
    only_other = await active_pass(world, instructor_ids=[other_coach["id"]])
    assert refusal(await world.book(start, pass_id=only_other["id"])) == (
        409,
        "pass_not_usable",
        "instructor_not_included",
    )
    short = await active_pass(world, valid_days=1)
    assert refusal(await world.book(start, pass_id=short["id"])) == (
        409,
        "pass_not_usable",
        "expires_before_session",
    )
    stranger = user_headers(uuid.uuid4())
    assert (await world.book(start, headers=stranger, pass_id=short["id"])).status_code == 404
    cancelled = await active_pass(world)
    response = await world.client.patch(
        f"/api/passes/{cancelled['id']}", json={"status": "cancelled"}, headers=SERVICE
    )
    assert response.json()["pass"]["status"] == "cancelled"
    assert refusal(await world.book(start, pass_id=cancelled["id"])) == (409, "pass_not_usable", "not_active")
    assert await world.all_bookings() == []


async def test_a_pass_of_another_brand_is_wrong_brand(world: World, api: Api) -> None:
    other = await api.brand(slug="other", name="Other")
    await api.client.patch(
        f"/api/brands/{other['id']}", json={"settings": {"currency": "eur"}}, headers=SERVICE
    )
    url = f"/api/brands/{other['id']}/packages"
    made = await world.client.post(
        url, json={"name": "x", "sessions": 2, "valid_days": 30, "price_amount": 0}, headers=SERVICE
    )
    elsewhere = await bought(world, made.json()["package"]["id"])
    response = await world.book("2027-03-03T10:00:00+01:00", pass_id=elsewhere["id"])
    assert refusal(response) == (409, "pass_not_usable", "wrong_brand")


async def test_rules_1_to_7_come_before_the_pass(world: World) -> None:
    pending = await bought(world, (await package(world))["id"])
    response = await world.book("2027-02-01T10:00:00+01:00", pass_id=pending["id"])
    assert refusal(response)[1] == "in_the_past"


async def test_one_session_left_and_ten_concurrent_bookings_make_exactly_one(world: World) -> None:
    held = await active_pass(world, sessions=1)
    starts = [f"2027-03-0{3 + i // 5}T{10 + i % 5:02d}:00:00+01:00" for i in range(10)]
    responses = await asyncio.gather(*(world.book(start, pass_id=held["id"]) for start in starts))
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 9, [r.text for r in responses]
    assert {refusal(r)[2] for r in responses if r.status_code == 409} == {"no_sessions_left"}
    assert (await read(world, held["id"]))["sessions_left"] == 0
    assert len(await world.all_bookings()) == 1


async def test_a_series_of_eight_with_seven_sessions_left_writes_nothing(world: World) -> None:
    held = await active_pass(world, sessions=7)
    body = world.body("2027-03-02T18:00:00+01:00", pass_id=held["id"]) | {"count": 8}
    response = await world.client.post("/api/series", json=body, headers=world.student_headers)
    assert refusal(response) == (409, "pass_not_usable", "no_sessions_left")
    assert await world.all_bookings() == []
    assert (await read(world, held["id"]))["sessions_left"] == 7
    body["count"] = 7
    made = await world.client.post("/api/series", json=body, headers=world.student_headers)
    assert made.status_code == 201, made.text
    assert {b["status"] for b in made.json()["series"]["bookings"]} == {"confirmed"}
    assert (await read(world, held["id"]))["sessions_left"] == 0


async def test_validity_ends_at_brand_local_midnight(world: World) -> None:
    """Activated on Monday 1 March in Paris with one day: 23:55 that night is covered, 00:00 is not."""
    held = await active_pass(world, valid_days=1)
    assert held["valid_until"] == "2027-03-01T23:00:00Z"
    late = await world.book("2027-03-01T23:55:00+01:00", pass_id=held["id"], duration_minutes=5)
    assert late.status_code == 201, late.text
    midnight = await world.book("2027-03-02T00:00:00+01:00", pass_id=held["id"], duration_minutes=5)
    assert refusal(midnight) == (409, "pass_not_usable", "expires_before_session")


async def test_cancelled_sessions_come_back_and_no_shows_are_spent(world: World, clock: FixedClock) -> None:
    held = await active_pass(world, sessions=3)
    first = await world.booked("2027-03-03T10:00:00+01:00", pass_id=held["id"])
    second = await world.booked("2027-03-04T10:00:00+01:00", pass_id=held["id"])
    assert (await read(world, held["id"]))["sessions_left"] == 1
    cancel = await world.patch(first["id"], {"status": "cancelled"}, world.student_headers)
    assert cancel.status_code == 200, cancel.text
    back = await read(world, held["id"])
    assert back["sessions_left"] == 2 and back["valid_until"] == held["valid_until"]
    clock.set(datetime(2027, 3, 4, 10, 30, tzinfo=UTC))
    no_show = await world.patch(second["id"], {"status": "no_show"}, world.instructor_headers)
    assert no_show.status_code == 200, no_show.text
    assert (await read(world, held["id"]))["sessions_left"] == 2


async def test_instructor_and_series_cancellations_give_sessions_back(world: World) -> None:
    held = await active_pass(world, sessions=5)
    body = world.body("2027-03-02T18:00:00+01:00", pass_id=held["id"]) | {"count": 4}
    made = (await world.client.post("/api/series", json=body, headers=world.student_headers)).json()["series"]
    assert (await read(world, held["id"]))["sessions_left"] == 1
    cancelled = await world.client.post(
        f"/api/series/{made['id']}/cancel", json={"from_index": 2}, headers=world.instructor_headers
    )
    assert cancelled.status_code == 200 and len(cancelled.json()["cancelled"]) == 2
    assert (await read(world, held["id"]))["sessions_left"] == 3


async def test_a_reschedule_keeps_the_pass_inside_its_validity(world: World) -> None:
    held = await active_pass(world, valid_days=3)  # until 4 March 00:00 Paris
    booking = await world.booked("2027-03-02T10:00:00+01:00", pass_id=held["id"])
    url = f"/api/bookings/{booking['id']}/reschedule"
    inside = await world.client.post(
        url, json={"starts_at": "2027-03-03T10:00:00+01:00"}, headers=world.student_headers
    )
    assert inside.status_code == 200, inside.text
    assert inside.json()["booking"]["pass_id"] == held["id"]
    beyond = await world.client.post(
        url, json={"starts_at": "2027-03-04T10:00:00+01:00"}, headers=world.student_headers
    )
    assert refusal(beyond) == (409, "pass_not_usable", "expires_before_session")
    assert (await read(world, held["id"]))["sessions_left"] == 9
