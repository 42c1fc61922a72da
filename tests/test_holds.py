"""Payment holds (SPEC §9) on both databases: expiry at its instant, the worker, staff changes, and
payment after expiry, each at its edges and under concurrency."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from booking.clock import FixedClock
from booking.models.events import Event
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.fake_providers import Providers
from tests.support import SERVICE, Api, user_headers

TUESDAY_10 = "2026-12-01T10:00:00+01:00"
HOLD = timedelta(minutes=30)


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


async def detail(world: World, booking_id: str, headers: dict[str, str] = SERVICE) -> dict[str, Any]:
    response = await world.client.get(f"/api/bookings/{booking_id}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def events_of(world: World, booking_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with context_of(world).db.transaction(write=False) as session:
        rows = await session.scalars(
            select(Event).where(Event.booking_id == uuid.UUID(booking_id)).order_by(Event.created_at)
        )
        return [(row.type.value, json.loads(row.data)) for row in rows]


async def slot_starts(world: World, day: str = "2026-12-01") -> list[str]:
    response = await world.client.get(
        f"/api/instructors/{world.instructor['id']}/slots",
        params={"brand_id": world.brand["id"], "from": day, "to": day},
    )
    assert response.status_code == 200, response.text
    return [slot["starts_at"] for slot in response.json()["slots"]]


def another_student() -> dict[str, str]:
    return user_headers(uuid.uuid4(), email="other@example.com")


# --- the hold itself -----------------------------------------------------------------------------


async def test_a_pending_booking_holds_for_the_setting_and_a_paid_one_has_no_hold(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    assert booking["hold_expires_at"] == "2026-11-30T06:30:00Z"
    paid = await world.patch(booking["id"], {"payment_status": "paid"}, world.admin_headers)
    assert (paid.json()["booking"]["status"], paid.json()["booking"]["hold_expires_at"]) == (
        "confirmed",
        None,
    )


async def test_a_zero_hold_never_expires(world: World, clock: FixedClock) -> None:
    await world.set_availability(settings={"payment_hold_minutes": 0})
    booking = await world.booked(TUESDAY_10)
    assert booking["hold_expires_at"] is None
    clock.set(MONDAY + timedelta(hours=20))
    assert "2026-12-01T09:00:00Z" not in await slot_starts(world)
    taken = await world.book(TUESDAY_10, headers=another_student())
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "slot_unavailable")


async def test_the_hold_blocks_until_its_instant_and_not_at_it(world: World, clock: FixedClock) -> None:
    held = await world.booked(TUESDAY_10)
    clock.set(MONDAY + HOLD - timedelta(microseconds=1))
    assert "2026-12-01T09:00:00Z" not in await slot_starts(world)
    refused = await world.book(TUESDAY_10, headers=another_student())
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "slot_unavailable")

    clock.set(MONDAY + HOLD)
    assert "2026-12-01T09:00:00Z" in await slot_starts(world), "free again, with no job run"
    assert (await detail(world, held["id"]))["booking"]["status"] == "pending", "not yet cancelled"
    taken = await world.book(TUESDAY_10, headers=another_student())
    assert taken.status_code == 201, taken.text

    old = await detail(world, held["id"])
    assert old["booking"]["status"] == "cancelled"
    assert old["booking"]["cancellation_reason"] == "payment_hold_expired"
    assert old["booking"]["hold_expires_at"] is None
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in old["history"]][1:] == [
        ("pending", "cancelled", "system")
    ]
    assert [kind for kind, _ in await events_of(world, held["id"])] == [
        "booking.created",
        "booking.cancelled",
    ]


async def test_a_booking_in_another_brand_cancels_the_expired_hold_in_its_way(
    world: World, clock: FixedClock
) -> None:
    """The hold is in brand A; the instructor's time is shared, so a booking in brand B frees it too."""
    held = await world.booked(TUESDAY_10)
    other = await world.api.brand("other", "Other")
    link = await world.client.put(
        f"/api/instructors/{world.instructor['id']}/brands/{other['id']}", headers=SERVICE
    )
    assert link.status_code in (200, 201)
    week = [{"weekday": d, "start_time": "09:00", "end_time": "17:00"} for d in range(1, 6)]
    url = f"/api/instructors/{world.instructor['id']}/availability"
    await world.client.put(url, json={"brand_id": other["id"], "weekly": week}, headers=SERVICE)
    clock.set(MONDAY + HOLD)
    body = world.body(TUESDAY_10, brand_id=other["id"])
    taken = await world.client.post("/api/bookings", json=body, headers=another_student())
    assert taken.status_code == 201, taken.text
    assert (await detail(world, held["id"]))["booking"]["cancellation_reason"] == "payment_hold_expired"


async def test_many_requests_for_a_just_expired_hold_one_wins_and_it_is_cancelled_once(
    world: World, clock: FixedClock
) -> None:
    held = await world.booked(TUESDAY_10)
    clock.set(MONDAY + HOLD)
    responses = await asyncio.gather(*(world.book(TUESDAY_10, headers=another_student()) for _ in range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 11, statuses
    history = (await detail(world, held["id"]))["history"]
    assert [h["to_status"] for h in history] == ["pending", "cancelled"]
    assert [kind for kind, _ in await events_of(world, held["id"])].count("booking.cancelled") == 1


# --- the worker ----------------------------------------------------------------------------------


@pytest.fixture
async def notifying_world(notifying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(notifying_api)


async def test_the_worker_cancels_expired_holds_and_tells_the_student(
    notifying_world: World, clock: FixedClock, providers: Providers
) -> None:
    world = notifying_world
    held = await world.booked(TUESDAY_10)
    later = await world.booked("2026-12-01T12:00:00+01:00")
    await world.set_availability(settings={"payment_hold_minutes": 60})
    unexpired = await world.booked("2026-12-01T14:00:00+01:00")
    worker = context_of(world).worker

    clock.set(MONDAY + HOLD - timedelta(seconds=1))
    assert (await worker.run_once())["holds"] == 0
    clock.set(MONDAY + HOLD + timedelta(seconds=30))
    sent_before = len(providers.resend.emails())
    assert (await worker.run_once())["holds"] == 2
    for booking in (held, later):
        cancelled = await detail(world, booking["id"])
        assert cancelled["booking"]["status"] == "cancelled"
        assert cancelled["booking"]["cancellation_reason"] == "payment_hold_expired"
        assert cancelled["history"][-1]["actor"] == "system"
    assert (await detail(world, unexpired["id"]))["booking"]["status"] == "pending"
    expiry_mails = [m for m in providers.resend.emails()[sent_before:] if "not received" in m["subject"]]
    assert (
        sorted(m["to"] if isinstance(m["to"], str) else m["to"][0] for m in expiry_mails)
        == ["student@example.com"] * 2
    )
    assert "STATUS:CANCELLED" in providers.resend.calendar(expiry_mails[0])
    assert (await worker.run_once())["holds"] == 0, "each hold is cancelled once"


# --- staff change the hold ------------------------------------------------------------------------


async def test_staff_extend_shorten_and_lift_a_hold(world: World, clock: FixedClock) -> None:
    booking = await world.booked(TUESDAY_10)
    later = "2026-11-30T09:00:00Z"
    extended = await world.patch(booking["id"], {"hold_expires_at": later}, world.admin_headers)
    assert extended.status_code == 200, extended.text
    assert extended.json()["booking"]["hold_expires_at"] == later
    clock.set(MONDAY + timedelta(hours=2))
    assert "2026-12-01T09:00:00Z" not in await slot_starts(world), "still held after the default 30 min"

    shortened = await world.patch(booking["id"], {"hold_expires_at": "2026-11-30T08:01:00+00:00"}, SERVICE)
    assert shortened.json()["booking"]["hold_expires_at"] == "2026-11-30T08:01:00Z"
    lifted = await world.patch(booking["id"], {"hold_expires_at": None}, SERVICE)
    assert lifted.json()["booking"]["hold_expires_at"] is None
    clock.set(MONDAY + timedelta(hours=20))
    assert "2026-12-01T09:00:00Z" not in await slot_starts(world), "no expiry at all"


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(seconds=1)])
async def test_a_hold_end_not_after_now_is_422_and_changes_nothing(world: World, offset: timedelta) -> None:
    booking = await world.booked(TUESDAY_10)
    instant = (MONDAY + offset).isoformat()
    response = await world.patch(booking["id"], {"hold_expires_at": instant}, world.admin_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "validation_error")
    assert (await detail(world, booking["id"]))["booking"]["hold_expires_at"] == "2026-11-30T06:30:00Z"


async def test_only_staff_change_a_hold(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    body = {"hold_expires_at": "2026-11-30T09:00:00Z"}
    for headers in (world.student_headers, world.instructor_headers):
        response = await world.patch(booking["id"], body, headers)
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    assert (await detail(world, booking["id"]))["booking"]["hold_expires_at"] == "2026-11-30T06:30:00Z"


async def test_a_confirmed_booking_or_an_expired_hold_has_no_hold_to_change(
    world: World, clock: FixedClock
) -> None:
    confirmed = await world.booked(TUESDAY_10)
    await world.patch(confirmed["id"], {"payment_status": "paid"}, SERVICE)
    expired = await world.booked("2026-12-01T12:00:00+01:00")
    clock.set(MONDAY + HOLD)
    for booking in (confirmed, expired):
        response = await world.patch(booking["id"], {"hold_expires_at": "2026-11-30T09:00:00Z"}, SERVICE)
        assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition")


# --- payment after expiry -------------------------------------------------------------------------


async def test_paid_after_expiry_while_the_time_is_free_is_confirmed(world: World, clock: FixedClock) -> None:
    held = await world.booked(TUESDAY_10)
    clock.set(MONDAY + HOLD)
    await context_of(world).worker.run_once()
    paid = await world.patch(held["id"], {"payment_status": "paid"}, world.admin_headers)
    assert paid.status_code == 200, paid.text
    booking = paid.json()["booking"]
    assert (booking["status"], booking["payment_status"]) == ("confirmed", "paid")
    assert (booking["cancellation_reason"], booking["hold_expires_at"], booking["refund_due"]) == (
        None,
        None,
        False,
    )
    assert "2026-12-01T09:00:00Z" not in await slot_starts(world)
    kinds = [kind for kind, _ in await events_of(world, held["id"])]
    assert kinds == ["booking.created", "booking.cancelled", "booking.confirmed", "booking.paid"]


async def test_paid_after_expiry_but_before_the_worker_is_confirmed(world: World, clock: FixedClock) -> None:
    held = await world.booked(TUESDAY_10)
    clock.set(MONDAY + HOLD + timedelta(seconds=5))
    paid = await world.patch(held["id"], {"payment_status": "paid"}, SERVICE)
    assert (paid.json()["booking"]["status"], paid.json()["booking"]["refund_due"]) == ("confirmed", False)


async def test_paid_after_its_time_was_taken_owes_a_refund(world: World, clock: FixedClock) -> None:
    held = await world.booked(TUESDAY_10)
    clock.set(MONDAY + HOLD)
    # Not the same start: an overlap with the hold (or its buffer) is enough to take its time.
    assert (await world.book("2026-12-01T09:30:00+01:00", headers=another_student())).status_code == 201
    paid = await world.patch(held["id"], {"payment_status": "paid"}, world.admin_headers)
    assert paid.status_code == 200, paid.text
    booking = paid.json()["booking"]
    assert (booking["status"], booking["payment_status"], booking["refund_due"]) == (
        "cancelled",
        "paid",
        True,
    )
    assert booking["cancellation_reason"] == "payment_hold_expired"
    as_instructor = await detail(world, held["id"], world.instructor_headers)
    as_student = await detail(world, held["id"], world.student_headers)
    assert (as_instructor["booking"]["refund_due"], as_student["booking"]["refund_due"]) == (True, False)
    kinds = [kind for kind, _ in await events_of(world, held["id"])]
    assert kinds == ["booking.created", "booking.cancelled", "booking.paid", "booking.refund_due"]


async def test_payment_never_revives_a_booking_cancelled_for_another_reason(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    await world.patch(booking["id"], {"status": "cancelled"}, world.student_headers)
    paid = await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    assert (paid.json()["booking"]["status"], paid.json()["booking"]["refund_due"]) == ("cancelled", False)


async def test_a_revival_racing_a_new_booking_for_the_time_lets_exactly_one_hold_it(
    world: World, clock: FixedClock
) -> None:
    for round_ in range(4):
        start = datetime(2026, 12, 1 + round_, 9, 0, tzinfo=UTC)
        clock.set(MONDAY)
        held = await world.booked(start.isoformat())
        clock.set(MONDAY + HOLD)
        await context_of(world).worker.run_once()
        revival, newcomer = await asyncio.gather(
            world.patch(held["id"], {"payment_status": "paid"}, SERVICE),
            world.book(start.isoformat(), headers=another_student()),
        )
        assert revival.status_code == 200, revival.text
        revived = revival.json()["booking"]["status"] == "confirmed"
        assert revived == (newcomer.status_code == 409), (revival.text, newcomer.text)
        assert revival.json()["booking"]["refund_due"] is not revived
        active = [
            b for b in await world.all_bookings() if b["starts_at"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
        ]
        assert len([b for b in active if b["status"] in ("pending", "confirmed")]) == 1
