"""GET/PUT availability and GET slots through HTTP, with permissions and every 422 case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from booking.clock import FixedClock
from tests.support import SERVICE, Api, new_user

DEFAULTS = {
    "buffer_minutes": 15,
    "advance_booking_days": 90,
    "cancellation_cutoff_hours": 24,
    "session_minutes": 60,
    "min_notice_minutes": 0,
    "payment_hold_minutes": 30,
    "max_bookings_per_day": None,
    "max_bookings_per_week": None,
    "reschedule_cutoff_hours": 24,
    "price_amount": None,
    "refund_percent": 100,
    "slot_interval_minutes": None,
    "location": None,
}
MON_FRI_9_TO_17 = [{"weekday": d, "start_time": "09:00", "end_time": "17:00"} for d in range(1, 6)]


async def setup(
    api: Api, timezone: str = "Europe/Berlin"
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    brand = await api.brand()
    user_id, own = new_user()
    instructor = await api.instructor([brand["id"]], user_id=user_id, timezone=timezone)
    return brand, instructor, own


def url(instructor: dict[str, Any], part: str = "availability") -> str:
    return f"/api/instructors/{instructor['id']}/{part}"


async def snapshot(api: Api, instructor: dict[str, Any], brand: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.get(url(instructor), params={"brand_id": brand["id"], "from": "2000-01-01"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_defaults_before_anything_is_saved(api: Api) -> None:
    brand, instructor, _ = await setup(api)
    assert await snapshot(api, instructor, brand) == {
        "instructor_id": instructor["id"],
        "brand_id": brand["id"],
        "timezone": "Europe/Berlin",
        "settings": DEFAULTS,
        "weekly": [],
        "overrides": [],
    }


async def test_instructor_sets_weekly_overrides_and_settings(api: Api) -> None:
    brand, instructor, own = await setup(api)
    body = {
        "brand_id": brand["id"],
        "timezone": "America/New_York",
        "settings": {"buffer_minutes": 0, "session_minutes": 45},
        "weekly": [*MON_FRI_9_TO_17, {"weekday": 6, "start_time": "22:00", "end_time": "24:00"}],
        "overrides": [
            {"date": "2026-12-24", "kind": "blocked"},
            {"date": "2026-12-27", "kind": "custom", "start_time": "10:00", "end_time": "12:00"},
            {"date": "2026-12-27", "kind": "custom", "start_time": "14:00", "end_time": "15:30"},
        ],
    }
    response = await api.client.put(url(instructor), json=body, headers=own)
    assert response.status_code == 200, response.text
    saved = await snapshot(api, instructor, brand)
    assert saved == response.json()
    assert saved["timezone"] == "America/New_York"
    assert saved["settings"] == DEFAULTS | {"buffer_minutes": 0, "session_minutes": 45}
    assert saved["weekly"][-1] == {"weekday": 6, "start_time": "22:00", "end_time": "24:00"}
    assert saved["overrides"] == [
        {"date": "2026-12-24", "kind": "blocked", "start_time": None, "end_time": None},
        {"date": "2026-12-27", "kind": "custom", "start_time": "10:00", "end_time": "12:00"},
        {"date": "2026-12-27", "kind": "custom", "start_time": "14:00", "end_time": "15:30"},
    ]


async def test_weekly_replaces_and_overrides_replace_per_date(api: Api) -> None:
    brand, instructor, own = await setup(api)
    first = {
        "brand_id": brand["id"],
        "weekly": MON_FRI_9_TO_17,
        "overrides": [{"date": "2026-12-24", "kind": "blocked"}, {"date": "2026-12-31", "kind": "blocked"}],
    }
    await api.client.put(url(instructor), json=first, headers=own)
    second = {
        "brand_id": brand["id"],
        "weekly": [{"weekday": 2, "start_time": "08:00", "end_time": "10:00"}],
        "overrides": [
            {"date": "2026-12-24", "kind": "custom", "start_time": "09:00", "end_time": "10:00"},
            {"date": "2026-12-31", "kind": "clear"},
        ],
    }
    assert (await api.client.put(url(instructor), json=second, headers=own)).status_code == 200
    saved = await snapshot(api, instructor, brand)
    assert saved["weekly"] == [{"weekday": 2, "start_time": "08:00", "end_time": "10:00"}]
    assert saved["overrides"] == [
        {"date": "2026-12-24", "kind": "custom", "start_time": "09:00", "end_time": "10:00"}
    ]
    # Settings were not part of either call: still the defaults, and no weekly given keeps the rules.
    await api.client.put(
        url(instructor), json={"brand_id": brand["id"], "settings": {"buffer_minutes": 5}}, headers=own
    )
    again = await snapshot(api, instructor, brand)
    assert again["weekly"] == saved["weekly"] and again["settings"]["buffer_minutes"] == 5


async def test_overrides_are_limited_to_from_and_to(api: Api) -> None:
    brand, instructor, own = await setup(api)
    dates = ["2026-12-10", "2026-12-20", "2027-01-05"]
    overrides = [{"date": d, "kind": "blocked"} for d in dates]
    await api.client.put(url(instructor), json={"brand_id": brand["id"], "overrides": overrides}, headers=own)
    response = await api.client.get(
        url(instructor), params={"brand_id": brand["id"], "from": "2026-12-15", "to": "2027-01-05"}
    )
    assert [o["date"] for o in response.json()["overrides"]] == ["2026-12-20", "2027-01-05"]


async def test_settings_are_per_brand(api: Api) -> None:
    a, b = await api.brand(slug="a"), await api.brand(slug="b")
    instructor = await api.instructor([a["id"], b["id"]])
    body = {"brand_id": a["id"], "settings": {"buffer_minutes": 30}}
    await api.client.put(url(instructor), json=body, headers=SERVICE)
    assert (await snapshot(api, instructor, a))["settings"]["buffer_minutes"] == 30
    assert (await snapshot(api, instructor, b))["settings"]["buffer_minutes"] == 15


async def test_put_permissions(api: Api) -> None:
    brand, instructor, own = await setup(api)
    other = await api.brand(slug="other")
    _, admin = await api.admin_of(brand["id"])
    _, other_admin = await api.admin_of(other["id"])
    _, student = new_user()
    body = {"brand_id": brand["id"], "weekly": MON_FRI_9_TO_17}
    before = await snapshot(api, instructor, brand)
    assert (await api.client.put(url(instructor), json=body)).status_code == 401
    assert (await api.client.put(url(instructor), json=body, headers=student)).status_code == 403
    assert (await api.client.put(url(instructor), json=body, headers=other_admin)).status_code == 403
    assert await snapshot(api, instructor, brand) == before
    assert (await api.client.put(url(instructor), json=body, headers=admin)).status_code == 200
    assert (await api.client.put(url(instructor), json=body, headers=SERVICE)).status_code == 200
    assert (await api.client.put(url(instructor), json=body, headers=own)).status_code == 200


async def test_unlinked_brand_or_unknown_instructor_is_404(api: Api) -> None:
    brand, instructor, own = await setup(api)
    other = await api.brand(slug="other")
    response = await api.client.put(
        url(instructor), json={"brand_id": other["id"], "weekly": []}, headers=own
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "instructor_not_in_brand"
    assert (await api.client.get(url(instructor), params={"brand_id": other["id"]})).status_code == 404
    missing = f"/api/instructors/{uuid.uuid4()}/availability"
    assert (await api.client.get(missing, params={"brand_id": brand["id"]})).status_code == 404


INVALID_PUTS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown timezone": ({"timezone": "Europe/Atlantis"}, "timezone"),
    "weekday 7": ({"weekly": [{"weekday": 7, "start_time": "09:00", "end_time": "10:00"}]}, "weekday"),
    "weekday -1": ({"weekly": [{"weekday": -1, "start_time": "09:00", "end_time": "10:00"}]}, "weekday"),
    "weekday as text": (
        {"weekly": [{"weekday": "1", "start_time": "09:00", "end_time": "10:00"}]},
        "weekday",
    ),
    "malformed time": ({"weekly": [{"weekday": 1, "start_time": "9:00", "end_time": "10:00"}]}, "start_time"),
    "hour 25": ({"weekly": [{"weekday": 1, "start_time": "09:00", "end_time": "25:00"}]}, "end_time"),
    "start 24:00": ({"weekly": [{"weekday": 1, "start_time": "24:00", "end_time": "24:00"}]}, "start_time"),
    "inverted": ({"weekly": [{"weekday": 1, "start_time": "10:00", "end_time": "09:00"}]}, "weekly"),
    "empty window": ({"weekly": [{"weekday": 1, "start_time": "10:00", "end_time": "10:00"}]}, "weekly"),
    "overlapping weekly": (
        {
            "weekly": [
                {"weekday": 1, "start_time": "09:00", "end_time": "12:00"},
                {"weekday": 1, "start_time": "11:00", "end_time": "13:00"},
            ]
        },
        "weekly",
    ),
    "overlapping custom": (
        {
            "overrides": [
                {"date": "2026-12-24", "kind": "custom", "start_time": "09:00", "end_time": "12:00"},
                {"date": "2026-12-24", "kind": "custom", "start_time": "11:00", "end_time": "13:00"},
            ]
        },
        "overrides",
    ),
    "blocked beside custom": (
        {
            "overrides": [
                {"date": "2026-12-24", "kind": "blocked"},
                {"date": "2026-12-24", "kind": "custom", "start_time": "11:00", "end_time": "13:00"},
            ]
        },
        "overrides",
    ),
    "custom without times": ({"overrides": [{"date": "2026-12-24", "kind": "custom"}]}, "overrides"),
    "blocked with times": (
        {
            "overrides": [
                {"date": "2026-12-24", "kind": "blocked", "start_time": "09:00", "end_time": "10:00"}
            ]
        },
        "overrides",
    ),
    "unknown kind": ({"overrides": [{"date": "2026-12-24", "kind": "holiday"}]}, "kind"),
    "bad date": ({"overrides": [{"date": "2026-02-30", "kind": "blocked"}]}, "date"),
    "buffer 241": ({"settings": {"buffer_minutes": 241}}, "buffer_minutes"),
    "advance 0": ({"settings": {"advance_booking_days": 0}}, "advance_booking_days"),
    "advance 731": ({"settings": {"advance_booking_days": 731}}, "advance_booking_days"),
    "cutoff 721": ({"settings": {"cancellation_cutoff_hours": 721}}, "cancellation_cutoff_hours"),
    "session 4": ({"settings": {"session_minutes": 4}}, "session_minutes"),
    "session 481": ({"settings": {"session_minutes": 481}}, "session_minutes"),
    "notice 10081": ({"settings": {"min_notice_minutes": 10081}}, "min_notice_minutes"),
    "buffer as float": ({"settings": {"buffer_minutes": 15.5}}, "buffer_minutes"),
    "settings unknown field": ({"settings": {"colour": "red"}}, "colour"),
    "weekly not a list": ({"weekly": {"weekday": 1}}, "weekly"),
}


@pytest.mark.parametrize("case", sorted(INVALID_PUTS))
async def test_invalid_put_is_422_naming_the_field_and_writes_nothing(api: Api, case: str) -> None:
    brand, instructor, own = await setup(api)
    valid_first = {
        "brand_id": brand["id"],
        "weekly": MON_FRI_9_TO_17,
        "overrides": [{"date": "2026-12-24", "kind": "blocked"}],
    }
    await api.client.put(url(instructor), json=valid_first, headers=own)
    before = await snapshot(api, instructor, brand)
    invalid, field = INVALID_PUTS[case]
    # A valid part next to the invalid one must not be written either.
    body = {"brand_id": brand["id"], "settings": {"buffer_minutes": 99}, "weekly": []} | invalid
    response = await api.client.put(url(instructor), json=body, headers=own)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in [str(part) for part in detail["loc"]] for detail in error["details"]), error[
        "details"
    ]
    assert await snapshot(api, instructor, brand) == before


# --- slots ------------------------------------------------------------------------------------------


async def slots(api: Api, instructor: dict[str, Any], brand: dict[str, Any], **params: Any) -> Any:
    return await api.client.get(url(instructor, "slots"), params={"brand_id": brand["id"]} | params)


async def test_slots_of_a_week(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))  # a Monday, 07:00 in Berlin
    brand, instructor, own = await setup(api)
    body = {"brand_id": brand["id"], "weekly": MON_FRI_9_TO_17, "settings": {"buffer_minutes": 0}}
    await api.client.put(url(instructor), json=body, headers=own)
    response = await slots(api, instructor, brand, **{"from": "2026-11-30", "to": "2026-12-06"})
    assert response.status_code == 200
    listed = response.json()
    assert listed["timezone"] == "Europe/Berlin"
    assert len(listed["slots"]) == 5 * 8
    assert listed["slots"][0] == {"starts_at": "2026-11-30T08:00:00Z", "ends_at": "2026-11-30T09:00:00Z"}


async def test_slots_step_by_requested_duration(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    brand, instructor, own = await setup(api)
    body = {"brand_id": brand["id"], "weekly": [{"weekday": 1, "start_time": "09:00", "end_time": "11:00"}]}
    await api.client.put(url(instructor), json=body, headers=own)
    response = await slots(
        api, instructor, brand, **{"from": "2026-11-30", "to": "2026-11-30", "duration_minutes": 50}
    )
    assert [s["starts_at"] for s in response.json()["slots"]] == [
        "2026-11-30T08:00:00Z",
        "2026-11-30T08:50:00Z",
    ]


async def test_timezone_decides_how_dates_are_read(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 29, 0, 0, tzinfo=UTC))
    brand, instructor, own = await setup(api, timezone="Pacific/Auckland")
    body = {
        "brand_id": brand["id"],
        "weekly": [{"weekday": 2, "start_time": "09:00", "end_time": "10:00"}],
        "settings": {"buffer_minutes": 0},
    }
    await api.client.put(url(instructor), json=body, headers=own)
    # Tuesday 2026-12-01 09:00 in Auckland is Monday 2026-11-30 20:00 UTC.
    auckland = await slots(api, instructor, brand, **{"from": "2026-12-01", "to": "2026-12-01"})
    in_utc = await slots(
        api, instructor, brand, **{"from": "2026-11-30", "to": "2026-11-30", "timezone": "UTC"}
    )
    assert (
        auckland.json()["slots"]
        == in_utc.json()["slots"]
        == [{"starts_at": "2026-11-30T20:00:00Z", "ends_at": "2026-11-30T21:00:00Z"}]
    )
    assert in_utc.json()["timezone"] == "UTC"
    wrong_day = await slots(
        api, instructor, brand, **{"from": "2026-12-01", "to": "2026-12-01", "timezone": "UTC"}
    )
    assert wrong_day.json()["slots"] == []


async def test_slots_on_spring_forward_day(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    brand, instructor, own = await setup(api, timezone="America/New_York")
    body = {
        "brand_id": brand["id"],
        "weekly": [{"weekday": 0, "start_time": "01:00", "end_time": "05:00"}],
        "settings": {"buffer_minutes": 0},
    }
    await api.client.put(url(instructor), json=body, headers=own)
    response = await slots(api, instructor, brand, **{"from": "2026-03-08", "to": "2026-03-08"})
    assert [s["starts_at"] for s in response.json()["slots"]] == [
        "2026-03-08T06:00:00Z",
        "2026-03-08T07:00:00Z",
        "2026-03-08T08:00:00Z",
    ]


async def test_past_and_beyond_window_are_not_listed(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 12, 2, 10, 30, tzinfo=UTC))  # Wednesday 11:30 in Berlin
    brand, instructor, own = await setup(api)
    body = {
        "brand_id": brand["id"],
        "weekly": MON_FRI_9_TO_17,
        "settings": {"advance_booking_days": 1, "buffer_minutes": 0, "min_notice_minutes": 60},
    }
    await api.client.put(url(instructor), json=body, headers=own)
    response = await slots(api, instructor, brand, **{"from": "2026-12-01", "to": "2026-12-10"})
    starts = [s["starts_at"] for s in response.json()["slots"]]
    assert starts[0] == "2026-12-02T12:00:00Z"  # 13:00 local: after 11:30 plus an hour's notice
    assert starts[-1] == "2026-12-03T10:00:00Z"  # no later than now + 1 day


async def test_inactive_instructor_has_no_slots(api: Api, clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=UTC))
    brand, instructor, own = await setup(api)
    await api.client.put(
        url(instructor), json={"brand_id": brand["id"], "weekly": MON_FRI_9_TO_17}, headers=own
    )
    await api.client.patch(f"/api/instructors/{instructor['id']}", json={"active": False}, headers=own)
    assert (await slots(api, instructor, brand, **{"from": "2026-11-30", "to": "2026-12-01"})).json()[
        "slots"
    ] == []


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-12-01", "to": "2027-02-01"},  # 63 days
        {"from": "2026-12-10", "to": "2026-12-01"},
        {"from": "2026-13-01", "to": "2026-12-01"},
        {"from": "yesterday", "to": "2026-12-01"},
        {"to": "2026-12-01"},
        {"from": "2026-12-01", "to": "2026-12-02", "timezone": "Not/AZone"},
        {"from": "2026-12-01", "to": "2026-12-02", "duration_minutes": 0},
        {"from": "2026-12-01", "to": "2026-12-02", "duration_minutes": "an hour"},
    ],
)
async def test_bad_slot_queries_are_422(api: Api, params: dict[str, Any]) -> None:
    brand, instructor, _ = await setup(api)
    response = await slots(api, instructor, brand, **params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_sixty_two_days_are_allowed(api: Api) -> None:
    brand, instructor, _ = await setup(api)
    assert (
        await slots(api, instructor, brand, **{"from": "2026-12-01", "to": "2027-01-31"})
    ).status_code == 200
