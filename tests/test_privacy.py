"""A student's data on request (export, erasure) and retention, on both databases.

The proof of an erasure is read from the database itself: every text and JSON column of every table
(the list asked of SQLite's catalogue or PostgreSQL's information_schema) is searched for the student's
email address and phone number."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from booking.clock import FixedClock
from booking.models.audit import AuditEntry
from booking.models.bookings import Booking
from booking.models.events import Event
from booking.models.notifications import NotificationLog, OutboxMessage
from booking.models.payments import PaymentTask
from tests.booking_world import MON_FRI_9_TO_17, MONDAY, World, context_of, make_world
from tests.conftest import NOTIFY_TIMEOUT, running_api
from tests.fake_providers import Providers
from tests.fake_stripe import FakeStripe, fake_stripe
from tests.loopback import Reply
from tests.support import SERVICE, Api, make_settings, new_user, user_headers
from tests.test_payments import paid_booking
from tests.test_webhooks import closed_port_url

TUESDAY_10 = "2026-12-01T10:00:00+01:00"  # 09:00Z
PRICE = 5000
FAILING = Reply(500, raw=b"<html><body>Internal Server Error</body></html>")


@pytest.fixture
async def privacy_api(database_url: str, clock: FixedClock, providers: Providers) -> AsyncIterator[Api]:
    """Resend and Twilio fakes, webhooks allowed to a loopback port."""
    settings = make_settings(
        database_url,
        notification_timeout_seconds=NOTIFY_TIMEOUT,
        allow_private_urls=True,
        **providers.settings(),
    )
    async with running_api(settings, clock) as api:
        yield api


@pytest.fixture
async def world(privacy_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(privacy_api)
    await world.set_availability(settings={"price_amount": PRICE})
    return world


@dataclass(frozen=True)
class Student:
    id: uuid.UUID
    email: str
    phone: str
    headers: dict[str, str]


def a_student() -> Student:
    student_id = uuid.uuid4()
    email = f"erase-me-{student_id.hex[:12]}@example.com"
    phone = "+1555" + "".join(random.choices("0123456789", k=7))
    return Student(student_id, email, phone, user_headers(student_id, email=email, phone=phone))


async def booked(world: World, who: Student, starts_at: str, **extra: Any) -> dict[str, Any]:
    response = await world.book(starts_at, headers=who.headers, **extra)
    assert response.status_code == 201, response.text
    booking: dict[str, Any] = response.json()["booking"]
    return booking


async def patched(world: World, booking_id: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    response = await world.patch(booking_id, body, headers)
    assert response.status_code == 200, response.text


async def erase(
    world: World, student_id: uuid.UUID, headers: dict[str, str], brand_id: str | None = None
) -> httpx.Response:
    body = {} if brand_id is None else {"brand_id": brand_id}
    return await world.client.post(f"/api/students/{student_id}/erase", json=body, headers=headers)


async def read(world: World, booking_id: str) -> dict[str, Any]:
    response = await world.client.get(f"/api/bookings/{booking_id}", headers=SERVICE)
    assert response.status_code == 200, response.text
    booking: dict[str, Any] = response.json()["booking"]
    return booking


# --- every text column of every table, as the database lists them -----------------------------------


async def text_columns(world: World) -> list[tuple[str, str]]:
    async with context_of(world).db.transaction(write=False) as session:
        if session.get_bind().dialect.name == "postgresql":
            rows = await session.execute(
                text(
                    "SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND data_type IN "
                    "('text', 'character varying', 'character', 'json', 'jsonb')"
                )
            )
            return [(table, column) for table, column in rows.all()]
        tables = await session.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        )
        found = []
        for table in tables.all():
            for column in (await session.execute(text(f'PRAGMA table_info("{table}")'))).all():
                kind = str(column[2]).upper()
                if any(word in kind for word in ("CHAR", "TEXT", "CLOB", "JSON")) or not kind:
                    found.append((table, str(column[1])))
        return found


async def where_found(world: World, needle: str) -> set[tuple[str, str]]:
    """Every (table, column) with a row whose text contains `needle`."""
    columns = await text_columns(world)
    assert ("bookings", "student_email") in columns and ("audit_log", "changes") in columns
    found = set()
    async with context_of(world).db.transaction(write=False) as session:
        for table, column in columns:
            query = f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE :needle'
            if await session.scalar(text(query), {"needle": f"%{needle}%"}):
                found.add((table, column))
    return found


async def worker_pass(world: World) -> None:
    await context_of(world).worker.run_once()


# --- the erasure ------------------------------------------------------------------------------------


async def test_after_an_erasure_no_column_of_any_table_holds_the_student_address_or_phone(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    hook = {"url": closed_port_url(), "events": ["*"]}
    made = await world.client.post(f"/api/brands/{world.brand['id']}/webhooks", json=hook, headers=SERVICE)
    assert made.status_code == 201, made.text
    sam, other = a_student(), a_student()
    # Sent messages (their bodies name Sam), an answer stored under an Idempotency-Key, notes.
    keyed = sam.headers | {"Idempotency-Key": f"first-{sam.id}"}
    past = await booked(world, sam, TUESDAY_10, student_name="Sam Erased")
    await patched(world, past["id"], {"payment_status": "paid"}, SERVICE)
    note = f"call {sam.email} or {sam.phone}"
    await patched(world, past["id"], {"instructor_notes": note}, world.instructor_headers)
    reason = f"asked by phone, {sam.phone}"
    cancelled = await booked(world, sam, "2026-12-01T12:00:00+01:00")
    await patched(world, cancelled["id"], {"status": "cancelled", "cancellation_reason": reason}, SERVICE)
    response = await world.client.post(
        "/api/bookings", json=world.body("2026-12-02T10:00:00+01:00"), headers=keyed
    )
    assert response.status_code == 201, response.text
    moved = response.json()["booking"]
    moving = sam.headers | {"Idempotency-Key": f"move-{sam.id}"}
    url = f"/api/bookings/{moved['id']}/reschedule"
    response = await world.client.post(url, json={"starts_at": "2026-12-02T11:00:00+01:00"}, headers=moving)
    assert response.status_code == 200, response.text
    await patched(world, moved["id"], {"payment_status": "paid"}, SERVICE)
    theirs = await booked(world, other, "2026-12-01T14:00:00+01:00")
    # Later: the first session is over; the providers are down, so what follows stays queued.
    clock.set(MONDAY + timedelta(days=1, hours=6))
    await patched(world, past["id"], {"status": "completed"}, world.instructor_headers)
    providers.resend.failure = providers.twilio.failure = FAILING
    pending = await booked(world, sam, "2026-12-03T10:00:00+01:00")
    await worker_pass(world)  # events fanned out; the endpoint refuses: deliveries pending
    async with context_of(world).db.transaction(write=False) as session:
        queued = await session.scalar(
            text("SELECT COUNT(*) FROM outbox_messages WHERE status IN ('queued', 'retrying')")
        )
        undelivered = await session.scalar(
            text("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
        )
    assert queued and undelivered
    holding = {"bookings", "notification_log", "outbox_messages", "events", "idempotency_keys", "audit_log"}
    assert {table for table, _ in await where_found(world, sam.email)} >= holding
    assert {table for table, _ in await where_found(world, sam.phone)} >= holding
    ours = [past, cancelled, moved, pending]
    before = {booking["id"]: await read(world, booking["id"]) for booking in ours}
    sent_before = len(providers.resend.requests) + len(providers.twilio.requests)

    response = await erase(world, sam.id, sam.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"erased": {"bookings": 4, "cancelled": 2}}
    assert await where_found(world, sam.email) == set()
    assert await where_found(world, sam.phone) == set()
    assert await where_found(world, "Sam Erased") == set()
    assert ("bookings", "student_email") in await where_found(world, other.email)
    assert (await read(world, theirs["id"]))["student_email"] == other.email
    kept = ("starts_at", "ends_at", "price", "payment", "brand_id", "instructor_id", "student_id")
    for booking_id, earlier in before.items():
        now = await read(world, booking_id)
        assert {key: now[key] for key in kept} == {key: earlier[key] for key in kept}
        assert now["student_erased"] is True
        assert (now["student_name"], now["student_email"], now["student_phone"]) == (None, None, None)
        assert now["instructor_notes"] is None
    statuses = {booking_id: (await read(world, booking_id))["status"] for booking_id in before}
    assert statuses == {
        past["id"]: "completed",
        cancelled["id"]: "cancelled",
        moved["id"]: "cancelled",
        pending["id"]: "cancelled",
    }
    assert (await read(world, cancelled["id"]))["cancellation_reason"] is None
    assert (await read(world, moved["id"]))["cancellation_reason"] == "student_erased"
    # A manual payment stays as a staff cancellation leaves it (staff's to give back).
    assert (await read(world, moved["id"]))["payment"] == before[moved["id"]]["payment"]
    async with context_of(world).db.transaction(write=False) as session:
        undelivered_after = await session.scalar(
            text("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
        )
        data = await session.scalar(
            select(Event.data).where(
                Event.type == "student.erased", Event.brand_id == uuid.UUID(world.brand["id"])
            )
        )
    assert undelivered_after == undelivered, "pending deliveries stay, with the payload rewritten"
    assert data is not None and json.loads(data) == {"student_id": str(sam.id), "brand_id": world.brand["id"]}
    audit = await world.client.get(f"/api/brands/{world.brand['id']}/audit", headers=SERVICE)
    [entry] = [e for e in audit.json()["entries"] if e["action"] == "student.erased"]
    assert entry["actor"] == {"type": "user", "id": str(sam.id)}
    assert (entry["target_type"], entry["target_id"]) == ("student", str(sam.id))
    assert entry["changes"] == {
        "bookings": {"before": None, "after": 4},
        "cancelled": {"before": None, "after": 2},
    }
    # Nothing was sent for the cancellations.
    assert len(providers.resend.requests) + len(providers.twilio.requests) == sent_before
    again = await erase(world, sam.id, sam.headers)
    assert again.status_code == 200 and again.json() == {"erased": {"bookings": 0, "cancelled": 0}}


async def test_who_may_erase_and_a_refusal_changes_nothing(world: World, privacy_api: Api) -> None:
    sam = a_student()
    booking = await booked(world, sam, TUESDAY_10)
    other = await privacy_api.brand(slug="other")
    _, intruder = await privacy_api.admin_of(other["id"])
    stranger = new_user()[1]
    before = await read(world, booking["id"])
    brand = world.brand["id"]
    refused = [
        (intruder, brand, 404),  # another brand's admin: as if the brand did not exist
        (intruder, None, 422),  # a brand admin names their brand
        (world.admin_headers, None, 422),
        (stranger, brand, 403),
        (stranger, None, 403),
        (world.instructor_headers, brand, 403),
        (sam.headers, str(uuid.uuid4()), 404),
    ]
    for headers, brand_id, status in refused:
        response = await erase(world, sam.id, headers, brand_id)
        assert response.status_code == status, (brand_id, response.text)
    anonymous = await world.client.post(f"/api/students/{sam.id}/erase", json={})
    assert anonymous.status_code == 401
    assert await read(world, booking["id"]) == before
    assert await where_found(world, sam.email)
    # The brand's own admin, with its id.
    done = await erase(world, sam.id, world.admin_headers, brand)
    assert done.json() == {"erased": {"bookings": 1, "cancelled": 1}}


async def test_scope_an_admin_their_brand_the_student_every_brand(world: World, privacy_api: Api) -> None:
    sam = a_student()
    here = await booked(world, sam, TUESDAY_10)
    other_brand = await privacy_api.brand(slug="elsewhere")
    instructor = f"/api/instructors/{world.instructor['id']}"
    await privacy_api.client.put(f"{instructor}/brands/{other_brand['id']}", headers=SERVICE)
    hours = {"brand_id": other_brand["id"], "weekly": MON_FRI_9_TO_17}
    assert (
        await world.client.put(f"{instructor}/availability", json=hours, headers=SERVICE)
    ).status_code == 200
    there_body = world.body("2026-12-01T13:00:00+01:00", brand_id=other_brand["id"])
    response = await world.client.post("/api/bookings", json=there_body, headers=sam.headers)
    assert response.status_code == 201, response.text
    there = response.json()["booking"]
    by_admin = await erase(world, sam.id, world.admin_headers, world.brand["id"])
    assert by_admin.json() == {"erased": {"bookings": 1, "cancelled": 1}}
    assert (await read(world, here["id"]))["student_email"] is None
    assert (await read(world, there["id"]))["student_email"] == sam.email
    by_student = await erase(world, sam.id, sam.headers)
    assert by_student.json() == {"erased": {"bookings": 1, "cancelled": 1}}
    assert (await read(world, there["id"]))["student_erased"] is True
    assert await where_found(world, sam.email) == set()
    async with context_of(world).db.transaction(write=False) as session:
        query = select(AuditEntry.brand_id).where(
            AuditEntry.action == "student.erased", AuditEntry.target_id == sam.id
        )
        brands = sorted(str(brand) for brand in (await session.scalars(query)).all())
    # One entry per brand in scope: the admin's brand, then both brands for the student.
    assert brands == sorted([world.brand["id"], world.brand["id"], other_brand["id"]])


# --- export -----------------------------------------------------------------------------------------


async def test_export_for_each_caller_and_refusals(world: World, privacy_api: Api) -> None:
    sam = a_student()
    booking = await booked(world, sam, TUESDAY_10)
    await patched(world, booking["id"], {"payment_status": "paid"}, SERVICE)
    await patched(world, booking["id"], {"instructor_notes": "prefers mornings"}, world.instructor_headers)
    package = {"name": "Five", "sessions": 5, "valid_days": 90, "price_amount": 0}
    url = f"/api/brands/{world.brand['id']}/packages"
    sold = (await world.client.post(url, json=package, headers=SERVICE)).json()["package"]
    held = await world.client.post("/api/passes", json={"package_id": sold["id"]}, headers=sam.headers)
    assert held.status_code == 201, held.text
    other = await privacy_api.brand(slug="other")
    _, intruder = await privacy_api.admin_of(other["id"])
    path = f"/api/students/{sam.id}/export"
    brand = {"brand_id": world.brand["id"]}
    for headers, params in (
        (SERVICE, {}),
        (world.admin_headers, brand),
        (sam.headers, {}),
        (sam.headers, brand),
    ):
        response = await world.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        exported = response.json()
        assert set(exported) == {"student_id", "bookings", "passes", "notifications"}
        assert exported["student_id"] == str(sam.id)
        [shown] = exported["bookings"]
        full = (await world.client.get(f"/api/bookings/{booking['id']}", headers=SERVICE)).json()
        assert shown == full["booking"] | {"history": full["history"]}
        assert shown["instructor_notes"] == "prefers mornings"
        assert [p["id"] for p in exported["passes"]] == [held.json()["pass"]["id"]]
        assert exported["notifications"], "the messages to the student"
        for message in exported["notifications"]:
            assert set(message) == {"channel", "kind", "recipient", "status", "created_at"}
            assert message["recipient"] in (sam.email, sam.phone)
    refused = [
        (intruder, brand, 404),
        (intruder, {}, 422),
        (new_user()[1], {}, 403),
        (new_user()[1], brand, 403),
        (world.instructor_headers, brand, 403),
    ]
    for headers, params, status in refused:
        response = await world.client.get(path, params=params, headers=headers)
        assert response.status_code == status, (params, response.text)
    assert (await world.client.get(path)).status_code == 401
    await erase(world, sam.id, sam.headers)
    after = (await world.client.get(path, headers=SERVICE)).json()
    assert after["bookings"][0]["student_erased"] is True
    assert {message["recipient"] for message in after["notifications"]} == {None}


# --- refunds, as staff cancelling -------------------------------------------------------------------


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with fake_stripe() as fake:
        yield fake


@pytest.fixture
async def paying_world(database_url: str, clock: FixedClock, stripe: FakeStripe) -> AsyncIterator[World]:
    settings = make_settings(database_url, stripe_timeout_seconds=1.0, **stripe.settings())
    async with running_api(settings, clock) as api:
        clock.set(MONDAY)
        world = await make_world(api)
        await world.set_availability(settings={"price_amount": PRICE, "refund_percent": 50})
        yield world


async def test_a_future_booking_paid_online_is_cancelled_and_refunded_in_full(
    paying_world: World, stripe: FakeStripe
) -> None:
    world = paying_world
    booking = await paid_booking(world, stripe)
    response = await erase(world, world.student_id, world.student_headers)
    assert response.json() == {"erased": {"bookings": 1, "cancelled": 1}}
    after = await read(world, booking["id"])
    assert (after["status"], after["cancellation_reason"]) == ("cancelled", "student_erased")
    assert after["payment"]["refund_status"] == "pending"
    async with context_of(world).db.transaction(write=False) as session:
        task = await session.scalar(select(PaymentTask).where(PaymentTask.kind == "refund"))
        types = (await session.scalars(text("SELECT type FROM events ORDER BY created_at"))).all()
    assert task is not None and task.amount == PRICE, "a staff cancellation refunds all (not refund_percent)"
    assert "booking.cancelled" in types and "student.erased" in types


# --- the race with a new booking --------------------------------------------------------------------

ROUNDS = 8
DELAYS = (0.0, 0.002, 0.005, 0.01)


async def after(seconds: float, call: Awaitable[httpx.Response]) -> httpx.Response:
    await asyncio.sleep(seconds)
    return await call


async def test_an_erasure_racing_a_new_booking_leaves_no_data_committed_before_it(
    world: World,
) -> None:
    brand = world.brand["id"]
    for round_ in range(ROUNDS):
        sam = a_student()
        starts_at = f"2026-12-0{2 + round_ // 3}T{10 + 2 * (round_ % 3):02d}:00:00+01:00"
        # Either one a little later, by turns, so that each wins some rounds.
        booking_delay, erasure_delay = (
            (DELAYS[round_ // 2], 0.0) if round_ % 2 else (0.0, DELAYS[round_ // 2])
        )
        made, erased = await asyncio.gather(
            after(booking_delay, world.book(starts_at, headers=sam.headers)),
            after(erasure_delay, erase(world, sam.id, SERVICE, brand)),
        )
        assert made.status_code == 201 and erased.status_code == 200, (made.text, erased.text)
        booking_id = uuid.UUID(made.json()["booking"]["id"])
        async with context_of(world).db.transaction(write=False) as session:
            created = await session.scalar(
                select(AuditEntry.id).where(
                    AuditEntry.target_id == booking_id, AuditEntry.action == "booking.created"
                )
            )
            erasure = await session.scalar(
                select(AuditEntry.id).where(
                    AuditEntry.target_id == sam.id, AuditEntry.action == "student.erased"
                )
            )
            row = await session.get(Booking, booking_id)
        assert row is not None and created is not None and erasure is not None
        if created < erasure:  # committed before the erasure: erased with it
            assert erased.json()["erased"] == {"bookings": 1, "cancelled": 1}
            assert row.student_erased and row.student_email is None
            await asyncio.sleep(0.05)  # the booking's own first attempt at its messages
            assert await where_found(world, sam.email) == set()
            assert await where_found(world, sam.phone) == set()
        else:  # committed after it, with the details it was given
            assert erased.json()["erased"] == {"bookings": 0, "cancelled": 0}
            assert not row.student_erased and row.student_email == sam.email


async def test_messages_in_flight_during_an_erasure_are_logged_without_the_address(
    world: World, providers: Providers
) -> None:
    """The booking committed, its messages handed to a provider that has not answered yet: the erasure
    deletes them from the outbox, and the attempt, when it ends, is logged without the address."""
    sam = a_student()
    providers.resend.failure = providers.twilio.failure = Reply(hang=True)
    booking = asyncio.create_task(world.book(TUESDAY_10, headers=sam.headers))
    async with asyncio.timeout(NOTIFY_TIMEOUT):
        while True:
            async with context_of(world).db.transaction(write=False) as session:
                sending = await session.scalar(
                    select(OutboxMessage.id).where(
                        OutboxMessage.recipient == sam.email, OutboxMessage.status == "sending"
                    )
                )
            if sending is not None:
                break
            await asyncio.sleep(0.01)
    response = await erase(world, sam.id, SERVICE, world.brand["id"])
    assert response.json() == {"erased": {"bookings": 1, "cancelled": 1}}
    assert not booking.done(), "the attempt was still under way"
    assert (await booking).status_code == 201
    async with context_of(world).db.transaction(write=False) as session:
        logged = (await session.execute(select(NotificationLog.kind, NotificationLog.recipient))).all()
    assert ("booking_created", None) in logged
    assert await where_found(world, sam.email) == set()
    assert await where_found(world, sam.phone) == set()


async def test_an_erasure_waits_for_a_booking_being_written_and_erases_it(world: World) -> None:
    """A second connection holds a booking of the student uncommitted: the erasure waits for it, then
    erases it."""
    sam = a_student()
    context = context_of(world)
    now = context.clock.now()
    start = MONDAY + timedelta(days=2, hours=3)
    written, release = asyncio.Event(), asyncio.Event()

    async def booking_in_progress() -> uuid.UUID:
        async with context.db.transaction(write=True) as session:
            booking = Booking(
                brand_id=uuid.UUID(world.brand["id"]),
                instructor_id=uuid.UUID(world.instructor["id"]),
                student_id=sam.id,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                blocked_until=start + timedelta(hours=1),
                buffer_minutes=0,
                student_timezone="UTC",
                instructor_timezone="Europe/Berlin",
                locale="en",
                student_email=sam.email,
                student_phone=sam.phone,
                created_by=f"user:{sam.id}",
                created_at=now,
                updated_at=now,
            )
            session.add(booking)
            await session.flush()
            written.set()
            await release.wait()
            return booking.id

    writer = asyncio.create_task(booking_in_progress())
    await written.wait()
    eraser = asyncio.create_task(erase(world, sam.id, SERVICE, world.brand["id"]))
    await asyncio.sleep(0.3)
    assert not eraser.done(), "the erasure waits for the booking being written"
    release.set()
    booking_id = await writer
    response = await eraser
    assert response.json() == {"erased": {"bookings": 1, "cancelled": 1}}
    assert (await read(world, str(booking_id)))["student_erased"] is True
    assert await where_found(world, sam.email) == set()


# --- retention --------------------------------------------------------------------------------------

RETENTION_DAYS = 30


@pytest.fixture
async def retaining_world(database_url: str, clock: FixedClock) -> AsyncIterator[World]:
    async with running_api(make_settings(database_url, retention_days=RETENTION_DAYS), clock) as api:
        clock.set(MONDAY)
        yield await make_world(api)


async def test_retention_erases_at_the_limit_and_keeps_a_day_before(
    retaining_world: World, clock: FixedClock
) -> None:
    world = retaining_world
    sam = a_student()
    first = await booked(world, sam, TUESDAY_10)  # ends 10:00Z on Tuesday
    second = await booked(world, sam, "2026-12-02T10:00:00+01:00")  # a day later
    for booking in (first, second):
        await patched(world, booking["id"], {"payment_status": "paid"}, SERVICE)
        note = f"text {sam.phone}"
        await patched(world, booking["id"], {"instructor_notes": note}, world.instructor_headers)
    paid = await read(world, first["id"])
    # The first ended exactly RETENTION_DAYS days ago, the second a day less.
    clock.set(datetime.fromisoformat(paid["ends_at"]) + timedelta(days=RETENTION_DAYS))
    done = await context_of(world).worker.run_once()
    assert done["retention"] == 1
    erased, kept = await read(world, first["id"]), await read(world, second["id"])
    assert erased["student_erased"] is True and erased["student_email"] is None
    assert erased["instructor_notes"] is None
    kept_fields = ("status", "payment_status", "payment", "price", "starts_at", "ends_at", "student_id")
    assert {key: erased[key] for key in kept_fields} == {key: paid[key] for key in kept_fields}
    assert kept["student_erased"] is False and kept["student_email"] == sam.email
    audit = await world.client.get(
        f"/api/brands/{world.brand['id']}/audit", params={"target_id": first["id"]}, headers=SERVICE
    )
    [entry] = [e for e in audit.json()["entries"] if e["action"] == "booking.erased"]
    assert entry["actor"] == {"type": "system", "id": None}
    assert entry["changes"] == {"student_erased": {"before": False, "after": True}}
    notes = [e for e in audit.json()["entries"] if "instructor_notes" in e["changes"]]
    assert notes and all(e["changes"]["instructor_notes"] == {"before": None, "after": None} for e in notes)
    # The second one a day later, at its own limit.
    clock.set(clock.now() + timedelta(days=1))
    assert (await context_of(world).worker.run_once())["retention"] == 1
    assert (await read(world, second["id"]))["student_erased"] is True
    assert await where_found(world, sam.email) == set()
    assert await where_found(world, sam.phone) == set()
