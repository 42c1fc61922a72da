"""GET /api/bookings/export.csv: the header, RFC 4180 with CRLF, formula cells, brand-local dates, who
may export what, and pages of a few thousand rows."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from booking.bookings import export
from booking.clock import FixedClock
from booking.enums import BookingStatus, PaymentStatus
from booking.models.bookings import Booking
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.support import SERVICE, Api, new_user

HEADER = (
    "booking_id,status,payment_status,starts_at,ends_at,instructor_local_start,instructor_id,instructor_name,"
    "student_id,student_name,student_email,currency,price,amount_paid,amount_refunded,series_id,pass_id,"
    "cancellation_reason,created_at"
)


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


def row(world: World, starts_at: datetime, **values: Any) -> dict[str, Any]:
    """A booking as the history holds it, for inserting many at once (completed: no overlap guard)."""
    ends_at = values.get("ends_at", starts_at + timedelta(hours=1))
    return {
        "id": uuid.uuid4(),
        "brand_id": uuid.UUID(world.brand["id"]),
        "instructor_id": uuid.UUID(world.instructor["id"]),
        "student_id": uuid.uuid4(),
        "status": BookingStatus.COMPLETED,
        "payment_status": PaymentStatus.PAID,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "blocked_until": ends_at,
        "buffer_minutes": 0,
        "student_timezone": "UTC",
        "instructor_timezone": "Europe/Berlin",
        "student_name": "Student",
        "student_email": "s@example.com",
        "created_by": "service",
        "created_at": MONDAY,
        "updated_at": MONDAY,
    } | values


async def insert_rows(world: World, rows: list[dict[str, Any]]) -> None:
    async with context_of(world).db.transaction(write=True) as session:
        await session.execute(insert(Booking), rows)


async def exported(world: World, headers: dict[str, str] = SERVICE, /, **params: Any) -> httpx.Response:
    return await world.client.get(
        "/api/bookings/export.csv", params={"brand_id": world.brand["id"]} | params, headers=headers
    )


def records(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))


async def test_header_crlf_formula_cells_and_rfc4180(world: World) -> None:
    booked = await world.booked("2026-12-01T09:00:00+01:00", student_name='=HYPERLINK("x")')
    response = await exported(world, world.admin_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="bookings.csv"'
    text = response.content.decode()
    assert text.startswith(HEADER + "\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert '"\'=HYPERLINK(""x"")"' in text  # the apostrophe, and the quotes doubled inside quotes
    (one,) = records(response)
    assert list(one) == HEADER.split(",")
    assert one["booking_id"] == booked["id"]
    assert one["student_name"] == '\'=HYPERLINK("x")'
    assert one["status"] == booked["status"] and one["payment_status"] == "unpaid"
    assert one["starts_at"] == "2026-12-01T08:00:00Z"
    assert one["ends_at"] == booked["ends_at"].replace("+00:00", "Z")
    assert one["instructor_local_start"] == "2026-12-01T09:00:00+01:00"
    assert one["instructor_id"] == world.instructor["id"]
    assert one["instructor_name"] == "Ada Coach"
    assert one["student_id"] == str(world.student_id)
    assert one["student_email"] == "student@example.com"
    assert one["currency"] == "usd"  # the brand's: the booking has no price
    assert one["price"] == one["series_id"] == one["pass_id"] == one["cancellation_reason"] == ""
    assert one["amount_paid"] == one["amount_refunded"] == "0"
    assert one["created_at"] == "2026-11-30T06:00:00Z"


@pytest.mark.parametrize("start", ["+", "-", "@", "\t", "\r"])
def test_each_formula_start_gets_an_apostrophe(start: str) -> None:
    assert export.cell(start + "1") == "'" + start + "1"
    assert export.cell("a" + start) == "a" + start
    assert export.cell(None) == ""


async def test_dates_are_brand_local_and_inclusive(world: World) -> None:
    await world.set_brand_settings(timezone="America/New_York")  # UTC-5 in December
    instants = ["2026-12-01T04:59:59", "2026-12-01T05:00:00", "2026-12-03T04:59:59", "2026-12-03T05:00:00"]
    starts = [datetime.fromisoformat(i).replace(tzinfo=UTC) for i in instants]
    await insert_rows(world, [row(world, start) for start in starts])
    found = records(await exported(world, **{"from": "2026-12-01", "to": "2026-12-02"}))
    assert [r["starts_at"] for r in found] == ["2026-12-01T05:00:00Z", "2026-12-03T04:59:59Z"]
    assert len(records(await exported(world, **{"from": "2026-12-01"}))) == 3
    assert len(records(await exported(world, to="2026-11-30"))) == 1
    assert len(records(await exported(world))) == 4
    backwards = await exported(world, **{"from": "2026-12-02", "to": "2026-12-01"})
    assert backwards.status_code == 422


async def test_who_may_export_what(world: World) -> None:
    colleague_user, colleague_headers = new_user()
    colleague = await world.api.instructor([world.brand["id"]], user_id=colleague_user, name="Colleague")
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    theirs = row(world, start, instructor_id=uuid.UUID(colleague["id"]))
    await insert_rows(world, [row(world, start), theirs])
    assert len(records(await exported(world))) == 2
    assert len(records(await exported(world, world.admin_headers))) == 2
    only = records(await exported(world, instructor_id=colleague["id"]))
    assert [r["booking_id"] for r in only] == [str(theirs["id"])]
    assert [r["booking_id"] for r in records(await exported(world, colleague_headers))] == [str(theirs["id"])]
    assert [r["instructor_id"] for r in records(await exported(world, world.instructor_headers))] == [
        world.instructor["id"]
    ]
    refused = await exported(world, colleague_headers, instructor_id=world.instructor["id"])
    assert refused.status_code == 403
    assert (await exported(world, world.student_headers)).status_code == 403
    other = await world.api.brand(slug="other")
    _, intruder = await world.api.admin_of(other["id"])
    hidden = await exported(world, intruder)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "not_found")
    assert (await exported(world, brand_id=str(uuid.uuid4()))).status_code == 404
    assert (await exported(world, {})).status_code == 401


async def test_pages_of_thousands_come_back_whole_in_order(world: World) -> None:
    total = 2 * export.PAGE + 7  # three pages, the last one short
    first = datetime(2026, 1, 1, tzinfo=UTC)
    # Some share a start: the keyset (start, id) must not lose or repeat them across a page's end.
    starts = [first + timedelta(hours=2 * (index // 2)) for index in range(total)]
    await insert_rows(world, [row(world, start) for start in starts])
    found = records(await exported(world))
    assert len(found) == total
    assert len({r["booking_id"] for r in found}) == total
    keys = [(r["starts_at"], r["booking_id"]) for r in found]
    assert keys == sorted(keys)
