"""Online payment's calls reach their tables through indexes that bound their work, at 100,000 rows of
payment history: every booking of a long history paid through Stripe, with a Checkout Session, a
refund task done and a Stripe event each. On PostgreSQL, each statement on `bookings`,
`checkout_sessions`, `payment_tasks` or `stripe_events` is explained as it runs (tests/test_query_plans.py
says how); none may scan them sequentially or read more than a few hundred of their rows."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event as sqlalchemy_event

from bench.scale import load_history
from booking import driver
from booking.clock import FixedClock
from booking.migrate import upgrade
from tests.booking_world import MON_FRI_9_TO_17
from tests.conftest import (
    BACKENDS,
    DEFAULT_NOW,
    asyncpg_dsn,
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
    running_api,
)
from tests.fake_stripe import WEBHOOK_SECRET, FakeStripe, event, fake_stripe, payload, signed
from tests.figures import FIGURES
from tests.support import SERVICE, Api, make_settings, user_headers
from tests.test_query_plans import MAX_ROWS_EXAMINED, Explained, Recorder, check_bounded

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="query plans are checked on PostgreSQL"),
]

NOW = DEFAULT_NOW
MIN_HISTORY = 100_000
# Not `packages`: a brand sells a handful (a list answers at most 200), its history does not grow them.
WATCHED = ("bookings", "checkout_sessions", "payment_tasks", "stripe_events", "passes")
TOUCHES_PAYMENTS = re.compile(
    r"\b(bookings|checkout_sessions|payment_tasks|stripe_events|passes)\b", re.IGNORECASE
)

# Every booking of the history paid through Stripe, its session complete, its refund done, its event seen.
PAYMENT_HISTORY_SQL = """
UPDATE bookings SET payment_intent = 'pi_hist_' || id, price_amount = 5000, price_currency = 'eur',
    payment_provider = 'stripe', amount_paid = 5000;
INSERT INTO checkout_sessions (id, booking_id, url, expires_at, status, created_at)
    SELECT 'cs_hist_' || id, id, 'https://checkout.stripe.com/x', created_at + interval '30 minutes',
        'complete', created_at FROM bookings;
INSERT INTO payment_tasks (id, kind, booking_id, reference, amount, attempts, next_attempt_at, done_at,
        last_error, created_at)
    SELECT gen_random_uuid(), 'refund', id, 'pi_hist_' || id, 100, 1, created_at, created_at, NULL,
        created_at FROM bookings;
INSERT INTO stripe_events (id, type, received_at)
    SELECT 'evt_hist_' || id, 'checkout.session.completed', created_at FROM bookings;
"""
# A pass for every student of the history, of one package, each with its own paid Checkout Session.
PASS_HISTORY_SQL = """
INSERT INTO packages (id, brand_id, name, sessions, valid_days, price_amount, instructor_ids, active,
        created_at, updated_at)
    VALUES (gen_random_uuid(), $1, 'History', 10, 365, 40000, NULL, true, now(), now());
INSERT INTO passes (id, package_id, brand_id, student_id, name, sessions_total, sessions_left, valid_days,
        instructor_ids, status, valid_until, activated_at, price_amount, price_currency, payment_provider,
        amount_paid, amount_refunded, refund_status, payment_intent, created_by, created_at, updated_at)
    SELECT gen_random_uuid(), (SELECT id FROM packages LIMIT 1), brand_id, student_id, 'History', 10, 9, 365,
        NULL, 'active', created_at + interval '365 days', created_at, 40000, 'eur', 'stripe', 40000, 0,
        NULL, 'pi_pass_' || id, 'test', created_at, created_at FROM bookings;
INSERT INTO checkout_sessions (id, pass_id, url, expires_at, status, created_at, amount)
    SELECT 'cs_pass_' || id, id, 'https://checkout.stripe.com/x', created_at + interval '30 minutes',
        'complete', created_at, 40000 FROM passes;
"""


@dataclass
class Scenario:
    calls: dict[str, list[Explained]]
    history: int
    indexes: set[str]


async def _set_up(api: Api, url: str) -> tuple[dict[str, Any], int]:
    brand = await api.brand()
    await api.client.patch(
        f"/api/brands/{brand['id']}", json={"settings": {"currency": "eur"}}, headers=SERVICE
    )
    instructor = await api.instructor([brand["id"]])
    body = {"brand_id": brand["id"], "weekly": MON_FRI_9_TO_17, "settings": {"price_amount": 5000}}
    url_of = f"/api/instructors/{instructor['id']}/availability"
    assert (await api.client.put(url_of, json=body, headers=SERVICE)).status_code == 200
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        history = await load_history(connection, uuid.UUID(brand["id"]), uuid.UUID(instructor["id"]), NOW)
        await connection.execute(PAYMENT_HISTORY_SQL)
        for statement in PASS_HISTORY_SQL.split(";")[:-1]:
            await connection.execute(statement, *([uuid.UUID(brand["id"])] if "$1" in statement else []))
        for table in WATCHED:  # as autovacuum would, after the update of every booking
            await connection.execute(f"VACUUM ANALYZE {table}")
    finally:
        await connection.close()
    return {"brand_id": brand["id"], "instructor_id": instructor["id"]}, history


async def _webhook(api: Api, thing: dict[str, Any], kind: str, event_id: str | None = None) -> httpx.Response:
    body = payload(event(kind, thing, event_id))
    headers = signed(body, int(NOW.timestamp()), WEBHOOK_SECRET)
    return await api.client.post("/api/payments/stripe/webhook", content=body, headers=headers)


async def _answered(work: Awaitable[Any]) -> httpx.Response:
    await work
    return httpx.Response(200)


async def _calls(api: Api, recorder: Recorder, ids: dict[str, Any], stripe: FakeStripe) -> None:
    client, record = api.client, recorder.record
    student = user_headers(uuid.uuid4(), email="student@example.com")
    first = (NOW + timedelta(days=2)).date()
    span = {"brand_id": ids["brand_id"], "from": str(first), "to": str(first + timedelta(days=6))}
    slots = (await client.get(f"/api/instructors/{ids['instructor_id']}/slots", params=span)).json()["slots"]
    body = ids | {"starts_at": slots[0]["starts_at"], "student_timezone": "UTC"}
    created = await client.post("/api/bookings", json=body, headers=student)
    assert created.status_code == 201, created.text
    booking_id = created.json()["booking"]["id"]
    checkout_url = f"/api/bookings/{booking_id}/checkout"
    made = await record("checkout", client.post(checkout_url, json={}, headers=student), 200)
    await record("checkout: the open session again", client.post(checkout_url, json={}, headers=student), 200)
    session_id = made.json()["checkout"]["id"]
    paid = stripe.pay(session_id)
    await record("webhook: paid", _webhook(api, paid, "checkout.session.completed", "evt_paid"), 200)
    await record("webhook: a repeat", _webhook(api, paid, "checkout.session.completed", "evt_paid"), 200)
    refresh = client.post(f"{checkout_url}/refresh", json={"session_id": session_id})
    await record("refresh without a token", refresh, 200)
    cancel = client.patch(f"/api/bookings/{booking_id}", json={"status": "cancelled"}, headers=SERVICE)
    await record("cancel: a refund queued", cancel, 200)
    worker = api.app.state.context.worker
    await record("payments: worker pass", _answered(worker.run_once()), 200)
    assert len(stripe.refunds) == 1
    charge = {
        "id": "ch_1",
        "payment_intent": paid["payment_intent"],
        "refunded": True,
        "amount_refunded": 5000,
    }
    await record("webhook: charge refunded, by payment intent", _webhook(api, charge, "charge.refunded"), 200)
    await _pass_calls(api, recorder, ids, stripe, student, slots[1]["starts_at"])


async def _pass_calls(
    api: Api, recorder: Recorder, ids: dict[str, Any], stripe: FakeStripe, student: dict[str, str], start: str
) -> None:
    client, record = api.client, recorder.record
    packages = f"/api/brands/{ids['brand_id']}/packages"
    package = {"name": "Five", "sessions": 5, "valid_days": 30, "price_amount": 20000}
    made = await client.post(packages, json=package, headers=SERVICE)
    bought = client.post("/api/passes", json={"package_id": made.json()["package"]["id"]}, headers=student)
    pass_id = (await record("pass: bought", bought, 201)).json()["pass"]["id"]
    checkout = client.post(f"/api/passes/{pass_id}/checkout", json={}, headers=student)
    session_id = (await record("pass: checkout", checkout, 200)).json()["checkout"]["id"]
    stripe.pay(session_id)
    refresh = client.post(f"/api/passes/{pass_id}/checkout/refresh", json={"session_id": session_id})
    await record("pass: refresh activates it", refresh, 200)
    await record("passes: a student's own", client.get("/api/passes", headers=student), 200)
    listed = client.get("/api/passes", params={"brand_id": ids["brand_id"]}, headers=SERVICE)
    await record("passes: the brand's, newest first", listed, 200)
    body = ids | {"starts_at": start, "student_timezone": "UTC", "pass_id": pass_id}
    booked = await record(
        "booking: paid with the pass", client.post("/api/bookings", json=body, headers=student), 201
    )
    cancel = {"status": "cancelled"}
    url = f"/api/bookings/{booked.json()['booking']['id']}"
    await record("cancel: the session back to the pass", client.patch(url, json=cancel, headers=student), 200)


async def _indexes(url: str) -> set[str]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY($1::text[])", list(WATCHED)
        )
        return {row["indexname"] for row in rows}
    finally:
        await connection.close()


async def _run(url: str) -> Scenario:
    with fake_stripe() as stripe:
        async with running_api(make_settings(url, **stripe.settings()), FixedClock(NOW)) as api:
            ids, history = await _set_up(api, url)
            recorder = Recorder(watching=TOUCHES_PAYMENTS)
            engine = api.app.state.context.db.engine.sync_engine
            sqlalchemy_event.listen(engine, "before_cursor_execute", recorder.before_cursor_execute)
            driver.OBSERVERS.append(recorder.observe_driver)
            try:
                await _calls(api, recorder, ids, stripe)
            finally:
                sqlalchemy_event.remove(engine, "before_cursor_execute", recorder.before_cursor_execute)
                driver.OBSERVERS.remove(recorder.observe_driver)
    return Scenario(recorder.calls, history, await _indexes(url))


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    name = create_postgres_database()
    try:
        url = postgres_url(name)
        upgrade(url)
        yield asyncio.run(_run(url))
    finally:
        drop_postgres_database(name)


CALLS = [
    "checkout",
    "checkout: the open session again",
    "webhook: paid",
    "webhook: a repeat",
    "refresh without a token",
    "cancel: a refund queued",
    "payments: worker pass",
    "webhook: charge refunded, by payment intent",
    "pass: bought",
    "pass: checkout",
    "pass: refresh activates it",
    "passes: a student's own",
    "passes: the brand's, newest first",
    "booking: paid with the pass",
    "cancel: the session back to the pass",
]


def test_the_payment_history_is_long(scenario: Scenario) -> None:
    assert scenario.history >= MIN_HISTORY


@pytest.mark.parametrize("call", CALLS)
def test_payment_call_reads_through_a_bounded_index(scenario: Scenario, call: str) -> None:
    explained = scenario.calls.get(call, [])
    assert explained, f"{call}: no statement on the payment tables was recorded"
    worst = check_bounded(call, explained, scenario.indexes, WATCHED, MAX_ROWS_EXAMINED)
    FIGURES[f"rows of bookings or payment tables one plan node examined, at most: {call}"] = worst
