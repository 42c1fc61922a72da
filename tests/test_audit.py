"""The audit log on both databases: each change is written with its actor and each changed field's
before and after, in the change's transaction (a rolled-back change leaves nothing); the worker's
changes are the system's; secrets are never written; the brand's admins read it newest first, in
keyset pages, by span and by target; nobody else does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.conftest import running_api
from tests.support import SERVICE, Api, make_settings, new_user

TUESDAY_10 = "2026-12-01T10:00:00+01:00"


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


async def audit(
    world: World, *, headers: dict[str, str] | None = None, **params: Any
) -> list[dict[str, Any]]:
    url = f"/api/brands/{world.brand['id']}/audit"
    response = await world.client.get(url, params=params, headers=headers or SERVICE)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def entries_of(world: World, target_id: str) -> list[dict[str, Any]]:
    return await audit(world, target_id=target_id, limit=200)


async def test_a_brand_admins_patch_records_their_id_and_each_changed_field(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    admin_id, admin = await world.api.admin_of(world.brand["id"])
    changed = await world.patch(
        booking["id"], {"payment_status": "paid", "instructor_notes": "Bring the score"}, admin
    )
    assert changed.status_code == 200, changed.text
    newest, created = await entries_of(world, booking["id"])
    assert newest["actor"] == {"type": "user", "id": str(admin_id)}
    assert newest["action"] == "booking.updated" and newest["target_type"] == "booking"
    assert newest["changes"]["payment_status"] == {"before": "unpaid", "after": "paid"}
    assert newest["changes"]["status"] == {"before": "pending", "after": "confirmed"}
    assert newest["changes"]["instructor_notes"] == {"before": None, "after": "Bring the score"}
    assert newest["changes"]["hold_expires_at"]["after"] is None  # a confirmed booking holds nothing
    assert "starts_at" not in newest["changes"], "only what changed"
    assert created["action"] == "booking.created"
    assert created["actor"] == {"type": "user", "id": str(world.student_id)}
    assert created["changes"]["status"] == {"before": None, "after": "pending"}


async def test_a_rolled_back_change_records_nothing(world: World) -> None:
    booking = await world.booked(TUESDAY_10)
    before = await entries_of(world, booking["id"])
    hours_before = await entries_of(world, world.instructor["id"])
    # The hold is changed first, then the transition is refused: the whole change rolls back.
    later = "2026-11-30T09:00:00Z"
    refused = await world.patch(booking["id"], {"hold_expires_at": later, "status": "completed"}, SERVICE)
    assert refused.status_code == 409, refused.text
    assert await entries_of(world, booking["id"]) == before
    bad_hours = {"weekly": [{"weekday": 1, "start_time": "09:00", "end_time": "12:00"}] * 2}
    overlapping = await world.client.put(
        f"/api/instructors/{world.instructor['id']}/availability",
        json={"brand_id": world.brand["id"]} | bad_hours,
        headers=SERVICE,
    )
    assert overlapping.status_code == 422
    assert await entries_of(world, world.instructor["id"]) == hours_before


async def test_the_workers_hold_expiry_is_the_systems(world: World, clock: FixedClock) -> None:
    booking = await world.booked(TUESDAY_10)
    clock.set(MONDAY + timedelta(minutes=31))
    assert (await context_of(world).worker.run_once())["holds"] == 1
    newest = (await entries_of(world, booking["id"]))[0]
    assert newest["actor"] == {"type": "system", "id": None}
    assert newest["changes"]["status"] == {"before": "pending", "after": "cancelled"}
    assert newest["changes"]["cancellation_reason"]["after"] == "payment_hold_expired"


async def test_availability_and_settings_are_the_instructors_entries(world: World) -> None:
    url = f"/api/instructors/{world.instructor['id']}/availability"
    body = {"brand_id": world.brand["id"], "settings": {"buffer_minutes": 30, "location": "Room 4"}}
    assert (await world.client.put(url, json=body, headers=world.instructor_headers)).status_code == 200
    [entry, *_] = await entries_of(world, world.instructor["id"])
    assert entry["target_type"] == "instructor" and entry["action"] == "availability.updated"
    assert entry["actor"]["type"] == "user"
    assert entry["changes"] == {
        "settings.buffer_minutes": {"before": 15, "after": 30},
        "settings.location": {"before": None, "after": "Room 4"},
    }


async def test_a_webhooks_secret_is_never_recorded(database_url: str, clock: FixedClock) -> None:
    clock.set(MONDAY)
    # A receiver's name need not resolve here: private URLs allowed, as the webhook tests do.
    async with running_api(make_settings(database_url, allow_private_urls=True), clock) as api:
        world = await make_world(api)
        url = f"/api/brands/{world.brand['id']}/webhooks"
        body = {"url": "https://hooks.example.com/a", "events": ["*"]}
        made = await world.client.post(url, json=body, headers=SERVICE)
        assert made.status_code == 201, made.text
        endpoint = made.json()["webhook"]
        [entry] = await entries_of(world, endpoint["id"])
        assert entry["action"] == "webhook.created" and entry["actor"] == {"type": "service", "id": None}
        assert set(entry["changes"]) == {"url", "events", "enabled"}
        assert entry["changes"]["events"] == {"before": None, "after": ["*"]}  # the list, not its text
        secret = endpoint["secret"]
        assert secret.startswith("whsec_") and secret not in str(await audit(world, limit=200))
        deleted = await world.client.delete(f"{url}/{endpoint['id']}", headers=SERVICE)
        assert deleted.status_code == 204
        assert (await entries_of(world, endpoint["id"]))[0]["action"] == "webhook.deleted"


async def test_pages_are_newest_first_and_keyset(world: World, clock: FixedClock) -> None:
    await world.set_brand_settings(max_pending_per_student=None)
    made = []
    for hour in range(4):  # Tuesday to Friday, one a minute
        clock.set(MONDAY + timedelta(minutes=hour))
        made.append(await world.booked(f"2026-12-0{1 + hour}T10:00:00+01:00"))
    first = await world.client.get(
        f"/api/brands/{world.brand['id']}/audit", params={"limit": 2}, headers=SERVICE
    )
    seen = [entry["target_id"] for entry in first.json()["entries"]]
    cursor = first.json()["next_cursor"]
    while cursor:
        page = await world.client.get(
            f"/api/brands/{world.brand['id']}/audit", params={"limit": 2, "cursor": cursor}, headers=SERVICE
        )
        seen += [entry["target_id"] for entry in page.json()["entries"]]
        cursor = page.json()["next_cursor"]
    bookings = [b["id"] for b in made]
    assert [t for t in seen if t in bookings] == bookings[::-1], "newest first, each once"
    span: dict[str, Any] = {
        "from": (MONDAY + timedelta(minutes=2)).isoformat(),
        "to": (MONDAY + timedelta(minutes=4)).isoformat(),
    }
    in_span = await audit(world, **span)
    assert [entry["target_id"] for entry in in_span] == [bookings[3], bookings[2]]


async def test_only_the_service_and_the_brands_admins_read_it(world: World) -> None:
    url = f"/api/brands/{world.brand['id']}/audit"
    other = await world.api.brand(slug="other", name="Other")
    _, other_admin = await world.api.admin_of(other["id"])
    for headers, status in (
        (world.admin_headers, 200),
        (other_admin, 404),  # another brand's admin: as if it did not exist
        (world.instructor_headers, 403),
        (world.student_headers, 403),
        ({}, 401),
    ):
        assert (await world.client.get(url, headers=headers)).status_code == status
    missing = await world.client.get(f"/api/brands/{uuid.uuid4()}/audit", headers=SERVICE)
    assert missing.status_code == 404
    bad = await world.client.get(url, params={"cursor": "not-a-cursor"}, headers=SERVICE)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    _, nobody = new_user()
    assert (await world.client.get(url, headers=nobody)).status_code == 403


async def test_a_new_instructors_links_are_recorded(world: World) -> None:
    body = {"name": "Bo", "email": "bo@example.com", "timezone": "UTC", "brand_ids": [world.brand["id"]]}
    made = await world.client.post("/api/instructors", json=body, headers=world.admin_headers)
    assert made.status_code == 201, made.text
    instructor_id = made.json()["instructor"]["id"]
    [entry] = await entries_of(world, instructor_id)
    assert entry["action"] == "link.created" and entry["target_type"] == "instructor"
    assert entry["changes"]["instructor_id"] == {"before": None, "after": instructor_id}
    assert entry["actor"]["type"] == "user"


async def test_an_instructors_own_change_is_in_each_linked_brands_log(world: World) -> None:
    other = await world.api.brand(slug="second", name="Second")
    linked = await world.client.put(
        f"/api/instructors/{world.instructor['id']}/brands/{other['id']}", headers=SERVICE
    )
    assert linked.status_code == 201, linked.text
    url = f"/api/instructors/{world.instructor['id']}"
    changed = await world.client.patch(url, json={"locale": "de"}, headers=world.instructor_headers)
    assert changed.status_code == 200, changed.text
    for brand in (world.brand, other):
        response = await world.client.get(
            f"/api/brands/{brand['id']}/audit", params={"target_id": world.instructor["id"]}, headers=SERVICE
        )
        newest = response.json()["entries"][0]
        assert newest["action"] == "instructor.updated"
        assert newest["changes"] == {"locale": {"before": None, "after": "de"}}
        assert newest["actor"]["type"] == "user"


async def test_an_expired_hold_a_booking_clears_is_the_systems_cancellation(
    world: World, clock: FixedClock
) -> None:
    held = await world.booked(TUESDAY_10)
    clock.set(MONDAY + timedelta(minutes=31))
    taker_id, taker = new_user()
    taken = await world.client.post("/api/bookings", json=world.body(TUESDAY_10), headers=taker)
    assert taken.status_code == 201, taken.text
    newest = (await entries_of(world, held["id"]))[0]
    assert newest["changes"]["status"] == {"before": "pending", "after": "cancelled"}
    assert newest["actor"] == {"type": "system", "id": None}, "not the student who booked the time"
    made = (await entries_of(world, taken.json()["booking"]["id"]))[0]
    assert made["actor"] == {"type": "user", "id": str(taker_id)}
