"""Online payment through Stripe, on both databases, against a loopback fake that answers like Stripe:
checkout, the signed webhook applied once in any order, refresh on return, refunds and session
expiries as the worker's durable tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import select

from booking.checkout.service import session_expiry
from booking.clock import FixedClock
from booking.metrics import build_registry
from booking.models.events import Event
from booking.models.payments import PaymentTask
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.conftest import running_api
from tests.fake_stripe import (
    OLD_WEBHOOK_SECRET,
    WEBHOOK_SECRET,
    FakeStripe,
    event,
    fake_stripe,
    payload,
    signed,
)
from tests.loopback import Reply
from tests.support import SERVICE, Api, make_settings, new_user

TUESDAY_10 = "2026-12-01T10:00:00+01:00"
PRICE = 5000
WEBHOOK = "/api/payments/stripe/webhook"


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with fake_stripe() as fake:
        yield fake


@pytest.fixture
async def paying_api(database_url: str, clock: FixedClock, stripe: FakeStripe) -> AsyncIterator[Api]:
    settings = make_settings(
        database_url,
        stripe_webhook_secret=f"{WEBHOOK_SECRET},{OLD_WEBHOOK_SECRET}",
        embed_origins="https://coach.example",
        stripe_timeout_seconds=1.0,
        **{key: value for key, value in stripe.settings().items() if key != "stripe_webhook_secret"},
    )
    async with running_api(settings, clock) as api:
        yield api


@pytest.fixture
async def world(paying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(paying_api)
    await world.set_brand_settings(currency="eur")
    await world.set_availability(settings={"price_amount": PRICE, "refund_percent": 50})
    return world


# --- helpers --------------------------------------------------------------------------------------


async def checkout(world: World, booking_id: str, **body: Any) -> httpx.Response:
    return await world.client.post(
        f"/api/bookings/{booking_id}/checkout", json=body, headers=world.student_headers
    )


async def checked_out(world: World, booking_id: str) -> dict[str, Any]:
    response = await checkout(world, booking_id)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()["checkout"]
    return session


async def deliver(
    world: World, kind: str, thing: dict[str, Any], event_id: str | None = None
) -> httpx.Response:
    body = payload(event(kind, thing, event_id))
    now = int(context_of(world).clock.now().timestamp())
    return await world.client.post(WEBHOOK, content=body, headers=signed(body, now, WEBHOOK_SECRET))


async def read(world: World, booking_id: str) -> dict[str, Any]:
    response = await world.client.get(f"/api/bookings/{booking_id}", headers=SERVICE)
    assert response.status_code == 200
    booking: dict[str, Any] = response.json()["booking"]
    return booking


async def events_of(world: World, booking_id: str) -> list[str]:
    async with context_of(world).db.transaction(write=False) as session:
        query = select(Event.type).where(Event.booking_id == UUID(booking_id)).order_by(Event.created_at)
        return [str(kind) for kind in (await session.scalars(query)).all()]


async def worker_pass(world: World) -> None:
    await context_of(world).worker.run_once()


async def paid_booking(world: World, stripe: FakeStripe, starts_at: str = TUESDAY_10) -> dict[str, Any]:
    booking = await world.booked(starts_at)
    session = await checked_out(world, booking["id"])
    paid = stripe.pay(session["id"])
    assert (await deliver(world, "checkout.session.completed", paid)).status_code == 200
    booking = await read(world, booking["id"])
    assert booking["status"] == "confirmed"
    return booking


def advance(world: World, delta: timedelta) -> None:
    clock = context_of(world).clock
    assert isinstance(clock, FixedClock)
    clock.set(clock.now() + delta)


# --- checkout ---------------------------------------------------------------------------------------


async def test_checkout_makes_one_stripe_session_for_the_booking_price(
    world: World, stripe: FakeStripe
) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    [request] = stripe.session_requests()
    assert request.headers["Idempotency-Key"].startswith(f"checkout-{booking['id']}-")
    assert request.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
    form = stripe.forms[session["id"]]
    assert form["mode"] == "payment"
    assert form["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "eur",
                "unit_amount": str(PRICE),
                "product_data": {
                    "name": f"Session with {world.instructor['name']}, 2026-12-01 10:00 Europe/Berlin"
                },
            },
        }
    ]
    assert form["client_reference_id"] == booking["id"]
    assert form["metadata"] == {"booking_id": booking["id"]}
    assert form["payment_intent_data"] == {"metadata": {"booking_id": booking["id"]}}
    assert form["customer_email"] == "student@example.com"
    page = f"http://booking.test/book/{world.brand['slug']}?booking={booking['id']}"
    assert form["success_url"] == f"{page}&checkout=success&session_id={{CHECKOUT_SESSION_ID}}"
    assert form["cancel_url"] == f"{page}&checkout=cancelled"
    # The hold (30 minutes) ends before Stripe's shortest expiry (30 minutes, and a minute of margin).
    assert int(form["expires_at"]) == int((MONDAY + timedelta(minutes=31)).timestamp())
    assert session["url"] == f"{stripe.url}/pay/{session['id']}"
    assert session["expires_at"] == "2026-11-30T06:31:00Z"
    # While it is open, every call answers the same session.
    again = await checked_out(world, booking["id"])
    assert again == session and len(stripe.session_requests()) == 1


@pytest.mark.parametrize(
    ("hold_ends", "expires"),
    [
        (timedelta(minutes=10), timedelta(minutes=31)),  # Stripe's shortest, with a minute's margin
        (timedelta(hours=3, seconds=0.5), timedelta(hours=3)),  # the hold's end, in whole seconds
        (timedelta(days=3), timedelta(hours=23, minutes=59)),  # Stripe's longest, a minute inside
        (None, timedelta(hours=23, minutes=59)),  # a hold that never ends
    ],
)
def test_a_session_expires_with_the_hold_within_stripes_bounds(
    hold_ends: timedelta | None, expires: timedelta
) -> None:
    hold = None if hold_ends is None else MONDAY + hold_ends
    assert session_expiry(hold, MONDAY) == MONDAY + expires


async def test_twenty_concurrent_checkouts_make_one_session(world: World, stripe: FakeStripe) -> None:
    booking = await world.booked(TUESDAY_10)
    answers = await asyncio.gather(*(checkout(world, booking["id"]) for _ in range(20)))
    assert [answer.status_code for answer in answers] == [200] * 20
    assert len({answer.json()["checkout"]["id"] for answer in answers}) == 1
    assert len(stripe.session_requests()) == 1


async def test_checkout_return_urls_must_be_on_an_allowed_origin(world: World, stripe: FakeStripe) -> None:
    booking = await world.booked(TUESDAY_10)
    for url in ("https://evil.example/back", "javascript:alert(1)", "/relative", "ftp://booking.test/x"):
        refused = await checkout(world, booking["id"], success_url=url)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "validation_error"
    assert stripe.session_requests() == []
    allowed = await checkout(
        world,
        booking["id"],
        success_url="https://coach.example/paid?s={CHECKOUT_SESSION_ID}",
        cancel_url="http://booking.test/book/acme",
    )
    assert allowed.status_code == 200, allowed.text
    form = stripe.forms[allowed.json()["checkout"]["id"]]
    assert form["success_url"] == "https://coach.example/paid?s={CHECKOUT_SESSION_ID}"
    assert form["cancel_url"] == "http://booking.test/book/acme"


async def test_checkout_refusals_come_in_order_and_change_nothing(
    world: World, stripe: FakeStripe, clock: FixedClock
) -> None:
    booking = await world.booked(TUESDAY_10)
    instructor = await world.client.post(
        f"/api/bookings/{booking['id']}/checkout", json={}, headers=world.instructor_headers
    )
    assert instructor.status_code == 403
    anonymous = await world.client.post(f"/api/bookings/{booking['id']}/checkout", json={})
    assert anonymous.status_code == 401
    unknown = await checkout(world, "00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    junk = await world.client.post(
        f"/api/bookings/{booking['id']}/checkout", json={"sucess_url": "x"}, headers=world.student_headers
    )
    assert junk.status_code == 422
    # Stripe refusing or unreachable: 502, and no session is recorded.
    stripe.failures["sessions"] = [
        Reply(500, {"error": {"type": "api_error", "message": "Something went wrong"}}),
        Reply(400, {"error": {"type": "invalid_request_error", "message": "Invalid currency: xyz"}}),
    ]
    for _ in range(2):
        failed = await checkout(world, booking["id"])
        assert failed.status_code == 502, failed.text
        assert failed.json()["error"]["code"] == "payment_provider_error"
    assert (await read(world, booking["id"]))["status"] == "pending"
    assert len(stripe.session_requests()) == 2
    # Not pending any more (paid by staff): invalid_transition.
    await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    paid = await checkout(world, booking["id"])
    assert (paid.status_code, paid.json()["error"]["code"]) == (409, "invalid_transition")
    # Its hold expired: invalid_transition.
    lapsing = await world.booked("2026-12-01T12:00:00+01:00")
    clock.set(MONDAY + timedelta(minutes=31))
    lapsed = await checkout(world, lapsing["id"])
    assert (lapsed.status_code, lapsed.json()["error"]["code"]) == (409, "invalid_transition")
    # No price, or a price of 0: nothing_to_pay.
    for price in (None, 0):
        await world.set_availability(settings={"price_amount": price})
        free = await world.booked(
            "2026-12-02T10:00:00+01:00" if price is None else "2026-12-02T12:00:00+01:00"
        )
        nothing = await checkout(world, free["id"])
        assert (nothing.status_code, nothing.json()["error"]["code"]) == (409, "nothing_to_pay")


async def test_without_stripe_checkout_is_not_configured(api: Api, clock: FixedClock) -> None:
    clock.set(MONDAY)
    world = await make_world(api)
    await world.set_availability(settings={"price_amount": PRICE})
    booking = await world.booked(TUESDAY_10)
    refused = await checkout(world, booking["id"])
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "payments_not_configured")
    refresh = await world.client.post(f"/api/bookings/{booking['id']}/checkout/refresh", json={})
    assert refresh.status_code == 409
    # Staff still mark it paid, as without online payment.
    paid = await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    assert paid.json()["booking"]["payment"]["provider"] == "manual"


# --- the webhook --------------------------------------------------------------------------------------


async def test_a_paid_session_confirms_once_whatever_the_order_and_repeats(
    world: World, stripe: FakeStripe
) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    paid = stripe.pay(session["id"])
    expired = dict(paid, status="expired", payment_status="unpaid")
    completed_id = "evt_completed_1"
    answers = [
        await deliver(world, "checkout.session.expired", expired),
        await deliver(world, "checkout.session.completed", paid, completed_id),
        await deliver(world, "checkout.session.completed", paid, completed_id),
        await deliver(world, "checkout.session.completed", paid, completed_id),
        await deliver(world, "checkout.session.async_payment_succeeded", paid),
    ]
    assert [answer.status_code for answer in answers] == [200] * 5
    found = await read(world, booking["id"])
    assert (found["status"], found["payment_status"]) == ("confirmed", "paid")
    assert found["payment"] == {
        "provider": "stripe",
        "amount_paid": PRICE,
        "amount_refunded": 0,
        "refund_status": None,
    }
    assert await events_of(world, booking["id"]) == ["booking.created", "booking.confirmed", "booking.paid"]
    history = (await world.client.get(f"/api/bookings/{booking['id']}", headers=SERVICE)).json()["history"]
    assert [(entry["to_status"], entry["actor"]) for entry in history] == [
        ("pending", world_actor(world)),
        ("confirmed", "stripe"),
    ]
    # The session that paid is not expired at Stripe afterwards.
    await worker_pass(world)
    assert stripe.expired() == []


def world_actor(world: World) -> str:
    return f"user:{world.student_id}"


@pytest.mark.parametrize(
    "forgery",
    ["no header", "bad signature", "stale", "wrong secret", "body changed", "t not ascii", "t too long"],
)
async def test_an_unsigned_forged_or_stale_event_is_refused_and_changes_nothing(
    world: World, stripe: FakeStripe, forgery: str
) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    paid = stripe.pay(session["id"])
    body = payload(event("checkout.session.completed", paid, "evt_forged"))
    now = int(context_of(world).clock.now().timestamp())
    headers: Any = {
        "no header": {"content-type": "application/json"},
        "bad signature": {"Stripe-Signature": f"t={now},v1={'0' * 64}"},
        "stale": signed(body, now - 301, WEBHOOK_SECRET),
        "wrong secret": signed(body, now, "whsec_someone_else"),
        "body changed": signed(body.replace(b"paid", b"PAID"), now, WEBHOOK_SECRET),
        # "²" is a digit to str.isdigit(), and a header is read as Latin-1.
        "t not ascii": {"Stripe-Signature": f"t=\u00b2,v1={'0' * 64}".encode("latin-1")},
        "t too long": {"Stripe-Signature": f"t={'9' * 400},v1={'0' * 64}"},
    }[forgery]
    refused = await world.client.post(WEBHOOK, content=body, headers=headers)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_signature"
    assert (await read(world, booking["id"]))["status"] == "pending"
    # The same event, properly signed, still applies: the forgery recorded nothing.
    accepted = await world.client.post(WEBHOOK, content=body, headers=signed(body, now, WEBHOOK_SECRET))
    assert accepted.status_code == 200
    assert (await read(world, booking["id"]))["status"] == "confirmed"


async def test_an_event_signed_within_300_seconds_either_way_and_with_a_rotated_secret_applies(
    world: World, stripe: FakeStripe
) -> None:
    first = await world.booked(TUESDAY_10)
    second = await world.booked("2026-12-01T12:00:00+01:00")
    now = int(context_of(world).clock.now().timestamp())
    for booking, timestamp, secrets in (
        (first, now - 300, (OLD_WEBHOOK_SECRET,)),
        (second, now + 300, ("whsec_unknown", WEBHOOK_SECRET)),
    ):
        paid = stripe.pay((await checked_out(world, booking["id"]))["id"])
        body = payload(event("checkout.session.completed", paid))
        answer = await world.client.post(WEBHOOK, content=body, headers=signed(body, timestamp, *secrets))
        assert answer.status_code == 200, answer.text
        assert (await read(world, booking["id"]))["status"] == "confirmed"


async def test_without_a_webhook_secret_every_event_is_refused(
    database_url: str, clock: FixedClock, stripe: FakeStripe
) -> None:
    settings = make_settings(database_url, **(stripe.settings() | {"stripe_webhook_secret": ""}))
    async with running_api(settings, clock) as api:
        body = payload(event("checkout.session.completed", {"id": "cs_x"}))
        answer = await api.client.post(
            WEBHOOK, content=body, headers=signed(body, int(time.time()), WEBHOOK_SECRET)
        )
        assert answer.status_code == 400


@pytest.mark.parametrize(("amount", "currency"), [(PRICE - 1, "eur"), (PRICE, "usd"), (PRICE * 100, "eur")])
async def test_a_payment_of_another_amount_or_currency_does_not_confirm(
    world: World, stripe: FakeStripe, amount: int, currency: str
) -> None:
    booking = await world.booked(TUESDAY_10)
    paid = stripe.pay((await checked_out(world, booking["id"]))["id"])
    answer = await deliver(
        world, "checkout.session.completed", dict(paid, amount_total=amount, currency=currency)
    )
    assert answer.status_code == 200
    found = await read(world, booking["id"])
    assert (found["status"], found["payment_status"], found["payment"]["provider"]) == (
        "pending",
        "unpaid",
        None,
    )


async def test_unknown_bookings_types_and_shapes_are_answered_and_ignored(
    world: World, stripe: FakeStripe
) -> None:
    for kind, thing in (
        (
            "checkout.session.completed",
            {"id": "cs_1", "client_reference_id": "not-a-uuid", "status": "complete"},
        ),
        (
            "checkout.session.completed",
            {"id": "cs_2", "client_reference_id": "00000000-0000-0000-0000-000000000000"},
        ),
        ("customer.created", {"id": "cus_1"}),
        ("refund.updated", {"id": "re_1", "payment_intent": "pi_nobody", "status": "succeeded", "amount": 1}),
        ("checkout.session.completed", {"no": "id"}),
    ):
        assert (await deliver(world, kind, thing)).status_code == 200
    body = b"not json"
    now = int(context_of(world).clock.now().timestamp())
    answer = await world.client.post(WEBHOOK, content=body, headers=signed(body, now, WEBHOOK_SECRET))
    assert answer.status_code == 400


async def test_a_delayed_payment_waits_then_settles_or_fails(world: World, stripe: FakeStripe) -> None:
    booking = await world.booked(TUESDAY_10)
    first = await checked_out(world, booking["id"])
    waiting = stripe.pay(first["id"], payment_status="unpaid")
    assert (await deliver(world, "checkout.session.completed", waiting)).status_code == 200
    assert (await read(world, booking["id"]))["status"] == "pending"
    # Completed but unpaid still counts as open: the same session again, even past its own expiry
    # (here the hold was lifted, so the booking still waits for payment hours later).
    assert (await checked_out(world, booking["id"]))["id"] == first["id"]
    await world.patch(booking["id"], {"hold_expires_at": None}, SERVICE)
    advance(world, timedelta(hours=2))
    assert (await checked_out(world, booking["id"]))["id"] == first["id"]
    assert (await deliver(world, "checkout.session.async_payment_failed", waiting)).status_code == 200
    assert (await read(world, booking["id"]))["status"] == "pending"
    second = await checked_out(world, booking["id"])
    assert second["id"] != first["id"] and len(stripe.session_requests()) == 2
    settled = stripe.pay(second["id"], payment_status="unpaid")
    assert (await deliver(world, "checkout.session.async_payment_succeeded", settled)).status_code == 200
    assert (await read(world, booking["id"]))["status"] == "confirmed"


# --- a payment that comes too late ------------------------------------------------------------------


async def test_paid_after_the_hold_lapsed_and_the_time_was_taken_is_refunded_in_full_once(
    world: World, stripe: FakeStripe, clock: FixedClock
) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    clock.set(MONDAY + timedelta(minutes=31))
    await worker_pass(world)  # the hold expires; its session is expired at Stripe
    assert stripe.expired() == [session["id"]]
    taken = await world.book(
        TUESDAY_10, headers=SERVICE, student_id=str(UUID(int=7)), student_email="x@example.com"
    )
    assert taken.status_code == 201, taken.text
    # The payer had already started paying before the expiry: Stripe reports the payment.
    stripe.sessions[session["id"]]["status"] = "open"
    paid = stripe.pay(session["id"])
    for _ in range(2):
        assert (await deliver(world, "checkout.session.completed", paid, "evt_late")).status_code == 200
    found = await read(world, booking["id"])
    assert (found["status"], found["refund_due"]) == ("cancelled", True)
    assert found["payment"]["refund_status"] == "pending"
    await worker_pass(world)
    await worker_pass(world)
    [refund] = stripe.asked("POST", "/v1/refunds")
    assert refund.headers["Idempotency-Key"] == f"refund-{booking['id']}"
    assert (
        stripe.refunds[0]["amount"] == PRICE and stripe.refunds[0]["payment_intent"] == paid["payment_intent"]
    )
    found = await read(world, booking["id"])
    assert found["payment"] == {
        "provider": "stripe",
        "amount_paid": PRICE,
        "amount_refunded": PRICE,
        "refund_status": "succeeded",
    }
    kinds = await events_of(world, booking["id"])
    assert kinds.count("booking.refund_due") == 1 and kinds.count("booking.refunded") == 1


async def test_paid_after_the_hold_lapsed_with_the_time_still_free_is_revived(
    world: World, stripe: FakeStripe, clock: FixedClock
) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    clock.set(MONDAY + timedelta(minutes=31))
    paid = stripe.pay(session["id"])
    assert (await deliver(world, "checkout.session.completed", paid)).status_code == 200
    found = await read(world, booking["id"])
    assert (found["status"], found["refund_due"], found["payment"]["provider"]) == (
        "confirmed",
        False,
        "stripe",
    )
    await worker_pass(world)
    assert stripe.asked("POST", "/v1/refunds") == []


async def test_a_payment_for_a_booking_already_paid_is_given_back(world: World, stripe: FakeStripe) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)  # staff took cash
    await worker_pass(world)
    assert stripe.expired() == [session["id"]]
    stripe.sessions[session["id"]]["status"] = "open"  # the payer was already on Stripe's page
    paid = stripe.pay(session["id"])
    assert (await deliver(world, "checkout.session.completed", paid)).status_code == 200
    found = await read(world, booking["id"])
    assert (found["status"], found["refund_due"]) == ("confirmed", True)
    assert found["payment"]["provider"] == "manual"
    await worker_pass(world)
    assert [r["amount"] for r in stripe.refunds] == [PRICE]


# --- refunds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "price", "percent", "refunded"),
    [
        ("student", 4999, 50, 2499),  # rounded down
        ("student", PRICE, 0, 0),  # nothing back: Stripe is asked nothing
        ("instructor", PRICE, 50, PRICE),
        ("staff", PRICE, 50, PRICE),
    ],
)
async def test_a_cancelled_stripe_payment_is_refunded_by_who_cancelled(
    world: World, stripe: FakeStripe, who: str, price: int, percent: int, refunded: int
) -> None:
    await world.set_availability(settings={"price_amount": price, "refund_percent": percent})
    booking = await paid_booking(world, stripe)
    await world.set_availability(settings={"refund_percent": 100})  # later changes do not count
    headers = {"student": world.student_headers, "instructor": world.instructor_headers, "staff": SERVICE}[
        who
    ]
    cancelled = await world.patch(booking["id"], {"status": "cancelled"}, headers)
    assert cancelled.status_code == 200, cancelled.text
    await worker_pass(world)
    found = await read(world, booking["id"])
    if refunded == 0:
        assert stripe.asked("POST", "/v1/refunds") == []
        assert found["payment"]["refund_status"] is None
        return
    assert [r["amount"] for r in stripe.refunds] == [refunded]
    assert found["payment"] == {
        "provider": "stripe",
        "amount_paid": price,
        "amount_refunded": refunded,
        "refund_status": "succeeded",
    }
    assert "booking.refunded" in await events_of(world, booking["id"])


SERVER_ERROR = Reply(500, {"error": {"type": "api_error", "message": "Something went wrong"}})
RATE_LIMITED = Reply(
    429, {"error": {"type": "invalid_request_error", "message": "Too many requests", "code": "rate_limit"}}
)
KEY_IN_USE = Reply(
    409,
    {
        "error": {
            "type": "idempotency_error",
            "message": "There is currently another in-progress request using this Idempotent Key",
        }
    },
)


async def test_a_refund_is_retried_with_the_same_key_until_stripe_answers(
    world: World, stripe: FakeStripe
) -> None:
    booking = await paid_booking(world, stripe)
    stripe.failures["refunds"] = [SERVER_ERROR, RATE_LIMITED, KEY_IN_USE]
    await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    assert len(stripe.asked("POST", "/v1/refunds")) == 1
    await worker_pass(world)  # not due yet: 5 s
    assert len(stripe.asked("POST", "/v1/refunds")) == 1
    for wait in (timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)):
        advance(world, wait)
        await worker_pass(world)
    asked = stripe.asked("POST", "/v1/refunds")
    assert len(asked) == 4
    assert {r.headers["Idempotency-Key"] for r in asked} == {f"refund-{booking['id']}"}
    assert len(stripe.refunds) == 1
    assert (await read(world, booking["id"]))["payment"]["refund_status"] == "succeeded"


async def test_a_refund_stripe_never_answers_fails_after_the_last_retry(
    world: World, stripe: FakeStripe
) -> None:
    booking = await paid_booking(world, stripe)
    stripe.failures["refunds"] = [SERVER_ERROR] * 8
    await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    schedule = (5, 300, 1800, 7200, 18000, 36000, 36000)
    for seconds in schedule:
        assert (await read(world, booking["id"]))["payment"]["refund_status"] == "pending"
        advance(world, timedelta(seconds=seconds - 1))
        await worker_pass(world)  # a second early: not asked
        advance(world, timedelta(seconds=1))
        await worker_pass(world)
    assert len(stripe.asked("POST", "/v1/refunds")) == 1 + len(schedule)
    found = await read(world, booking["id"])
    assert found["payment"]["refund_status"] == "failed"
    assert (await events_of(world, booking["id"]))[-1] == "booking.refund_failed"


@pytest.mark.parametrize("fault", ["timeout", "connection reset"])
async def test_a_refund_whose_answer_was_lost_is_asked_again_and_stripe_refunds_once(
    world: World, stripe: FakeStripe, fault: str
) -> None:
    """Stripe may have refunded before the answer was lost: the repeat carries the same key, so Stripe
    answers the first refund instead of making a second (the fake refunds, then drops the answer)."""
    booking = await paid_booking(world, stripe)
    stripe.lose_answers = {"timeout": "hang", "connection reset": "reset"}[fault]
    await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    assert (await read(world, booking["id"]))["payment"]["refund_status"] == "pending"
    stripe.lose_answers = None
    advance(world, timedelta(seconds=5))
    await worker_pass(world)
    asked = stripe.asked("POST", "/v1/refunds")
    assert len(asked) == 2 and {r.headers["Idempotency-Key"] for r in asked} == {f"refund-{booking['id']}"}
    assert len(stripe.refunds) == 1
    found = await read(world, booking["id"])
    assert found["payment"]["refund_status"] == "succeeded" and found["payment"]["amount_refunded"] == PRICE


async def test_a_refund_stripe_refuses_is_failed_and_said_so(world: World, stripe: FakeStripe) -> None:
    booking = await paid_booking(world, stripe)
    stripe.failures["refunds"] = [
        Reply(
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": "Charge ch_1 has already been refunded.",
                    "code": "charge_already_refunded",
                }
            },
        )
    ]
    await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    advance(world, timedelta(hours=1))
    await worker_pass(world)
    assert len(stripe.asked("POST", "/v1/refunds")) == 1
    found = await read(world, booking["id"])
    assert found["payment"]["refund_status"] == "failed" and found["payment"]["amount_refunded"] == 0
    assert (await events_of(world, booking["id"]))[-1] == "booking.refund_failed"


async def test_a_pending_refund_settles_on_stripes_refund_and_charge_events(
    world: World, stripe: FakeStripe
) -> None:
    stripe.refund_status = "pending"
    first = await paid_booking(world, stripe)
    second = await paid_booking(world, stripe, "2026-12-01T12:00:00+01:00")
    for booking in (first, second):
        await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    assert (await read(world, first["id"]))["payment"]["refund_status"] == "pending"
    by_refund, by_charge = (
        next(refund for refund in stripe.refunds if refund["metadata"]["booking_id"] == booking["id"])
        for booking in (first, second)
    )
    settled = dict(by_refund, status="succeeded")
    for _ in range(2):
        assert (await deliver(world, "refund.updated", settled)).status_code == 200
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": by_charge["payment_intent"],
        "refunded": True,
        "amount_refunded": PRICE,
        "refunds": {"object": "list", "data": [dict(by_charge, status="pending")]},
    }
    # Still pending at Stripe, though the charge counts it refunded: nothing settles yet.
    assert (await deliver(world, "charge.refunded", charge)).status_code == 200
    assert (await read(world, second["id"]))["payment"]["refund_status"] == "pending"
    charge["refunds"] = {"object": "list", "data": [dict(by_charge, status="succeeded")]}
    assert (await deliver(world, "charge.refunded", charge)).status_code == 200
    for booking in (first, second):
        found = await read(world, booking["id"])
        assert (
            found["payment"]["refund_status"] == "succeeded" and found["payment"]["amount_refunded"] == PRICE
        )
        assert (await events_of(world, booking["id"])).count("booking.refunded") == 1


async def test_a_reschedule_of_a_paid_booking_asks_stripe_nothing(world: World, stripe: FakeStripe) -> None:
    booking = await paid_booking(world, stripe)
    asked = len(stripe.requests)
    moved = await world.client.post(
        f"/api/bookings/{booking['id']}/reschedule",
        json={"starts_at": "2026-12-02T10:00:00+01:00"},
        headers=world.student_headers,
    )
    assert moved.status_code == 200, moved.text
    await worker_pass(world)
    assert len(stripe.requests) == asked
    assert moved.json()["booking"]["payment"]["amount_paid"] == PRICE


# --- sessions closed when the booking stops waiting -------------------------------------------------


async def test_a_session_is_expired_when_its_booking_stops_waiting_for_payment(
    world: World, stripe: FakeStripe, clock: FixedClock
) -> None:
    by_hold = await world.booked(TUESDAY_10)
    by_cancel = await world.booked("2026-12-01T12:00:00+01:00")
    by_staff = await world.booked("2026-12-01T14:00:00+01:00")
    sessions = [(await checked_out(world, b["id"]))["id"] for b in (by_hold, by_cancel, by_staff)]
    await world.patch(by_cancel["id"], {"status": "cancelled"}, world.student_headers)
    await world.patch(by_staff["id"], {"payment_status": "paid"}, SERVICE)
    await world.patch(
        by_hold["id"], {"hold_expires_at": (MONDAY + timedelta(minutes=40)).isoformat()}, SERVICE
    )
    clock.set(MONDAY + timedelta(minutes=41))
    await worker_pass(world)
    await worker_pass(world)
    assert sorted(stripe.expired()) == sorted(sessions)
    assert {stripe.sessions[s]["status"] for s in sessions} == {"expired"}
    async with context_of(world).db.transaction(write=False) as session:
        tasks = (await session.scalars(select(PaymentTask))).all()
    assert all(task.done_at is not None for task in tasks)


# --- refresh on return ----------------------------------------------------------------------------


async def test_refresh_applies_the_session_when_no_webhook_came(world: World, stripe: FakeStripe) -> None:
    booking = await world.booked(TUESDAY_10)
    session = await checked_out(world, booking["id"])
    url = f"/api/bookings/{booking['id']}/checkout/refresh"
    # Without a token, the session id is needed, and must be this booking's.
    assert (await world.client.post(url, json={})).status_code == 401
    assert (await world.client.post(url, json={"session_id": "cs_test_other"})).status_code == 404
    other = await world.booked("2026-12-01T12:00:00+01:00")
    other_session = await checked_out(world, other["id"])
    assert (await world.client.post(url, json={"session_id": other_session["id"]})).status_code == 404
    still = await world.client.post(url, json={"session_id": session["id"]})
    assert still.status_code == 200 and still.json()["booking"]["status"] == "pending"
    stripe.pay(session["id"])
    anonymous = await world.client.post(url, json={"session_id": session["id"]})
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json()["booking"] == {
        "id": booking["id"],
        "status": "confirmed",
        "payment_status": "paid",
        "starts_at": booking["starts_at"],
        "ends_at": booking["ends_at"],
    }
    student = await world.client.post(url, json={}, headers=world.student_headers)
    assert student.json()["booking"]["payment"]["provider"] == "stripe"
    assert (await events_of(world, booking["id"])).count("booking.paid") == 1
    instructor = await world.client.post(url, json={}, headers=world.instructor_headers)
    assert instructor.status_code == 403


async def test_strangers_can_neither_pay_nor_refresh_a_booking(world: World, stripe: FakeStripe) -> None:
    booking = await world.booked(TUESDAY_10)
    other_brand = await world.api.brand(slug="other", name="Other Coaching")
    _, other_admin = await world.api.admin_of(other_brand["id"])
    _, stranger = new_user()
    url = f"/api/bookings/{booking['id']}/checkout"
    for headers in (other_admin, stranger):
        assert (await world.client.post(url, json={}, headers=headers)).status_code == 404
        assert (await world.client.post(f"{url}/refresh", json={}, headers=headers)).status_code == 404
    assert stripe.requests == []
    # The brand's own admin may start the checkout for the student.
    assert (await world.client.post(url, json={}, headers=world.admin_headers)).status_code == 200


async def test_staff_toggling_a_stripe_payment_keeps_stripes_record_for_the_refund(
    world: World, stripe: FakeStripe
) -> None:
    booking = await paid_booking(world, stripe)
    await world.patch(booking["id"], {"payment_status": "unpaid"}, SERVICE)
    again = await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    assert again.json()["booking"]["payment"]["provider"] == "stripe"
    await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    assert [refund["amount"] for refund in stripe.refunds] == [PRICE]


async def test_a_payment_on_an_existing_booking_emits_booking_paid_and_a_free_one_is_created_confirmed(
    world: World,
) -> None:
    booking = await world.booked(TUESDAY_10)
    await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    assert await events_of(world, booking["id"]) == ["booking.created", "booking.confirmed", "booking.paid"]
    await world.set_availability(settings={"price_amount": 0})
    free = await world.booked("2026-12-01T12:00:00+01:00")
    assert await events_of(world, free["id"]) == ["booking.created", "booking.confirmed"]


async def test_the_default_return_goes_to_the_booking_page_under_public_base_url(
    database_url: str, clock: FixedClock, stripe: FakeStripe
) -> None:
    settings = make_settings(
        database_url, public_base_url="https://coach.example/booking/", **stripe.settings()
    )
    async with running_api(settings, clock) as api:
        clock.set(MONDAY)
        world = await make_world(api)
        await world.set_availability(settings={"price_amount": PRICE})
        booking = await world.booked(TUESDAY_10)
        session = await checked_out(world, booking["id"])
        page = f"https://coach.example/booking/book/{world.brand['slug']}?booking={booking['id']}"
        assert stripe.forms[session["id"]]["cancel_url"] == f"{page}&checkout=cancelled"
        # The request's own origin is not the service's own any more.
        elsewhere = await checkout(world, booking["id"], success_url="http://booking.test/book/acme")
        assert elsewhere.status_code == 422
        here = await checkout(world, booking["id"], success_url="https://coach.example/anywhere")
        assert here.status_code == 200


async def test_stripe_events_and_payment_tasks_are_counted_for_metrics(
    world: World, stripe: FakeStripe
) -> None:
    registry = build_registry()

    def counted(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    names = [
        ("booking_stripe_events_total", {"outcome": o}) for o in ("applied", "repeat", "ignored", "refused")
    ]
    names += [
        ("booking_payment_task_attempts_total", {"kind": "refund", "outcome": o}) for o in ("retry", "done")
    ]
    before = [counted(name, **labels) for name, labels in names]
    booking = await world.booked(TUESDAY_10)
    paid = stripe.pay((await checked_out(world, booking["id"]))["id"])
    await deliver(world, "checkout.session.completed", paid, "evt_counted")
    await deliver(world, "checkout.session.completed", paid, "evt_counted")
    await deliver(world, "customer.created", {"id": "cus_1"})
    forged = await world.client.post(WEBHOOK, content=b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
    assert forged.status_code == 400
    stripe.failures["refunds"] = [SERVER_ERROR]
    await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    await worker_pass(world)
    advance(world, timedelta(seconds=5))
    await worker_pass(world)
    after = [counted(name, **labels) for name, labels in names]
    assert [now - then for now, then in zip(after, before, strict=True)] == [1, 1, 1, 1, 1, 1]
