"""GET /api/brands/{brand_id}/insights: per instructor and per week, over brand-local dates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from booking.clock import FixedClock
from booking.enums import HOLD_EXPIRED_REASON, BookingStatus, PaymentStatus
from booking.models.bookings import BookingEvent
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.support import SERVICE, Api, new_user
from tests.test_export import insert_rows, row

SPAN = {"from": "2026-12-02", "to": "2026-12-20"}  # a Wednesday to a Sunday: three Monday-first weeks
CANCELLED = BookingStatus.CANCELLED


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(api)
    await world.set_brand_settings(timezone="Europe/Berlin", currency="eur")  # UTC+1 in December
    colleague_user, colleague_headers = new_user()
    colleague = await api.instructor([world.brand["id"]], user_id=colleague_user, name="Bea Colleague")
    idle = await api.instructor([world.brand["id"]], name="Cy Idle")
    world.extra |= {"colleague": colleague, "colleague_headers": colleague_headers, "idle": idle}
    return world


async def cancelled(world: World, start: datetime, actor: str | None, **values: Any) -> dict[str, Any]:
    booking = row(world, start, status=CANCELLED, payment_status=PaymentStatus.UNPAID, **values)
    if actor is None:  # the student's own
        actor = f"user:{booking['student_id']}"
    await insert_rows(world, [booking])
    event = {"booking_id": booking["id"], "from_status": BookingStatus.CONFIRMED, "to_status": CANCELLED}
    async with context_of(world).db.transaction(write=True) as session:
        await session.execute(insert(BookingEvent), [event | {"actor": actor, "created_at": MONDAY}])
    return booking


@pytest.fixture
async def history(world: World) -> None:
    hour = timedelta(hours=1)
    completed, no_show = BookingStatus.COMPLETED, BookingStatus.NO_SHOW
    await insert_rows(
        world,
        [
            # Out of the span by a minute on either side (brand-local midnight is 23:00 UTC).
            row(world, at("2026-12-01T22:59:00"), amount_paid=999),
            row(world, at("2026-12-20T23:00:00"), amount_paid=999),
            # Week of 30 November: two held sessions, 1 h and 1.5 h, paid.
            row(world, at("2026-12-01T23:00:00"), amount_paid=5000),
            row(world, at("2026-12-03T09:00:00"), ends_at=at("2026-12-03T10:30:00"), amount_paid=5000),
            # Week of 14 December: a no-show, a confirmed and a live hold (30 min), an expired one.
            row(world, at("2026-12-14T09:00:00"), status=no_show, amount_paid=4000),
            row(world, at("2026-12-15T09:00:00"), status=BookingStatus.CONFIRMED, amount_paid=4000),
            row(
                world, at("2026-12-16T09:00:00"), ends_at=at("2026-12-16T09:30:00"),
                status=BookingStatus.PENDING, payment_status=PaymentStatus.UNPAID,
                hold_expires_at=MONDAY + hour,
            ),
            row(
                world, at("2026-12-16T12:00:00"), status=BookingStatus.PENDING,
                payment_status=PaymentStatus.UNPAID, hold_expires_at=MONDAY - hour,
            ),
            row(world, at("2026-12-20T22:00:00"), status=completed, amount_paid=5000),
            # The colleague: one session in the first week.
            row(
                world, at("2026-12-04T09:00:00"), ends_at=at("2026-12-04T09:45:00"),
                instructor_id=uuid.UUID(world.extra["colleague"]["id"]), amount_paid=2500,
            ),
        ],
    )  # fmt: skip
    instructor_user = f"user:{uuid.uuid4()}"  # who cancelled as the instructor: staff
    await cancelled(world, at("2026-12-05T09:00:00"), None, amount_paid=3000, amount_refunded=3000)
    await cancelled(world, at("2026-12-05T11:00:00"), None)
    await cancelled(world, at("2026-12-05T13:00:00"), "service")
    await cancelled(world, at("2026-12-05T15:00:00"), instructor_user)
    await cancelled(world, at("2026-12-05T17:00:00"), "system", cancellation_reason=HOLD_EXPIRED_REASON)


async def insights(world: World, headers: dict[str, str] = SERVICE, /, **params: Any) -> httpx.Response:
    url = f"/api/brands/{world.brand['id']}/insights"
    return await world.client.get(url, params=SPAN | params, headers=headers)


@pytest.mark.usefixtures("history")
async def test_figures_per_instructor_and_week(world: World) -> None:
    response = await insights(world, world.admin_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["currency"]) == ("2026-12-02", "2026-12-20", "eur")
    ada, bea, cy = body["instructors"]  # by name
    assert ada == {
        "instructor_id": world.instructor["id"],
        "name": "Ada Coach",
        "sessions": 6,  # 2 completed and 1 more, 1 no-show, 1 confirmed, 1 live hold
        "hours": 6.0,  # 1 + 1.5 + 1 + 1 + 0.5 + 1
        "completed": 3,
        "no_show": 1,
        "cancelled_by_student": 2,
        "cancelled_by_staff": 2,
        "expired_holds": 1,
        "no_show_rate": 0.25,
        "revenue_paid": 5000 + 5000 + 4000 + 4000 + 5000 + 3000,
        "revenue_refunded": 3000,
    }
    assert (bea["name"], bea["sessions"], bea["hours"], bea["completed"]) == ("Bea Colleague", 1, 0.75, 1)
    assert (bea["no_show_rate"], bea["revenue_paid"]) == (0.0, 2500)
    assert cy == {
        "instructor_id": world.extra["idle"]["id"],
        "name": "Cy Idle",
        "sessions": 0,
        "hours": 0.0,
        "completed": 0,
        "no_show": 0,
        "cancelled_by_student": 0,
        "cancelled_by_staff": 0,
        "expired_holds": 0,
        "no_show_rate": None,
        "revenue_paid": 0,
        "revenue_refunded": 0,
    }
    assert body["weeks"] == [
        {"week_start": "2026-11-30", "sessions": 3},
        {"week_start": "2026-12-07", "sessions": 0},
        {"week_start": "2026-12-14", "sessions": 4},
    ]


@pytest.mark.usefixtures("history")
async def test_an_instructor_sees_only_their_own_row(world: World) -> None:
    body = (await insights(world, world.extra["colleague_headers"])).json()
    assert [i["name"] for i in body["instructors"]] == ["Bea Colleague"]
    assert [w["sessions"] for w in body["weeks"]] == [1, 0, 0]
    own = (await insights(world, world.instructor_headers)).json()
    assert [(i["name"], i["sessions"]) for i in own["instructors"]] == [("Ada Coach", 6)]


async def test_one_day_and_an_empty_brand(world: World) -> None:
    body = (await insights(world, **{"from": "2026-12-06", "to": "2026-12-06"})).json()
    assert body["weeks"] == [{"week_start": "2026-11-30", "sessions": 0}]
    assert [i["sessions"] for i in body["instructors"]] == [0, 0, 0]


async def test_who_may_read_them(world: World) -> None:
    assert (await insights(world, world.student_headers)).status_code == 403
    other = await world.api.brand(slug="other")
    _, intruder = await world.api.admin_of(other["id"])
    hidden = await insights(world, intruder)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    missing = await world.client.get(f"/api/brands/{uuid.uuid4()}/insights", params=SPAN, headers=SERVICE)
    assert missing.status_code == 404
    assert (await insights(world, {})).status_code == 401
    assert (await insights(world, **{"from": "2026-12-21"})).status_code == 422  # after `to`
    assert (await insights(world, **{"from": "2025-12-01"})).status_code == 422  # over 366 days
    url = f"/api/brands/{world.brand['id']}/insights"
    assert (await world.client.get(url, headers=SERVICE)).status_code == 422  # the dates are required
