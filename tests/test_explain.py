"""Why not? `GET /api/instructors/{id}/slots/explain` on both databases: every rule a time breaks, in rule
order; what blocks shown to the instructor and the brand's staff only; the student's pending cap judged
for a student only; and the verdict agreeing with what `POST /api/bookings` then does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from booking.bookings.errors import REJECTIONS
from booking.clock import FixedClock
from booking.models.calendars import BusyCalendar, BusyInterval
from booking.scheduling import Rejection
from booking.scheduling.explain import MESSAGES
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.support import SERVICE, Api, user_headers

TUESDAY_9 = "2026-12-01T09:00:00+01:00"  # 08:00 UTC; the world's instructor teaches 09:00-17:00 Berlin


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


def student() -> dict[str, str]:
    return user_headers(uuid.uuid4())


async def explain(
    world: World, starts_at: str, headers: dict[str, str] | None = None, **params: Any
) -> httpx.Response:
    return await world.client.get(
        f"/api/instructors/{world.instructor['id']}/slots/explain",
        params={"brand_id": world.brand["id"], "starts_at": starts_at} | params,
        headers=headers or {},
    )


async def explained(
    world: World, starts_at: str, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    response = await explain(world, starts_at, headers, **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["bookable"] == (body["reasons"] == [])
    for reason in body["reasons"]:
        assert reason["message"] == MESSAGES[Rejection(reason["code"])]
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in body["reasons"]]


def staff_of(world: World) -> list[dict[str, str]]:
    """Those who read what blocks: the instructor themself, an admin of the brand, the service."""
    return [world.instructor_headers, world.admin_headers, SERVICE]


def test_the_messages_are_the_booking_errors_own() -> None:
    assert {reason: message for reason, (_, message) in REJECTIONS.items()} == MESSAGES


async def test_a_free_time_is_bookable_for_everyone(world: World) -> None:
    for headers in [None, world.student_headers, *staff_of(world)]:
        assert await explained(world, TUESDAY_9, headers) == {"bookable": True, "reasons": []}


async def test_a_taken_time_names_the_booking_to_staff_only(world: World) -> None:
    taken = await world.booked(TUESDAY_9)
    expected = {
        "id": taken["id"],
        "starts_at": "2026-12-01T08:00:00Z",
        "blocked_until": "2026-12-01T09:15:00Z",  # the session's end and the 15-minute buffer
        "brand_id": world.brand["id"],
    }
    other_admin = (await world.api.admin_of((await world.api.brand("other", "Other"))["id"]))[1]
    # 10:00 is free of the session itself, not of its buffer; 10:15 is free.
    for starts_at in ("2026-12-01T09:30:00+01:00", "2026-12-01T10:00:00+01:00"):
        for headers in staff_of(world):
            body = await explained(world, starts_at, headers)
            (reason,) = body["reasons"]
            assert reason["code"] == "slot_unavailable"
            assert reason["details"] == {"bookings": [expected], "busy": []}
        for outsider in [None, student(), other_admin]:
            response = await explain(world, starts_at, outsider)
            assert response.status_code == 200
            assert response.json()["reasons"] == [
                {"code": "slot_unavailable", "message": MESSAGES[Rejection.SLOT_UNAVAILABLE], "details": None}
            ]
            assert taken["id"] not in response.text and "student@example.com" not in response.text
            assert str(world.student_id) not in response.text
    assert await explained(world, "2026-12-01T10:15:00+01:00", SERVICE) == {"bookable": True, "reasons": []}


async def test_an_admin_reads_the_id_and_brand_only_of_their_brands_bookings(world: World) -> None:
    other = await world.api.brand("other", "Other")
    link = f"/api/instructors/{world.instructor['id']}/brands/{other['id']}"
    assert (await world.client.put(link, headers=SERVICE)).status_code in (200, 201, 204)
    url = f"/api/instructors/{world.instructor['id']}/availability"
    body = {"brand_id": other["id"], "weekly": [{"weekday": 2, "start_time": "09:00", "end_time": "17:00"}]}
    assert (await world.client.put(url, json=body, headers=SERVICE)).status_code == 200
    elsewhere = await world.booked(TUESDAY_9, brand_id=other["id"])
    hidden = {
        "id": None,
        "starts_at": "2026-12-01T08:00:00Z",
        "blocked_until": "2026-12-01T09:15:00Z",
        "brand_id": None,
    }
    admin_id, admin = await world.api.admin_of(world.brand["id"])
    (reason,) = (await explained(world, TUESDAY_9, admin))["reasons"]
    assert reason["details"]["bookings"] == [hidden]
    shown = hidden | {"id": elsewhere["id"], "brand_id": other["id"]}
    for headers in (world.instructor_headers, SERVICE):
        (reason,) = (await explained(world, TUESDAY_9, headers))["reasons"]
        assert reason["details"]["bookings"] == [shown]
    # An admin of both brands sees it.
    admins = f"/api/brands/{other['id']}/admins"
    both = await world.client.post(admins, json={"user_id": str(admin_id)}, headers=SERVICE)
    assert both.status_code == 201, both.text
    (reason,) = (await explained(world, TUESDAY_9, admin))["reasons"]
    assert reason["details"]["bookings"] == [shown]


async def test_busy_calendar_time_is_named_with_its_calendar(world: World) -> None:
    calendar_id = uuid.uuid4()
    start, end = datetime(2026, 12, 1, 10, 0, tzinfo=UTC), datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    async with context_of(world).db.transaction(write=True) as session:
        instructor_id = uuid.UUID(world.instructor["id"])
        session.add(
            BusyCalendar(
                id=calendar_id,
                instructor_id=instructor_id,
                url="https://calendar.example.com/busy.ics",
                position=0,
                created_at=MONDAY,
                busy_count=1,
                next_sync_at=MONDAY,
            )
        )
        await session.flush()
        session.add(
            BusyInterval(calendar_id=calendar_id, starts_at=start, ends_at=end, instructor_id=instructor_id)
        )
    busy = {
        "starts_at": "2026-12-01T10:00:00Z",
        "ends_at": "2026-12-01T10:30:00Z",
        "calendar_id": str(calendar_id),
    }
    for starts_at in ("2026-12-01T11:00:00+01:00", "2026-12-01T10:15:00+01:00"):  # 11:00-11:30 Berlin
        for headers in staff_of(world):
            (reason,) = (await explained(world, starts_at, headers))["reasons"]
            assert reason["code"] == "slot_unavailable"
            assert reason["details"] == {"bookings": [], "busy": [busy]}
        anonymous = await explain(world, starts_at)
        assert anonymous.json()["reasons"][0]["details"] is None
        assert str(calendar_id) not in anonymous.text
    # Busy-calendar time has no buffer: a session ending as it begins is free.
    assert (await explained(world, "2026-12-01T10:00:00+01:00", SERVICE))["bookable"]
    assert (await explained(world, "2026-12-01T11:30:00+01:00", SERVICE))["bookable"]


async def test_every_failing_rule_in_rule_order(world: World) -> None:
    saturday_far = "2027-03-06T10:00:00+01:00"  # beyond 90 days, and no Saturday window
    for headers in [None, student(), *staff_of(world)]:
        body = await explained(world, saturday_far, headers)
        assert codes(body) == ["beyond_booking_window", "outside_availability"]
        assert body["reasons"][0]["details"] is None
    (_, outside) = (await explained(world, saturday_far, SERVICE))["reasons"]
    assert outside["details"] == {"windows": []}
    # Friday 08:00, before now: in the past, so also inside the (zero) minimum notice; and before 09:00.
    body = await explained(world, "2026-11-27T08:00:00+01:00", SERVICE)
    assert codes(body) == ["in_the_past", "too_soon", "outside_availability"]
    # Exactly now: in the past (a start must be after now), not too soon.
    assert codes(await explained(world, "2026-11-30T06:00:00Z")) == ["in_the_past", "outside_availability"]
    await world.set_availability(settings={"min_notice_minutes": 24 * 60})
    assert codes(await explained(world, "2026-11-30T16:30:00+01:00")) == ["too_soon", "outside_availability"]


async def test_outside_availability_shows_that_local_dates_windows_joined_in_utc(world: World) -> None:
    tuesday = [("09:00", "12:00"), ("12:00", "17:00"), ("18:00", "19:00")]  # the first two touch
    weekly = [{"weekday": 2, "start_time": s, "end_time": e} for s, e in tuesday]
    await world.set_availability(weekly=weekly)
    windows = [
        {"starts_at": "2026-12-01T08:00:00Z", "ends_at": "2026-12-01T16:00:00Z"},
        {"starts_at": "2026-12-01T17:00:00Z", "ends_at": "2026-12-01T18:00:00Z"},
    ]
    for headers in staff_of(world):
        (reason,) = (await explained(world, "2026-12-01T16:30:00+01:00", headers))["reasons"]
        assert reason == {
            "code": "outside_availability",
            "message": MESSAGES[Rejection.OUTSIDE_AVAILABILITY],
            "details": {"windows": windows},
        }
    (reason,) = (await explained(world, "2026-12-01T16:30:00+01:00", student()))["reasons"]
    assert reason["details"] is None
    # The session's length decides: the instructor's 60 minutes by default, or the one asked about.
    assert (await explained(world, "2026-12-01T16:30:00+01:00", duration_minutes=30))["bookable"]
    # A UTC instant is read on the instructor's local date: 23:30 UTC Monday is Tuesday 00:30 in Berlin.
    (reason,) = (await explained(world, "2026-11-30T23:30:00Z", SERVICE))["reasons"]
    assert reason["details"] == {"windows": windows}


async def test_a_daily_cap_says_its_period_limit_and_count(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 1, "max_bookings_per_week": 5})
    await world.booked(TUESDAY_9)
    later = "2026-12-01T13:00:00+01:00"
    for headers in staff_of(world):
        (reason,) = (await explained(world, later, headers))["reasons"]
        assert reason["code"] == "booking_limit_reached"
        assert reason["details"] == {"period": "day", "limit": 1, "count": 1}
    (reason,) = (await explained(world, later, student()))["reasons"]
    assert (reason["code"], reason["details"]) == ("booking_limit_reached", None)
    # The session's own time first, then the cap: both fail.
    assert codes(await explained(world, "2026-12-01T09:30:00+01:00")) == [
        "slot_unavailable",
        "booking_limit_reached",
    ]
    await world.set_availability(settings={"max_bookings_per_day": None, "max_bookings_per_week": 1})
    (reason,) = (await explained(world, "2026-12-03T13:00:00+01:00", SERVICE))["reasons"]
    assert reason["details"] == {"period": "week", "limit": 1, "count": 1}
    assert (await explained(world, "2026-12-08T13:00:00+01:00", SERVICE))["bookable"], "the next week"


async def test_the_pending_cap_is_judged_for_the_student_asking_only(world: World) -> None:
    await world.set_brand_settings(max_pending_per_student=1)
    await world.booked(TUESDAY_9)
    wednesday = "2026-12-02T09:00:00+01:00"
    body = await explained(world, wednesday, world.student_headers)
    assert body["reasons"] == [
        {
            "code": "too_many_pending_bookings",
            "message": MESSAGES[Rejection.TOO_MANY_PENDING_BOOKINGS],
            "details": None,
        }
    ]
    for headers in [None, student(), *staff_of(world)]:
        assert (await explained(world, wednesday, headers))["bookable"]
    refused = await world.book(wednesday)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "too_many_pending_bookings")


async def test_an_instructor_not_in_the_brand_is_the_only_reason(world: World) -> None:
    other = await world.api.brand("other", "Other")
    for headers in [None, world.student_headers, *staff_of(world)]:
        response = await explain(world, "2020-01-04T03:00:00Z", headers, brand_id=other["id"])
        assert response.status_code == 200, response.text
        assert response.json() == {
            "bookable": False,
            "reasons": [
                {
                    "code": "instructor_not_in_brand",
                    "message": MESSAGES[Rejection.INSTRUCTOR_NOT_IN_BRAND],
                    "details": None,
                }
            ],
        }


async def test_an_inactive_instructor_takes_no_bookings_anywhere(world: World) -> None:
    url = f"/api/instructors/{world.instructor['id']}"
    assert (await world.client.patch(url, json={"active": False}, headers=SERVICE)).status_code == 200
    for headers in [None, world.student_headers, SERVICE]:
        assert codes(await explained(world, TUESDAY_9, headers)) == ["instructor_not_in_brand"]
    refused = await world.book(TUESDAY_9)
    assert refused.json()["error"]["code"] == "instructor_not_in_brand"


async def test_an_expired_hold_blocks_nothing_and_is_not_shown(world: World, clock: FixedClock) -> None:
    await world.set_availability(settings={"payment_hold_minutes": 30})
    held = await world.booked(TUESDAY_9)
    (reason,) = (await explained(world, TUESDAY_9, SERVICE))["reasons"]
    assert [b["id"] for b in reason["details"]["bookings"]] == [held["id"]]
    clock.set(MONDAY + timedelta(minutes=30))  # the hold ends: the time is free again
    assert await explained(world, TUESDAY_9, SERVICE) == {"bookable": True, "reasons": []}
    assert (await world.book(TUESDAY_9, headers=student())).status_code == 201


async def test_unknown_instructor_is_404_and_bad_parameters_are_422(world: World) -> None:
    url = f"/api/instructors/{uuid.uuid4()}/slots/explain"
    params = {"brand_id": world.brand["id"], "starts_at": TUESDAY_9}
    response = await world.client.get(url, params=params)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    for bad in (
        {"starts_at": "2026-12-01T09:00:00"},  # no offset
        {"starts_at": "tomorrow"},
        {"starts_at": "1764576000"},
        {"starts_at": "9999-12-31T23:30:00Z"},
        {"starts_at": None},
        {"brand_id": "acme"},
        {"brand_id": None},
        {"duration_minutes": 3},
        {"duration_minutes": "an hour"},
    ):
        query = {
            k: v for k, v in ({"starts_at": TUESDAY_9, "brand_id": world.brand["id"]} | bad).items() if v
        }
        response = await world.client.get(
            f"/api/instructors/{world.instructor['id']}/slots/explain", params=query
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    bad_token = await explain(world, TUESDAY_9, {"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401


async def test_the_verdict_agrees_with_booking_creation(world: World, clock: FixedClock) -> None:
    """For each time, asked by the student who then books it: bookable exactly when the booking is
    made, and a refusal's code is the first reason."""
    await world.set_availability(settings={"max_bookings_per_day": 2, "min_notice_minutes": 120})
    await world.set_brand_settings(max_pending_per_student=3)
    times = [
        "2026-11-30T09:00:00+01:00",  # too soon (now is 07:00 Berlin)
        "2026-11-30T09:30:00+01:00",
        "2026-11-30T10:00:00+01:00",  # the last one's buffer
        "2026-11-30T10:45:00+01:00",
        "2026-11-30T13:00:00+01:00",  # the day's cap
        "2026-11-29T10:00:00+01:00",  # in the past, a Sunday
        "2026-12-05T10:00:00+01:00",  # a Saturday
        "2026-12-01T16:30:00+01:00",  # runs past 17:00
        "2026-12-01T09:00:00+01:00",  # the third pending booking
        "2026-12-02T09:00:00+01:00",  # the fourth: over the pending cap
        "2027-03-01T10:00:00+01:00",  # beyond 90 days
    ]
    made = 0
    for starts_at in times:
        body = await explained(world, starts_at, world.student_headers)
        response = await world.book(starts_at)
        assert body["bookable"] == (response.status_code == 201), (starts_at, body, response.text)
        if response.status_code == 201:
            made += 1
        else:
            assert response.json()["error"]["code"] == body["reasons"][0]["code"], starts_at
    assert made == 3
