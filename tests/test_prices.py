"""Prices on both databases: the brand's currency, an instructor's price and refund share per brand, a
booking's price fixed when it is made (pro rata, half up), free sessions confirmed at once, and what a
staff payment records."""

from __future__ import annotations

import pytest

from booking.bookings.prices import session_price
from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.support import SERVICE, Api

NO_PAYMENT = {"provider": None, "amount_paid": 0, "amount_refunded": 0, "refund_status": None}
TUESDAY_10 = "2026-12-01T10:00:00+01:00"


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


@pytest.mark.parametrize(
    ("price", "minutes", "session", "expected"),
    [
        (5000, 60, 60, 5000),
        (5000, 45, 60, 3750),
        (1001, 30, 60, 501),  # 500.5: half up
        (1001, 90, 60, 1502),  # 1501.5: half up
        (999, 20, 60, 333),  # 333.0
        (1000, 20, 60, 333),  # 333.33…: down
        (0, 45, 60, 0),
        (None, 45, 60, None),
        (100_000_000, 480, 5, 9_600_000_000),  # no float anywhere
    ],
)
def test_a_price_is_pro_rata_and_rounded_half_up(
    price: int | None, minutes: int, session: int, expected: int | None
) -> None:
    assert session_price(price, minutes, session) == expected


async def test_without_a_price_a_booking_has_none_and_waits_for_payment(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    assert booking["price"] is None and booking["payment"] == NO_PAYMENT
    assert (booking["status"], booking["payment_status"]) == ("pending", "unpaid")


async def test_a_price_is_fixed_when_the_booking_is_made(world: World) -> None:
    await world.set_brand_settings(currency="eur")
    await world.set_availability(settings={"price_amount": 6000, "refund_percent": 50})
    whole = await world.booked(TUESDAY_10)
    short = await world.booked("2026-12-01T14:00:00+01:00", duration_minutes=45)
    assert whole["price"] == {"amount": 6000, "currency": "eur"}
    assert short["price"] == {"amount": 4500, "currency": "eur"}
    assert whole["status"] == "pending" and whole["hold_expires_at"] is not None
    # A later price, currency or move leaves the booking's price as it was made.
    await world.set_availability(settings={"price_amount": 9000})
    await world.set_brand_settings(currency="jpy")
    moved = await world.client.post(
        f"/api/bookings/{whole['id']}/reschedule",
        json={"starts_at": "2026-12-02T10:00:00+01:00"},
        headers=world.student_headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["booking"]["price"] == {"amount": 6000, "currency": "eur"}
    read = await world.client.get(f"/api/bookings/{short['id']}", headers=SERVICE)
    assert read.json()["booking"]["price"] == {"amount": 4500, "currency": "eur"}


async def test_a_free_session_is_confirmed_and_paid_at_once_with_no_hold(world: World) -> None:
    await world.set_brand_settings(currency="eur", max_pending_per_student=1)
    await world.set_availability(settings={"price_amount": 0})
    first = await world.booked(TUESDAY_10)
    assert (first["status"], first["payment_status"]) == ("confirmed", "paid")
    assert first["hold_expires_at"] is None
    assert first["price"] == {"amount": 0, "currency": "eur"} and first["payment"] == NO_PAYMENT
    # Never pending, so the pending cap (1) does not hold back a second one.
    second = await world.booked("2026-12-01T12:00:00+01:00")
    assert second["status"] == "confirmed"
    read = await world.client.get(f"/api/bookings/{first['id']}", headers=SERVICE)
    assert read.json()["history"][0]["to_status"] == "confirmed"


async def test_staff_marking_paid_records_a_manual_payment_of_the_price(world: World) -> None:
    await world.set_availability(settings={"price_amount": 2500})
    priced = await world.booked(TUESDAY_10)
    paid = await world.patch(priced["id"], {"payment_status": "paid"}, SERVICE)
    assert paid.status_code == 200, paid.text
    assert paid.json()["booking"]["status"] == "confirmed"
    assert paid.json()["booking"]["payment"] == NO_PAYMENT | {"provider": "manual", "amount_paid": 2500}
    taken_back = await world.patch(priced["id"], {"payment_status": "unpaid"}, SERVICE)
    assert taken_back.json()["booking"]["payment"] == NO_PAYMENT
    await world.set_availability(settings={"price_amount": None})
    unpriced = await world.booked("2026-12-01T12:00:00+01:00")
    paid = await world.patch(unpriced["id"], {"payment_status": "paid"}, SERVICE)
    assert paid.json()["booking"]["payment"] == NO_PAYMENT | {"provider": "manual"}


async def test_settings_show_the_price_and_a_null_takes_it_away(world: World) -> None:
    await world.set_availability(settings={"price_amount": 1500, "refund_percent": 0})
    url = f"/api/instructors/{world.instructor['id']}/availability?brand_id={world.brand['id']}"
    settings = (await world.client.get(url, headers=SERVICE)).json()["settings"]
    assert (settings["price_amount"], settings["refund_percent"]) == (1500, 0)
    await world.set_availability(settings={"price_amount": None})
    settings = (await world.client.get(url, headers=SERVICE)).json()["settings"]
    assert (settings["price_amount"], settings["refund_percent"]) == (None, 0)


@pytest.mark.parametrize(
    "settings",
    [
        {"price_amount": -1},
        {"price_amount": 100_000_001},
        {"price_amount": 12.5},
        {"price_amount": "100"},
        {"refund_percent": 101},
        {"refund_percent": -1},
        {"refund_percent": None},
    ],
)
async def test_a_bad_price_setting_is_422_and_changes_nothing(
    world: World, settings: dict[str, object]
) -> None:
    await world.set_availability(settings={"price_amount": 700})
    url = f"/api/instructors/{world.instructor['id']}/availability"
    response = await world.client.put(
        url, json={"brand_id": world.brand["id"], "settings": settings}, headers=SERVICE
    )
    if settings == {"refund_percent": None}:  # a null that means nothing is "leave it as it is"
        assert response.status_code == 200
    else:
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
    saved = (await world.client.get(f"{url}?brand_id={world.brand['id']}", headers=SERVICE)).json()
    assert (saved["settings"]["price_amount"], saved["settings"]["refund_percent"]) == (700, 100)


@pytest.mark.parametrize("currency", ["EUR", "euro", "xx", "abc", None, 978])
async def test_a_brand_currency_is_an_iso_4217_code_in_lower_case(world: World, currency: object) -> None:
    response = await world.client.patch(
        f"/api/brands/{world.brand['id']}", json={"settings": {"currency": currency}}, headers=SERVICE
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    brand = (await world.client.get("/api/brands")).json()["brands"][0]
    assert brand["settings"]["currency"] == "usd"
    good = await world.client.patch(
        f"/api/brands/{world.brand['id']}", json={"settings": {"currency": "jpy"}}, headers=SERVICE
    )
    assert good.json()["brand"]["settings"]["currency"] == "jpy"
