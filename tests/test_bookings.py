"""POST /api/bookings: every rule, error code and permission of SPEC §3, §5, §6."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.support import SERVICE, Api, new_user, user_headers

BOOKING_KEYS = {
    "id", "brand_id", "instructor_id", "student_id", "status", "payment_status", "starts_at", "ends_at",
    "duration_minutes", "student_timezone", "instructor_timezone", "student_local", "instructor_local",
    "student_name", "student_email", "student_phone", "instructor_notes", "cancellation_reason",
    "hold_expires_at", "refund_due", "reschedule_count", "price", "payment", "series_id", "series_index",
    "pass_id", "location", "locale", "student_erased", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


async def test_student_books_a_session(world: World) -> None:
    response = await world.book("2026-12-01T10:00:00+01:00")
    assert response.status_code == 201, response.text
    booking = response.json()["booking"]
    assert set(booking) == BOOKING_KEYS
    assert booking | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "brand_id": world.brand["id"],
        "instructor_id": world.instructor["id"],
        "student_id": str(world.student_id),
        "status": "pending",
        "payment_status": "unpaid",
        "starts_at": "2026-12-01T09:00:00Z",
        "ends_at": "2026-12-01T10:00:00Z",
        "duration_minutes": 60,
        "student_timezone": "America/New_York",
        "instructor_timezone": "Europe/Berlin",
        "student_local": {"starts_at": "2026-12-01T04:00:00-05:00", "ends_at": "2026-12-01T05:00:00-05:00"},
        "instructor_local": {
            "starts_at": "2026-12-01T10:00:00+01:00",
            "ends_at": "2026-12-01T11:00:00+01:00",
        },
        "student_name": None,
        "student_email": "student@example.com",
        "student_phone": "+15551234567",
        "instructor_notes": None,
        "cancellation_reason": None,
        "hold_expires_at": "2026-11-30T06:30:00Z",
        "refund_due": False,
        "reschedule_count": 0,
        "price": None,
        "payment": {"provider": None, "amount_paid": 0, "amount_refunded": 0, "refund_status": None},
        "series_id": None,
        "series_index": None,
        "pass_id": None,
        "location": None,
        "locale": "en",
        "student_erased": False,
        "created_at": None,
        "updated_at": None,
    }
    assert booking["created_at"] == "2026-11-30T06:00:00Z"


async def test_without_providers_each_channel_is_skipped_with_a_blocker(world: World) -> None:
    notifications = (await world.book("2026-12-01T10:00:00+01:00")).json()["notifications"]
    assert notifications["email"] == {"status": "skipped", "reason": "resend_not_configured"}
    assert notifications["sms"] == {"status": "skipped", "reason": "twilio_not_configured"}
    assert notifications["sms_blocker"] == "twilio_not_configured"


async def test_contact_from_body_wins_over_token(world: World) -> None:
    booking = await world.booked(
        "2026-12-01T10:00:00+01:00",
        student_name="Sam",
        student_email="other@example.com",
        student_phone="+4930123456",
    )
    assert (booking["student_name"], booking["student_email"], booking["student_phone"]) == (
        "Sam",
        "other@example.com",
        "+4930123456",
    )


async def test_duration_and_buffer_come_from_the_brand_settings(world: World) -> None:
    await world.set_availability(settings={"session_minutes": 45, "buffer_minutes": 30})
    first = await world.booked("2026-12-01T09:00:00+01:00")
    assert first["ends_at"] == "2026-12-01T08:45:00Z"
    # 09:45 + 30 min buffer: 10:15 local is the first free start.
    assert (await world.book("2026-12-01T10:14:00+01:00")).status_code == 409
    assert (await world.book("2026-12-01T10:15:00+01:00")).status_code == 201
    assert (await world.booked("2026-12-01T12:00:00+01:00", duration_minutes=90))["duration_minutes"] == 90


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "2026-12-01T10:00:00"}, "starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"student_timezone": "Moon/Base"}, "student_timezone"),
        ({"student_email": "nope"}, "student_email"),
        ({"student_phone": "555-1234"}, "student_phone"),
        ({"student_phone": "+0123"}, "student_phone"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"instructor_id": "x"}, "instructor_id"),
        ({"surprise": True}, "surprise"),
    ],
)
async def test_invalid_body_is_422_and_books_nothing(
    world: World, change: dict[str, object], field: str
) -> None:
    response = await world.client.post(
        "/api/bookings", json=world.body("2026-12-01T10:00:00+01:00") | change, headers=world.student_headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in map(str, d["loc"]) for d in error["details"])
    assert await world.all_bookings() == []


async def test_missing_required_field_is_422(world: World) -> None:
    body = world.body("2026-12-01T10:00:00+01:00")
    del body["student_timezone"]
    assert (
        await world.client.post("/api/bookings", json=body, headers=world.student_headers)
    ).status_code == 422


async def test_anonymous_cannot_book(world: World) -> None:
    assert (
        await world.client.post("/api/bookings", json=world.body("2026-12-01T10:00:00+01:00"))
    ).status_code == 401


RULE_CASES = [
    ("2026-11-30T05:00:00Z", {}, 422, "in_the_past"),
    ("2026-11-30T06:00:00Z", {}, 422, "in_the_past"),
    ("2026-11-30T08:00:00Z", {"min_notice_minutes": 180}, 422, "too_soon"),
    ("2026-12-07T09:00:00+01:00", {"advance_booking_days": 5}, 422, "beyond_booking_window"),
    ("2026-12-01T08:00:00+01:00", {}, 422, "outside_availability"),
    ("2026-12-01T16:30:00+01:00", {}, 422, "outside_availability"),
    ("2026-12-05T10:00:00+01:00", {}, 422, "outside_availability"),  # a Saturday
]


@pytest.mark.parametrize(("starts_at", "settings", "status", "code"), RULE_CASES)
async def test_each_rule_names_its_error(
    world: World, starts_at: str, settings: dict[str, int], status: int, code: str
) -> None:
    if settings:
        await world.set_availability(settings=settings)
    response = await world.book(starts_at)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await world.all_bookings() == []


async def test_notice_edge(world: World) -> None:
    await world.set_availability(settings={"min_notice_minutes": 120})
    assert (await world.book("2026-11-30T07:59:00Z")).json()["error"]["code"] == "too_soon"
    assert (await world.book("2026-11-30T08:00:00Z")).status_code == 201


async def test_unknown_unlinked_or_inactive_instructor_is_404_instructor_not_in_brand(world: World) -> None:
    other = await world.api.brand(slug="other")
    stranger = await world.api.instructor([other["id"]])
    cases = [
        world.body("2026-12-01T10:00:00+01:00", instructor_id=str(uuid.uuid4())),
        world.body("2026-12-01T10:00:00+01:00", instructor_id=stranger["id"]),
        world.body("2026-12-01T10:00:00+01:00", brand_id=other["id"]),
        world.body("2026-12-01T10:00:00+01:00", brand_id=str(uuid.uuid4())),
    ]
    for body in cases:
        response = await world.client.post("/api/bookings", json=body, headers=world.student_headers)
        assert response.status_code == 404, body
        assert response.json()["error"]["code"] == "instructor_not_in_brand"
    await world.client.patch(
        f"/api/instructors/{world.instructor['id']}", json={"active": False}, headers=SERVICE
    )
    response = await world.book("2026-12-01T10:00:00+01:00")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "instructor_not_in_brand")
    assert await world.all_bookings() == []


async def test_overlap_is_409_slot_unavailable(world: World) -> None:
    await world.booked("2026-12-01T10:00:00+01:00")
    for start in ("2026-12-01T10:00:00+01:00", "2026-12-01T10:30:00+01:00", "2026-12-01T11:10:00+01:00"):
        response = await world.book(start)
        assert (response.status_code, response.json()["error"]["code"]) == (409, "slot_unavailable")
    assert (await world.book("2026-12-01T11:15:00+01:00")).status_code == 201
    assert (await world.book("2026-12-01T08:45:00Z")).status_code == 409, (
        "the new booking's buffer counts too"
    )
    assert len(await world.all_bookings()) == 2


async def test_bookings_of_other_brands_block_with_their_own_buffer(world: World) -> None:
    other = await world.api.brand(slug="other")
    await world.client.put(f"/api/instructors/{world.instructor['id']}/brands/{other['id']}", headers=SERVICE)
    await world.client.put(
        f"/api/instructors/{world.instructor['id']}/availability",
        json={"brand_id": other["id"], "weekly": [{"weekday": 2, "start_time": "08:00", "end_time": "18:00"}],
              "settings": {"buffer_minutes": 45}},
        headers=SERVICE,
    )  # fmt: skip
    elsewhere = await world.client.post(
        "/api/bookings",
        json=world.body("2026-12-01T12:00:00+01:00", brand_id=other["id"]),
        headers=world.student_headers,
    )
    assert elsewhere.status_code == 201
    # 12:00-13:00 plus the other brand's 45 minutes: 13:30 is blocked here, 13:45 is free.
    assert (await world.book("2026-12-01T13:30:00+01:00")).status_code == 409
    assert (await world.book("2026-12-01T13:45:00+01:00")).status_code == 201
    assert (await world.book("2026-12-01T10:50:00+01:00")).status_code == 409, (
        "our 15 min buffer before theirs"
    )
    assert (await world.book("2026-12-01T10:45:00+01:00")).status_code == 201


async def test_cancelled_booking_frees_its_time_at_once(world: World) -> None:
    booking = await world.booked("2026-12-01T10:00:00+01:00")
    assert (await world.patch(booking["id"], {"status": "cancelled"}, world.admin_headers)).status_code == 200
    assert (await world.book("2026-12-01T10:00:00+01:00")).status_code == 201


async def test_slots_and_bookings_agree(world: World) -> None:
    await world.booked("2026-12-01T10:00:00+01:00")
    url = f"/api/instructors/{world.instructor['id']}/slots"
    params = {"brand_id": world.brand["id"], "from": "2026-12-01", "to": "2026-12-01"}
    listed = (await world.client.get(url, params=params)).json()["slots"]
    # 08:00Z would run into the booking with its own buffer; 10:00Z into the booking's buffer.
    assert [s["starts_at"][11:16] for s in listed] == ["11:00", "12:00", "13:00", "14:00", "15:00"]
    for unlisted in ("2026-12-01T08:00:00Z", "2026-12-01T10:00:00Z"):
        assert (await world.book(unlisted)).json()["error"]["code"] == "slot_unavailable"
    for slot in listed:
        response = await world.book(slot["starts_at"])
        assert response.status_code == 201, slot
        # Free it again so that the next listed slot is judged against the same calendar.
        await world.patch(response.json()["booking"]["id"], {"status": "cancelled"}, SERVICE)


async def test_admin_or_service_books_for_a_student(world: World) -> None:
    student = str(uuid.uuid4())
    by_admin = await world.book("2026-12-01T10:00:00+01:00", headers=world.admin_headers, student_id=student)
    assert by_admin.status_code == 201 and by_admin.json()["booking"]["student_id"] == student
    by_service = await world.book("2026-12-01T12:00:00+01:00", headers=SERVICE, student_id=student)
    assert by_service.status_code == 201


async def test_student_cannot_book_for_someone_else(world: World) -> None:
    response = await world.book("2026-12-01T10:00:00+01:00", student_id=str(uuid.uuid4()))
    assert response.status_code == 403
    assert await world.all_bookings() == []


async def test_service_must_name_the_student(world: World) -> None:
    response = await world.book("2026-12-01T10:00:00+01:00", headers=SERVICE)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "student_id"]


async def test_unlink_with_upcoming_bookings_is_409(world: World) -> None:
    await world.booked("2026-12-01T10:00:00+01:00")
    url = f"/api/instructors/{world.instructor['id']}/brands/{world.brand['id']}"
    assert (await world.client.delete(url, headers=SERVICE)).status_code == 409
    public = await world.client.get("/api/instructors", params={"brand_id": world.brand["id"]})
    assert len(public.json()["instructors"]) == 1, "the refused unlink changed nothing"


async def test_unlink_after_the_sessions_are_over(world: World, clock: FixedClock) -> None:
    await world.booked("2026-12-01T10:00:00+01:00")
    clock.set(MONDAY + timedelta(days=2))
    url = f"/api/instructors/{world.instructor['id']}/brands/{world.brand['id']}"
    assert (await world.client.delete(url, headers=SERVICE)).status_code == 204
    assert len(await world.all_bookings()) == 1, "past bookings stay"


async def test_token_without_contact_claims(world: World) -> None:
    student_id, headers = new_user()
    booking = (await world.book("2026-12-01T10:00:00+01:00", headers=headers)).json()["booking"]
    assert booking["student_email"] is None and booking["student_phone"] is None
    bad_claims = user_headers(uuid.uuid4(), email="not an email", phone="12345")
    booking = (await world.book("2026-12-01T12:00:00+01:00", headers=bad_claims)).json()["booking"]
    assert booking["student_email"] is None and booking["student_phone"] is None
    assert student_id
