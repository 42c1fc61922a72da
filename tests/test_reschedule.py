"""Reschedule (SPEC §11) on both databases: a move keeps the booking and frees the old time, every rule
judges the new time without the booking's own, the cutoff at its edge, messages with one calendar
event, the reminder again, `slots?reschedule_of=`, and races in one process and across two."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest

from booking.bookings import reschedule as reschedule_module
from booking.bookings.reminders import send_due_reminders
from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.fake_providers import Providers
from tests.servers import seed_through, two_servers
from tests.support import SERVICE, Api, user_headers
from tests.test_holds import detail, events_of

TUESDAY_10 = "2026-12-01T10:00:00+01:00"  # 09:00Z


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


@pytest.fixture
async def notifying_world(notifying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(notifying_api)


def another_student() -> dict[str, str]:
    return user_headers(uuid.uuid4(), email="other@example.com")


async def move(
    world: World,
    booking_id: str,
    starts_at: str,
    headers: dict[str, str] | None = None,
    key: str | None = None,
    **extra: Any,
) -> httpx.Response:
    sent = dict(headers or world.student_headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return await world.client.post(
        f"/api/bookings/{booking_id}/reschedule", json={"starts_at": starts_at, **extra}, headers=sent
    )


def code(response: httpx.Response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error", {}).get("code")


async def slot_starts(
    world: World, day: str = "2026-12-01", headers: dict[str, str] | None = None, **params: str
) -> list[str]:
    response = await world.client.get(
        f"/api/instructors/{world.instructor['id']}/slots",
        params={"brand_id": world.brand["id"], "from": day, "to": day} | params,
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return [slot["starts_at"] for slot in response.json()["slots"]]


# --- a move --------------------------------------------------------------------------------------


async def test_a_move_keeps_the_booking_and_frees_its_old_time(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    moved = await move(world, booking["id"], "2026-12-01T14:00:00+01:00")
    assert moved.status_code == 200, moved.text
    after = moved.json()["booking"]
    kept = ("id", "status", "payment_status", "hold_expires_at", "student_id", "created_at")
    assert {k: after[k] for k in kept} == {k: booking[k] for k in kept}
    assert (after["starts_at"], after["ends_at"], after["reschedule_count"]) == (
        "2026-12-01T13:00:00Z",
        "2026-12-01T14:00:00Z",
        1,
    )
    assert after["student_local"]["starts_at"] == "2026-12-01T08:00:00-05:00"
    starts = await slot_starts(world)
    assert "2026-12-01T09:00:00Z" in starts and "2026-12-01T13:00:00Z" not in starts
    assert len(await world.all_bookings()) == 1, "a move is not a second booking"
    history = (await detail(world, booking["id"]))["history"]
    assert history[-1] | {"created_at": None} == {
        "from_status": "pending",
        "to_status": "pending",
        "payment_status": None,
        "from_starts_at": "2026-12-01T09:00:00Z",
        "to_starts_at": "2026-12-01T13:00:00Z",
        "actor": f"user:{world.student_id}",
        "created_at": None,
    }


async def test_without_providers_every_message_of_a_move_says_not_configured(world: World) -> None:
    """No email provider: the instructor's email is not configured, not `no_email` (their address is not
    even read when nothing could send to it)."""
    booking = await world.booked(TUESDAY_10)
    moved = await move(world, booking["id"], "2026-12-01T14:00:00+01:00")
    notifications = moved.json()["notifications"]
    assert notifications["email"]["reason"] == "resend_not_configured"
    assert notifications["sms"]["reason"] == "twilio_not_configured"
    assert notifications["instructor_email"]["reason"] == "resend_not_configured"


async def test_onto_taken_time_is_refused_and_changes_nothing(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    await world.booked("2026-12-01T14:00:00+01:00", headers=another_student())
    for starts_at in ("2026-12-01T14:00:00+01:00", "2026-12-01T13:00:00+01:00", "2026-12-01T14:30:00+01:00"):
        # The other session itself, the buffer of ours reaching into it, and the other's buffer.
        assert code(await move(world, booking["id"], starts_at)) == (409, "slot_unavailable"), starts_at
    unchanged = await detail(world, booking["id"])
    assert (unchanged["booking"]["starts_at"], unchanged["booking"]["reschedule_count"]) == (
        "2026-12-01T09:00:00Z",
        0,
    )
    assert len(unchanged["history"]) == 1
    assert code(await move(world, booking["id"], "2026-12-01T18:00:00+01:00")) == (
        422,
        "outside_availability",
    )


async def test_onto_its_own_buffer_and_half_an_hour_later_overlapping_itself(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    assert "2026-12-01T10:00:00Z" not in await slot_starts(world), "11:00 sits in the booking's buffer"
    onto_buffer = await move(world, booking["id"], "2026-12-01T11:00:00+01:00")
    assert onto_buffer.status_code == 200, onto_buffer.text
    later = await move(world, booking["id"], "2026-12-01T11:30:00+01:00")
    assert later.status_code == 200, later.text
    assert (later.json()["booking"]["starts_at"], later.json()["booking"]["reschedule_count"]) == (
        "2026-12-01T10:30:00Z",
        2,
    )


async def test_the_same_time_answers_200_and_changes_nothing(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    same = await move(world, booking["id"], "2026-12-01T09:00:00Z")
    assert same.status_code == 200, same.text
    assert same.json()["booking"] == booking
    assert same.json()["notifications"]["sms_blocker"].startswith("nothing changed")
    assert [kind for kind, _ in await events_of(world, booking["id"])] == ["booking.created"]
    longer = await move(world, booking["id"], TUESDAY_10, duration_minutes=90)
    assert (longer.status_code, longer.json()["booking"]["ends_at"]) == (200, "2026-12-01T10:30:00Z")


async def test_final_started_and_expired_bookings_cannot_move(world: World, clock: FixedClock) -> None:
    cancelled = await world.booked(TUESDAY_10)
    await world.patch(cancelled["id"], {"status": "cancelled"}, world.admin_headers)
    assert code(await move(world, cancelled["id"], "2026-12-02T10:00:00+01:00")) == (
        409,
        "invalid_transition",
    )
    expired = await world.booked("2026-12-01T12:00:00+01:00")
    paid = await world.booked("2026-11-30T09:00:00+01:00")
    await world.patch(paid["id"], {"payment_status": "paid"}, world.admin_headers)
    clock.set(MONDAY + timedelta(hours=2, minutes=30))  # the holds ended; the paid session started
    for booking in (expired, paid):
        response = await move(world, booking["id"], "2026-12-02T10:00:00+01:00", world.admin_headers)
        assert code(response) == (409, "invalid_transition"), booking


async def test_who_may_move_a_booking(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    assert code(await move(world, booking["id"], "2026-12-01T12:00:00Z", another_student())) == (
        404,
        "not_found",
    )
    anonymous = await world.client.post(
        f"/api/bookings/{booking['id']}/reschedule", json={"starts_at": "2026-12-01T12:00:00Z"}
    )
    assert code(anonymous) == (401, "unauthorized")
    for headers, hour in ((world.instructor_headers, 12), (world.admin_headers, 13), (SERVICE, 14)):
        response = await move(world, booking["id"], f"2026-12-01T{hour}:00:00Z", headers)
        assert response.status_code == 200, response.text
    bad = await move(world, booking["id"], "2026-12-01T15:00:00Z", SERVICE, instructor_id=str(uuid.uuid4()))
    assert code(bad) == (422, "validation_error")


async def test_the_student_cutoff_at_its_edge_and_none_for_the_instructor(
    world: World, clock: FixedClock
) -> None:
    await world.set_availability(settings={"payment_hold_minutes": 0})
    booking = await world.booked("2026-12-02T10:00:00+01:00")  # Wednesday 09:00Z
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # exactly 24 h before
    at_edge = await move(world, booking["id"], "2026-12-02T12:00:00+01:00")
    assert at_edge.status_code == 200, at_edge.text
    clock.set(datetime(2026, 12, 1, 11, 0, 0, 1, tzinfo=UTC))  # 24 h minus 1 µs before the new start
    late = await move(world, booking["id"], "2026-12-02T14:00:00+01:00")
    assert code(late) == (409, "reschedule_cutoff_passed")
    student_view = await slot_starts(world, "2026-12-02", world.student_headers, reschedule_of=booking["id"])
    assert student_view == []
    instructor_view = await slot_starts(
        world, "2026-12-02", world.instructor_headers, reschedule_of=booking["id"]
    )
    assert "2026-12-02T13:00:00Z" in instructor_view
    by_instructor = await move(world, booking["id"], "2026-12-02T14:00:00+01:00", world.instructor_headers)
    assert by_instructor.status_code == 200, by_instructor.text


async def test_the_cutoff_is_a_setting_of_0_to_720_hours(world: World, clock: FixedClock) -> None:
    url = f"/api/instructors/{world.instructor['id']}/availability"
    for bad in (-1, 721, "24"):
        body = {"brand_id": world.brand["id"], "settings": {"reschedule_cutoff_hours": bad}}
        assert (await world.client.put(url, json=body, headers=SERVICE)).status_code == 422, bad
    await world.set_availability(settings={"reschedule_cutoff_hours": 0, "payment_hold_minutes": 0})
    booking = await world.booked(TUESDAY_10)
    clock.set(datetime(2026, 12, 1, 8, 59, tzinfo=UTC))
    assert (await move(world, booking["id"], "2026-12-01T14:00:00+01:00")).status_code == 200


async def test_across_a_dst_change(world: World, clock: FixedClock) -> None:
    clock.set(datetime(2027, 3, 25, 8, 0, tzinfo=UTC))
    booking = await world.booked("2027-03-26T10:00:00+01:00")  # Friday, CET
    assert "2027-03-29T08:00:00Z" in await slot_starts(
        world, "2027-03-29", world.student_headers, reschedule_of=booking["id"]
    ), "Monday 10:00 CEST is 08:00Z"
    moved = await move(world, booking["id"], "2027-03-29T10:00:00+02:00")
    assert moved.status_code == 200, moved.text
    after = moved.json()["booking"]
    assert (after["starts_at"], after["duration_minutes"]) == ("2027-03-29T08:00:00Z", 60)
    assert after["instructor_local"]["starts_at"] == "2027-03-29T10:00:00+02:00"
    assert after["student_local"]["starts_at"] == "2027-03-29T04:00:00-04:00"


async def test_caps_and_the_pending_cap_do_not_count_the_booking_being_moved(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 1})
    await world.set_brand_settings(max_pending_per_student=2)
    first = await world.booked(TUESDAY_10)
    assert (await move(world, first["id"], "2026-12-01T15:00:00+01:00")).status_code == 200
    full_day = await world.book("2026-12-01T10:00:00+01:00", headers=another_student())
    assert code(full_day) == (409, "booking_limit_reached")
    second = await world.booked("2026-12-02T10:00:00+01:00")
    assert (await move(world, second["id"], "2026-12-02T12:00:00+01:00")).status_code == 200
    assert code(await world.book("2026-12-03T10:00:00+01:00")) == (409, "too_many_pending_bookings")
    onto_capped_day = await move(world, second["id"], "2026-12-01T12:00:00+01:00")
    assert code(onto_capped_day) == (409, "booking_limit_reached")


async def test_idempotent_replay(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    first = await move(world, booking["id"], "2026-12-01T13:00:00+01:00", key="move-1")
    again = await move(world, booking["id"], "2026-12-01T13:00:00+01:00", key="move-1")
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (
        200,
        200,
        "true",
    )
    assert again.json() == first.json()
    assert (await detail(world, booking["id"]))["booking"]["reschedule_count"] == 1
    reused = await move(world, booking["id"], "2026-12-01T15:00:00+01:00", key="move-1")
    assert code(reused) == (422, "idempotency_key_reused")


async def test_the_event_carries_the_previous_time(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    await move(world, booking["id"], "2026-12-01T13:00:00+01:00")
    kinds, datas = zip(*await events_of(world, booking["id"]), strict=True)
    assert kinds == ("booking.created", "booking.rescheduled")
    assert datas[1]["previous"] == {"starts_at": "2026-12-01T09:00:00Z", "ends_at": "2026-12-01T10:00:00Z"}
    assert datas[1]["booking"]["starts_at"] == "2026-12-01T12:00:00Z"


# --- messages, the calendar event, the reminder ---------------------------------------------------


def calendar_event(providers: Providers, email: dict[str, Any]) -> icalendar.Component:
    [event] = icalendar.Calendar.from_ical(providers.resend.calendar(email)).walk("VEVENT")
    return event


async def test_messages_name_both_times_and_the_calendar_event_follows(
    notifying_world: World, providers: Providers
) -> None:
    world = notifying_world
    booking = await world.booked(TUESDAY_10)
    moved = await move(world, booking["id"], "2026-12-02T14:00:00+01:00")
    assert moved.status_code == 200, moved.text
    report = moved.json()["notifications"]
    assert [report[k]["status"] for k in ("email", "sms", "instructor_email")] == ["sent"] * 3
    await world.patch(booking["id"], {"status": "cancelled"}, world.student_headers)
    to_student = [e for e in providers.resend.emails() if e["to"] == ["student@example.com"]]
    to_instructor = [e for e in providers.resend.emails() if e["to"] == ["ada@example.com"]]
    (created, moved_student, cancelled), (_, moved_instructor) = to_student, to_instructor
    assert "Tuesday, December 1, 2026, 04:00-05:00 America/New_York" in moved_student["text"]
    assert "Wednesday, December 2, 2026, 08:00-09:00 America/New_York" in moved_student["text"]
    assert "10:00-11:00 Europe/Berlin" in moved_instructor["text"]
    assert "14:00-15:00 Europe/Berlin" in moved_instructor["text"]
    events = [calendar_event(providers, email) for email in (created, moved_student, cancelled)]
    assert {str(event["UID"]) for event in events} == {f"{booking['id']}@booking"}
    sequences = [int(event.decoded("SEQUENCE")) for event in events]
    assert sequences == sorted(set(sequences)), f"SEQUENCE grows: {sequences}"
    assert events[1].decoded("DTSTART") == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    assert [str(event["STATUS"]) for event in events] == ["TENTATIVE", "TENTATIVE", "CANCELLED"]
    [sms] = [m for m in providers.twilio.messages() if m["Body"].startswith("Moved")]
    # The text names the new time only (two times would not fit two UCS-2 segments); the email both.
    assert "08:00-09:00 America/New_York" in sms["Body"] and "04:00-05:00" not in sms["Body"]


async def test_a_reminded_booking_that_moves_is_reminded_again(
    notifying_world: World, clock: FixedClock
) -> None:
    world = notifying_world
    context = context_of(world)
    booking = await world.booked(TUESDAY_10)
    await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    clock.set(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    assert len(await send_due_reminders(context.notifier, context.db, clock.now())) == 1
    assert await send_due_reminders(context.notifier, context.db, clock.now()) == []
    assert (await move(world, booking["id"], "2026-12-01T14:00:00+01:00", SERVICE)).status_code == 200
    assert await send_due_reminders(context.notifier, context.db, clock.now()) == [], "13:00Z is not due"
    clock.set(datetime(2026, 11, 30, 13, 0, tzinfo=UTC))
    assert len(await send_due_reminders(context.notifier, context.db, clock.now())) == 1


# --- slots?reschedule_of= -----------------------------------------------------------------------


async def test_reschedule_slots_need_a_caller_who_sees_the_booking(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    url = f"/api/instructors/{world.instructor['id']}/slots"
    params = {"brand_id": world.brand["id"], "from": "2026-12-01", "to": "2026-12-01"}
    anonymous = await world.client.get(url, params=params | {"reschedule_of": booking["id"]})
    assert code(anonymous) == (401, "unauthorized")
    stranger = await world.client.get(
        url, params=params | {"reschedule_of": booking["id"]}, headers=another_student()
    )
    assert code(stranger) == (404, "not_found")
    other_brand = await world.api.brand(slug="other")
    elsewhere = params | {"brand_id": other_brand["id"], "reschedule_of": booking["id"]}
    assert code(await world.client.get(url, params=elsewhere, headers=SERVICE)) == (422, "validation_error")


async def test_reschedule_slots_are_exactly_what_a_reschedule_accepts(world: World) -> None:
    await world.set_availability(settings={"max_bookings_per_day": 2})
    booking = await world.booked(TUESDAY_10)
    await world.booked("2026-12-01T14:00:00+01:00", headers=another_student())
    public = await slot_starts(world)
    listed = await slot_starts(world, headers=world.student_headers, reschedule_of=booking["id"])
    assert public == [], "the day is at its cap for a new booking"
    assert "2026-12-01T09:00:00Z" in listed and "2026-12-01T10:00:00Z" in listed, "its own time is free"
    for hour in range(8, 16):  # every aligned start of the day, 09:00 to 16:00 Berlin
        starts_at = f"2026-12-01T{hour:02d}:00:00Z"
        accepted = (await move(world, booking["id"], starts_at)).status_code == 200
        assert accepted == (starts_at in listed), starts_at
        if accepted:
            assert (await move(world, booking["id"], "2026-12-01T09:00:00Z")).status_code == 200


# --- races ----------------------------------------------------------------------------------------


async def test_two_bookings_racing_into_one_free_slot(world: World) -> None:
    first = await world.booked(TUESDAY_10)
    second = await world.booked("2026-12-01T12:00:00+01:00", headers=another_student())
    responses = await asyncio.gather(
        *(move(world, b["id"], "2026-12-01T15:00:00+01:00", SERVICE) for b in (first, second))
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert {code(r) for r in responses if r.status_code == 409} == {(409, "slot_unavailable")}


async def test_a_reschedule_racing_a_new_booking_for_the_same_time(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    moved, booked = await asyncio.gather(
        move(world, booking["id"], "2026-12-01T15:00:00+01:00"),
        world.book("2026-12-01T15:00:00+01:00", headers=another_student()),
    )
    assert sorted([moved.status_code, booked.status_code]) in ([200, 409], [201, 409])
    at_three = [b for b in await world.all_bookings() if b["starts_at"] == "2026-12-01T14:00:00Z"]
    assert len(at_three) == 1


async def test_twenty_concurrent_reschedules_of_one_booking_end_at_exactly_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    booking = await world.booked(TUESDAY_10)
    times = [f"2026-12-{day:02d}T{hour:02d}:00:00Z" for day in (2, 3, 4) for hour in range(8, 16)][:20]
    arrived = asyncio.Event()
    found: list[int | None] = []
    as_found = reschedule_module.booking_as_found

    async def all_found_before_any_moves(*args: Any) -> int | None:
        # Each request reads the booking, then waits for the other 19 to have read it too: they
        # are truly concurrent, and exactly one may move it.
        found.append(await as_found(*args))
        if len(found) == len(times):
            arrived.set()
        await asyncio.wait_for(arrived.wait(), timeout=30)
        return found[-1]

    monkeypatch.setattr(reschedule_module, "booking_as_found", all_found_before_any_moves)
    requests = [move(world, booking["id"], t, SERVICE) for t in times]
    responses = await asyncio.gather(*requests)
    assert found == [0] * len(times)
    won = [t for t, r in zip(times, responses, strict=True) if r.status_code == 200]
    assert len(won) == 1, [r.text for r in responses]
    assert {code(r) for r in responses if r.status_code != 200} == {(409, "conflict")}
    [only] = await world.all_bookings()
    assert (only["starts_at"], only["reschedule_count"]) == (won[0], 1)


# --- two server processes --------------------------------------------------------------------------


async def test_two_server_processes_move_one_booking_once_and_never_overlap(
    database_url: str, tmp_path: Path
) -> None:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=10)
    with two_servers(database_url, tmp_path) as (first, second):
        target = seed_through(first, buffer_minutes=0)
        async with httpx.AsyncClient(timeout=60, headers=SERVICE) as client:

            async def book(base: str, hour: int) -> httpx.Response:
                body = target | {
                    "starts_at": (day + timedelta(hours=hour)).isoformat(),
                    "student_timezone": "UTC",
                    "student_id": str(uuid.uuid4()),
                }
                return await client.post(f"{base}/api/bookings", json=body)

            async def move_to(base: str, booking_id: str, hour: int) -> httpx.Response:
                starts_at = (day + timedelta(hours=hour)).isoformat()
                return await client.post(
                    f"{base}/api/bookings/{booking_id}/reschedule", json={"starts_at": starts_at}
                )

            one, two = [(await book(first, hour)).json()["booking"]["id"] for hour in (1, 2)]
            race = await asyncio.gather(move_to(first, one, 10), move_to(second, two, 10))
            assert sorted(r.status_code for r in race) == [200, 409], [r.text for r in race]
            loser = one if race[1].status_code == 200 else two
            moved, booked = await asyncio.gather(move_to(first, loser, 11), book(second, 11))
            assert sorted([moved.status_code, booked.status_code]) in ([200, 409], [201, 409])
            hours = list(range(12, 24))
            responses = await asyncio.gather(
                *(move_to((first, second)[i % 2], loser, hour) for i, hour in enumerate(hours))
            )
            assert {r.status_code for r in responses} <= {200, 409}
            won = [
                day + timedelta(hours=h)
                for h, r in zip(hours, responses, strict=True)
                if r.status_code == 200
            ]
            listed = await client.get(f"{first}/api/bookings", params={"brand_id": target["brand_id"]})
        bookings = [b for b in listed.json()["bookings"] if b["status"] in ("pending", "confirmed")]
        intervals = sorted((b["starts_at"], b["ends_at"]) for b in bookings)
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(intervals))
        final = next(b for b in bookings if b["id"] == loser)
        assert won, "of concurrent moves of one booking, one wins"
        assert final["reschedule_count"] == len(won) + (moved.status_code == 200)
        assert datetime.fromisoformat(final["starts_at"]) in won
