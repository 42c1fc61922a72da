"""Paying a weekly series and a pass through Stripe, on both databases, against the loopback fake:
one session summing the pending occurrences' prices, each occurrence paid its own price, refunds per
occurrence on one shared payment; a pass activated by its paid session; refresh with the session id."""

from __future__ import annotations

from typing import Any

import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.fake_stripe import FakeStripe, form_of
from tests.support import SERVICE, Api
from tests.test_payments import deliver, paying_api, read, stripe, worker_pass

__all__ = ["paying_api", "stripe"]  # fixtures of tests/test_payments.py, used here

FIRST = "2026-12-01T10:00:00+01:00"  # a Tuesday in Berlin
PRICE = 5000


@pytest.fixture
async def world(paying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(paying_api)
    await world.set_brand_settings(currency="eur", max_pending_per_student=None)
    await world.set_availability(settings={"price_amount": PRICE, "refund_percent": 50})
    return world


async def a_series(world: World, count: int = 3) -> dict[str, Any]:
    body = world.body(FIRST) | {"count": count}
    response = await world.client.post("/api/series", json=body, headers=world.student_headers)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()["series"]
    return made


async def series_checkout(world: World, series_id: str) -> dict[str, Any]:
    response = await world.client.post(
        f"/api/series/{series_id}/checkout", json={}, headers=world.student_headers
    )
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()["checkout"]
    return session


async def test_a_series_checkout_sells_its_pending_occurrences_in_one_line(
    world: World, stripe: FakeStripe
) -> None:
    made = await a_series(world)
    session = await series_checkout(world, made["id"])
    assert (await series_checkout(world, made["id"]))["id"] == session["id"]  # the open one again
    (request,) = stripe.session_requests()
    form = form_of(request.body)
    [item] = form["line_items"]
    assert item["price_data"]["unit_amount"] == str(3 * PRICE)
    assert (
        item["price_data"]["product_data"]["name"]
        == "3 sessions with Ada Coach, from 2026-12-01 10:00 Europe/Berlin"
    )
    assert form["client_reference_id"] == made["id"]
    assert form["metadata"] == {"series_id": made["id"]}
    instructor = await world.client.post(
        f"/api/series/{made['id']}/checkout", json={}, headers=world.instructor_headers
    )
    assert instructor.status_code == 403


async def test_a_paid_series_session_pays_each_occurrence_its_own_price(
    world: World, stripe: FakeStripe
) -> None:
    made = await a_series(world)
    session = await series_checkout(world, made["id"])
    paid = stripe.pay(session["id"])
    for _ in range(2):  # a repeat changes nothing
        assert (await deliver(world, "checkout.session.completed", paid, "evt_series_1")).status_code == 200
    assert (await deliver(world, "checkout.session.completed", paid, "evt_series_2")).status_code == 200
    for booking in made["bookings"]:
        found = await read(world, booking["id"])
        assert (found["status"], found["payment_status"]) == ("confirmed", "paid")
        assert found["payment"]["provider"] == "stripe" and found["payment"]["amount_paid"] == PRICE
    # Each occurrence cancelled by the student is refunded its own share, under its own key.
    cancel = await world.patch(made["bookings"][1]["id"], {"status": "cancelled"}, world.student_headers)
    assert cancel.status_code == 200
    await worker_pass(world)
    assert [(r["amount"], r["metadata"]["booking_id"]) for r in stripe.refunds] == [
        (PRICE // 2, made["bookings"][1]["id"])
    ]
    refunds = [form_of(r.body) for r in stripe.asked("POST", "/v1/refunds")]
    assert refunds[0]["payment_intent"] == paid["payment_intent"]


async def test_a_series_paid_at_a_different_amount_is_not_applied(world: World, stripe: FakeStripe) -> None:
    made = await a_series(world)
    session = await series_checkout(world, made["id"])
    paid = stripe.pay(session["id"]) | {"amount_total": PRICE}
    assert (await deliver(world, "checkout.session.completed", paid)).status_code == 200
    assert {(await read(world, b["id"]))["status"] for b in made["bookings"]} == {"pending"}


async def test_a_cancelled_occurrence_makes_the_next_checkout_a_new_session(
    world: World, stripe: FakeStripe
) -> None:
    made = await a_series(world)
    first = await series_checkout(world, made["id"])
    cancel = await world.patch(made["bookings"][0]["id"], {"status": "cancelled"}, world.student_headers)
    assert cancel.status_code == 200
    second = await series_checkout(world, made["id"])
    assert second["id"] != first["id"]
    amounts = [
        form_of(r.body)["line_items"][0]["price_data"]["unit_amount"] for r in stripe.session_requests()
    ]
    assert amounts == [str(3 * PRICE), str(2 * PRICE)]
    await worker_pass(world)
    assert first["id"] in stripe.expired()


async def test_series_refresh_with_the_session_id(world: World, stripe: FakeStripe) -> None:
    made = await a_series(world, count=2)
    session = await series_checkout(world, made["id"])
    url = f"/api/series/{made['id']}/checkout/refresh"
    assert (await world.client.post(url, json={})).status_code == 401
    stripe.pay(session["id"])
    anonymous = await world.client.post(url, json={"session_id": session["id"]})
    assert anonymous.status_code == 200, anonymous.text
    shown = anonymous.json()["series"]
    assert set(shown) == {"id", "bookings"}
    assert [(b["status"], b["payment_status"]) for b in shown["bookings"]] == [("confirmed", "paid")] * 2


async def test_a_pass_is_activated_by_its_paid_session(world: World, stripe: FakeStripe) -> None:
    url = f"/api/brands/{world.brand['id']}/packages"
    body = {"name": "Five", "sessions": 5, "valid_days": 30, "price_amount": 20000}
    package = (await world.client.post(url, json=body, headers=SERVICE)).json()["package"]
    bought = (
        await world.client.post(
            "/api/passes", json={"package_id": package["id"]}, headers=world.student_headers
        )
    ).json()["pass"]
    response = await world.client.post(
        f"/api/passes/{bought['id']}/checkout", json={}, headers=world.student_headers
    )
    assert response.status_code == 200, response.text
    session = response.json()["checkout"]
    form = form_of(stripe.session_requests()[0].body)
    assert (form["client_reference_id"], form["metadata"]) == (bought["id"], {"pass_id": bought["id"]})
    assert form["line_items"][0]["price_data"]["unit_amount"] == "20000"
    paid = stripe.pay(session["id"])
    refresh = await world.client.post(
        f"/api/passes/{bought['id']}/checkout/refresh", json={"session_id": session["id"]}
    )
    assert refresh.status_code == 200, refresh.text
    assert refresh.json()["pass"]["status"] == "active"
    assert (await deliver(world, "checkout.session.completed", paid)).status_code == 200  # already applied
    found = (await world.client.get(f"/api/passes/{bought['id']}", headers=world.student_headers)).json()[
        "pass"
    ]
    assert found["payment"] == {
        "provider": "stripe",
        "amount_paid": 20000,
        "amount_refunded": 0,
        "refund_status": None,
    }
    again = await world.client.post(
        f"/api/passes/{bought['id']}/checkout", json={}, headers=world.student_headers
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
