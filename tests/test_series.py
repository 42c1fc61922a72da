"""Weekly series on both databases: occurrences at the same local time across a DST change, every
occurrence judged by the rules of a booking, all-or-nothing and skip, one transaction, one set of
messages, preview equal to creation, and the replay of an Idempotency-Key."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from booking.clock import FixedClock
from booking.scheduling import Interval, weekly_occurrences
from tests.booking_world import World, make_world
from tests.fake_providers import Providers
from tests.support import SERVICE, Api, user_headers

# Monday 1 March 2027, 09:00 in Paris; Europe/Paris moves to summer time on Sunday 28 March.
MONDAY = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
FIRST = "2027-03-02T18:00:00+01:00"  # a Tuesday, 18:00 in Paris
TUESDAYS_9_TO_20 = [{"weekday": 2, "start_time": "09:00", "end_time": "20:00"}]
PARIS_18_00 = [
    "2027-03-02T18:00:00+01:00",
    "2027-03-09T18:00:00+01:00",
    "2027-03-16T18:00:00+01:00",
    "2027-03-23T18:00:00+01:00",
    "2027-03-30T18:00:00+02:00",
    "2027-04-06T18:00:00+02:00",
    "2027-04-13T18:00:00+02:00",
    "2027-04-20T18:00:00+02:00",
]


async def paris_world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    world = await make_world(api, timezone="Europe/Paris")
    await world.set_availability(weekly=TUESDAYS_9_TO_20, settings={"buffer_minutes": 0})
    return world


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    return await paris_world(api, clock)


async def series(world: World, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body = world.body(FIRST) | {"count": 8} | extra
    return await world.client.post("/api/series", json=body, headers=headers or world.student_headers)


async def created(world: World, **extra: Any) -> dict[str, Any]:
    response = await series(world, **extra)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()["series"]
    return made


def local_starts(made: dict[str, Any]) -> list[str]:
    return [booking["instructor_local"]["starts_at"] for booking in made["bookings"]]


async def take(world: World, starts_at: str) -> None:
    """Another student books that time first."""
    other = user_headers(uuid.uuid4(), email="other@example.com")
    response = await world.book(starts_at, headers=other)
    assert response.status_code == 201, response.text


def test_occurrences_keep_their_local_time_and_are_whole_weeks_apart() -> None:
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    first = datetime.fromisoformat(FIRST)
    found = weekly_occurrences(Interval(first, first + timedelta(hours=8)), paris, 8, 1)
    assert [o.start.astimezone(paris).isoformat() for o in found] == PARIS_18_00
    # 02:30 on 28 March does not exist in Paris: it moves forward, as a booking's time would.
    gap = datetime(2027, 3, 21, 2, 30, tzinfo=paris)
    moved = weekly_occurrences(Interval(gap, gap + timedelta(hours=1)), paris, 2, 1)[1]
    assert moved.start.astimezone(paris).isoformat() == "2027-03-28T03:30:00+02:00"
    fortnightly = weekly_occurrences(Interval(first, first + timedelta(hours=1)), paris, 3, 2)
    assert [o.start.astimezone(paris).date().isoformat() for o in fortnightly] == [
        "2027-03-02",
        "2027-03-16",
        "2027-03-30",
    ]


async def test_eight_tuesdays_at_18_00_in_paris_across_the_dst_change(world: World) -> None:
    made = await created(world)
    assert local_starts(made) == PARIS_18_00
    assert [b["series_index"] for b in made["bookings"]] == list(range(8))
    assert {b["series_id"] for b in made["bookings"]} == {made["id"]}
    assert (made["count"], made["every_weeks"], made["skipped"]) == (8, 1, [])
    assert made["student_id"] == str(world.student_id)
    assert all(b["status"] == "pending" and b["hold_expires_at"] for b in made["bookings"])
    read = await world.client.get(f"/api/series/{made['id']}", headers=world.student_headers)
    assert read.status_code == 200
    assert local_starts(read.json()["series"]) == PARIS_18_00
    single = await world.client.get(f"/api/bookings/{made['bookings'][3]['id']}", headers=SERVICE)
    assert (single.json()["booking"]["series_id"], single.json()["booking"]["series_index"]) == (
        made["id"],
        3,
    )


async def test_a_conflict_refuses_the_whole_series_and_names_every_occurrence(world: World) -> None:
    await take(world, PARIS_18_00[4])
    await take(world, PARIS_18_00[6])
    before = await world.all_bookings()
    refused = await series(world)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "series_conflict"
    assert error["details"]["occurrences"] == [
        {"index": 4, "starts_at": "2027-03-30T16:00:00Z", "code": "slot_unavailable"},
        {"index": 6, "starts_at": "2027-04-13T16:00:00Z", "code": "slot_unavailable"},
    ]
    assert await world.all_bookings() == before


async def test_skip_leaves_the_refused_occurrences_out(world: World) -> None:
    await take(world, PARIS_18_00[4])
    made = await created(world, conflicts="skip")
    assert [b["series_index"] for b in made["bookings"]] == [0, 1, 2, 3, 5, 6, 7]
    assert made["skipped"] == [{"index": 4, "starts_at": "2027-03-30T16:00:00Z", "code": "slot_unavailable"}]
    assert made["count"] == 8


async def test_nothing_bookable_with_skip_is_the_same_conflict(world: World) -> None:
    refused = await series(world, starts_at="2027-03-01T18:00:00+01:00", conflicts="skip")  # Mondays
    assert refused.status_code == 409
    codes = {o["code"] for o in refused.json()["error"]["details"]["occurrences"]}
    assert codes == {"outside_availability"}


async def test_a_weekly_cap_with_a_booking_in_week_three_refuses_that_occurrence(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_week": 1})
    await take(world, "2027-03-16T10:00:00+01:00")
    refused = await series(world)
    assert [(o["index"], o["code"]) for o in refused.json()["error"]["details"]["occurrences"]] == [
        (2, "booking_limit_reached")
    ]
    # A second series in the same weeks finds the first one's occurrences counted.
    first = await created(world, conflicts="skip")
    assert [s["index"] for s in first["skipped"]] == [2]
    second = await series(world, starts_at="2027-03-02T12:00:00+01:00", conflicts="skip")
    assert second.status_code == 409
    assert {o["code"] for o in second.json()["error"]["details"]["occurrences"]} == {"booking_limit_reached"}


async def test_a_blocked_date_and_the_advance_window_refuse_their_occurrences(world: World) -> None:
    await world.set_availability(overrides=[{"date": "2027-03-16", "kind": "blocked"}])
    made = await created(world, count=52, conflicts="skip")
    skipped = {s["index"]: s["code"] for s in made["skipped"]}
    assert skipped[2] == "outside_availability"
    # 90 days ahead of 1 March: the Tuesdays up to 25 May are bookable, from 1 June on none is.
    assert {index for index, code in skipped.items() if code == "beyond_booking_window"} == set(range(13, 52))
    assert len(made["bookings"]) == 52 - 1 - 39


async def test_preview_answers_what_creation_does_and_writes_nothing(world: World) -> None:
    await take(world, PARIS_18_00[1])
    body = world.body(FIRST) | {"count": 8, "conflicts": "skip"}
    before = await world.all_bookings()
    preview = await world.client.post("/api/series/preview", json=body, headers=world.student_headers)
    assert preview.status_code == 200, preview.text
    occurrences = preview.json()["occurrences"]
    assert await world.all_bookings() == before
    assert [(o["index"], o["bookable"], o["code"]) for o in occurrences][:3] == [
        (0, True, None),
        (1, False, "slot_unavailable"),
        (2, True, None),
    ]
    made = await created(world, conflicts="skip")
    assert [o["index"] for o in occurrences if o["bookable"]] == [b["series_index"] for b in made["bookings"]]
    assert [o["starts_at"] for o in occurrences if o["bookable"]] == [
        b["starts_at"] for b in made["bookings"]
    ]


async def test_the_pending_cap_counts_a_series_once(world: World) -> None:
    await world.set_brand_settings(max_pending_per_student=2)
    await world.set_availability(settings={"price_amount": 5000})
    made = await created(world)
    assert all(b["status"] == "pending" for b in made["bookings"])
    # The series and one more pending booking: at the cap of 2.
    assert (await world.book("2027-03-02T10:00:00+01:00")).status_code == 201
    refused = await series(world, starts_at="2027-03-02T12:00:00+01:00", count=3)
    assert refused.status_code == 409
    assert [o["code"] for o in refused.json()["error"]["details"]["occurrences"]] == [
        "too_many_pending_bookings"
    ] * 3


async def test_a_replayed_key_makes_one_series(world: World) -> None:
    headers = world.student_headers | {"Idempotency-Key": "tuesdays-2027"}
    first = await series(world, headers=headers)
    again = await series(world, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert len(await world.all_bookings()) == 8


async def test_two_series_racing_for_the_same_times_one_wins_whole(world: World) -> None:
    other = user_headers(uuid.uuid4(), email="other@example.com")
    answers = await asyncio.gather(series(world), series(world, headers=other))
    assert sorted(answer.status_code for answer in answers) == [201, 409]
    (winner,) = [answer.json()["series"] for answer in answers if answer.status_code == 201]
    assert len(winner["bookings"]) == 8
    assert len(await world.all_bookings()) == 8


async def test_who_may_read_a_series(world: World) -> None:
    made = await created(world)
    url = f"/api/series/{made['id']}"
    for headers, expected in (
        (world.student_headers, 200),
        (world.instructor_headers, 200),
        (world.admin_headers, 200),
        (SERVICE, 200),
        (user_headers(uuid.uuid4()), 404),
    ):
        assert (await world.client.get(url, headers=headers)).status_code == expected
    assert (await world.client.get(f"/api/series/{uuid.uuid4()}", headers=SERVICE)).status_code == 404
    assert (await world.client.get(url)).status_code == 401


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"count": 1}, 422, "validation_error"),
        ({"count": 53}, 422, "validation_error"),
        ({"every_weeks": 5}, 422, "validation_error"),
        ({"every_weeks": 0}, 422, "validation_error"),
        ({"conflicts": "some"}, 422, "validation_error"),
        ({"count": "8"}, 422, "validation_error"),
        ({"instructor_id": str(uuid.uuid4())}, 404, "instructor_not_in_brand"),
    ],
)
async def test_bad_series_bodies_answer_as_a_booking_would(
    world: World, extra: dict[str, Any], status: int, code: str
) -> None:
    refused = await series(world, **extra)
    assert (refused.status_code, refused.json()["error"]["code"]) == (status, code)
    assert await world.all_bookings() == []


async def test_one_email_one_sms_and_one_instructor_email_for_a_series(
    notifying_api: Api, clock: FixedClock, providers: Providers
) -> None:
    world = await paris_world(notifying_api, clock)
    response = await series(world, count=4)
    assert response.status_code == 201, response.text
    made = response.json()["series"]
    notifications = response.json()["notifications"]
    assert (notifications["email"]["status"], notifications["sms"]["status"]) == ("sent", "sent")
    emails = providers.resend.emails()
    student = [e for e in emails if e["to"] == ["student@example.com"]]
    assert len(student) == 1 and len(emails) == 2 and len(providers.twilio.messages()) == 1
    calendar = Calendar.from_ical(providers.resend.calendar(student[0]))
    uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
    assert uids == [f"{b['id']}@booking" for b in made["bookings"]]
    assert "4 sessions" in providers.twilio.messages()[0]["Body"]


async def cancel(world: World, series_id: str, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await world.client.post(f"/api/series/{series_id}/cancel", json=body, headers=headers)


async def test_a_student_cancels_from_an_index_and_keeps_what_is_inside_the_cutoff(
    world: World, clock: FixedClock
) -> None:
    await world.set_availability(settings={"price_amount": 0, "cancellation_cutoff_hours": 24})
    made = await created(world)
    assert {b["status"] for b in made["bookings"]} == {"confirmed"}
    # Occurrence 5 (6 April, 18:00 in Paris) is 20 hours away; 0 to 4 are over.
    clock.set(datetime(2027, 4, 5, 20, 0, tzinfo=UTC))
    answer = await cancel(
        world, made["id"], world.student_headers, from_index=3, cancellation_reason="moving"
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kept"] == [{"index": 5, "code": "cancellation_cutoff_passed"}]
    ids = [b["id"] for b in made["bookings"]]
    assert body["cancelled"] == ids[6:]
    statuses = [b["status"] for b in body["series"]["bookings"]]
    assert statuses == ["confirmed"] * 6 + ["cancelled"] * 2
    assert {b["cancellation_reason"] for b in body["series"]["bookings"][6:]} == {"moving"}
    # Staff are held to no cutoff: the kept one goes too; nothing is left to cancel after.
    staff = await cancel(world, made["id"], SERVICE, from_index=5)
    assert (staff.json()["cancelled"], staff.json()["kept"]) == ([ids[5]], [])
    again = await cancel(world, made["id"], SERVICE)
    assert (again.json()["cancelled"], again.json()["kept"]) == ([], [])


async def test_only_those_who_may_change_its_bookings_cancel_a_series(world: World) -> None:
    made = await created(world)
    stranger = await cancel(world, made["id"], user_headers(uuid.uuid4()))
    assert stranger.status_code == 404
    assert (await cancel(world, str(uuid.uuid4()), SERVICE)).status_code == 404
    assert (await cancel(world, made["id"], SERVICE, from_index=52)).status_code == 422
    assert (await cancel(world, made["id"], SERVICE, some="thing")).status_code == 422
    assert {b["status"] for b in await world.all_bookings()} == {"pending"}
    instructor = await cancel(world, made["id"], world.instructor_headers, from_index=6)
    assert len(instructor.json()["cancelled"]) == 2


async def test_a_series_cancellation_sends_one_email_with_every_cancelled_event(
    notifying_api: Api, clock: FixedClock, providers: Providers
) -> None:
    world = await paris_world(notifying_api, clock)
    made = (await series(world, count=4)).json()["series"]
    before = len(providers.resend.emails())
    answer = await cancel(world, made["id"], SERVICE, from_index=1)
    assert answer.status_code == 200, answer.text
    emails = providers.resend.emails()[before:]
    assert len(emails) == 1 and emails[0]["to"] == ["student@example.com"]
    calendar = Calendar.from_ical(providers.resend.calendar(emails[0]))
    events = list(calendar.walk("VEVENT"))
    assert [str(e["UID"]) for e in events] == [f"{b['id']}@booking" for b in made["bookings"][1:]]
    assert {str(e["STATUS"]) for e in events} == {"CANCELLED"}


async def test_staff_pay_every_pending_occurrence_of_a_series(world: World) -> None:
    await world.set_availability(settings={"price_amount": 5000})
    made = await created(world, count=3)
    url = f"/api/series/{made['id']}"
    first = made["bookings"][0]["id"]
    assert (await world.patch(first, {"status": "cancelled"}, SERVICE)).status_code == 200
    assert (
        await world.client.patch(url, json={"payment_status": "paid"}, headers=world.student_headers)
    ).status_code == 403
    stranger = user_headers(uuid.uuid4())
    assert (
        await world.client.patch(url, json={"payment_status": "paid"}, headers=stranger)
    ).status_code == 404
    assert (
        await world.client.patch(url, json={"payment_status": "unpaid"}, headers=SERVICE)
    ).status_code == 422
    paid = await world.client.patch(url, json={"payment_status": "paid"}, headers=world.admin_headers)
    assert paid.status_code == 200, paid.text
    found = paid.json()["series"]["bookings"]
    assert [b["status"] for b in found] == ["cancelled", "confirmed", "confirmed"]
    assert [b["payment"]["provider"] for b in found] == [None, "manual", "manual"]
    assert [b["payment"]["amount_paid"] for b in found] == [0, 5000, 5000]
