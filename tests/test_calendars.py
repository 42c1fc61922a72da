"""Calendars (SPEC §13) on both databases, through the API and the worker's sync job.

Busy calendars are served by a loopback server that answers like a calendar host (ETag, 304, a 500, a
hang, a 10 MB body, garbage); the sync runs one pass at a time with the fixed clock. The instructor's feed
is parsed back with `icalendar` after each change of a booking.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest
from sqlalchemy import select

from booking.calendars.sync import sync_due_calendars
from booking.clock import FixedClock
from booking.models.calendars import CalendarFeed
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.conftest import running_api
from tests.loopback import LoopbackServer, Recorded, Reply, serve
from tests.support import SERVICE, make_settings, new_user

PUBLIC_BASE = "https://booking.example.com"
WEDNESDAY = "2026-12-02"
# Busy 10:00-11:30 Berlin (CET, +01) on Wednesday 2 December.
MEETING = ("20261202T090000Z", "20261202T103000Z")
EVERY = timedelta(minutes=10)


def ics(*events: tuple[str, str], extra: str = "") -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:e{index}@example.com\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Busy\r\nEND:VEVENT\r\n"
        for index, (start, end) in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}END:VCALENDAR\r\n".encode()


def sent_header(request: Recorded, name: str) -> str | None:
    return {key.lower(): value for key, value in request.headers.items()}.get(name)


class CalendarHost:
    """Answers GET with the current reply; a fresh `etag` per content, and 304 for a matching
    If-None-Match, as Google and Outlook do."""

    def __init__(self) -> None:
        self.body = ics(MEETING)
        self.etag: str | None = '"v1"'
        self.failure: Reply | None = None

    def __call__(self, request: Recorded) -> Reply:
        if self.failure is not None:
            return self.failure
        headers = {"content-type": "text/calendar; charset=utf-8"}
        if self.etag is not None:
            headers["etag"] = self.etag
            if sent_header(request, "if-none-match") == self.etag:
                return Reply(304, raw=b"", headers=headers)
        return Reply(200, raw=self.body, headers=headers)


@dataclass
class Calendars:
    world: World
    clock: FixedClock
    host: CalendarHost
    server: LoopbackServer

    @property
    def client(self) -> httpx.AsyncClient:
        return self.world.client

    @property
    def path(self) -> str:
        return f"/api/instructors/{self.world.instructor['id']}/busy-calendars"

    def url(self, name: str = "basic") -> str:
        return f"{self.server.url}/calendar/ical/maya%40example.com/private-5ecret/{name}.ics"

    async def put(self, *urls: str, headers: dict[str, str] | None = None) -> httpx.Response:
        body = {"calendars": [{"url": url} for url in urls]}
        return await self.client.put(self.path, json=body, headers=headers or self.world.instructor_headers)

    async def listed(self) -> list[dict[str, Any]]:
        response = await self.client.get(self.path, headers=self.world.instructor_headers)
        assert response.status_code == 200, response.text
        calendars: list[dict[str, Any]] = response.json()["calendars"]
        return calendars

    async def sync(self, timeout_seconds: float = 5.0) -> int:
        context = context_of(self.world)
        return await sync_due_calendars(
            context.db, context.outbound, self.clock.now(), EVERY, timeout_seconds=timeout_seconds
        )

    async def next_round(self, timeout_seconds: float = 5.0) -> dict[str, Any]:
        """The next regular sync (CALENDAR_SYNC_MINUTES later), and the calendar as listed after it."""
        self.clock.set(self.clock.now() + EVERY)
        assert await self.sync(timeout_seconds) == 1
        (calendar,) = await self.listed()
        return calendar

    async def wednesday_starts(self, brand_id: str | None = None) -> list[datetime]:
        response = await self.client.get(
            f"/api/instructors/{self.world.instructor['id']}/slots",
            params={"brand_id": brand_id or self.world.brand["id"], "from": WEDNESDAY, "to": WEDNESDAY},
        )
        assert response.status_code == 200, response.text
        return [datetime.fromisoformat(slot["starts_at"]) for slot in response.json()["slots"]]


def berlin(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02}:{minute:02}:00+01:00").astimezone(UTC)


WEDNESDAY_FREE = [berlin(WEDNESDAY, hour) for hour in (9, 12, 13, 14, 15, 16)]
WEDNESDAY_ALL = [berlin(WEDNESDAY, hour) for hour in range(9, 17)]


@contextmanager
def calendar_host() -> Iterator[tuple[CalendarHost, LoopbackServer]]:
    host = CalendarHost()
    with serve(host) as server:
        yield host, server


@pytest.fixture
async def calendars(database_url: str, clock: FixedClock) -> AsyncIterator[Calendars]:
    clock.set(MONDAY)
    settings = make_settings(database_url, allow_private_urls=True, public_base_url=PUBLIC_BASE)
    with calendar_host() as (host, server):
        async with running_api(settings, clock) as api:
            world = await make_world(api)
            await world.set_brand_settings(max_pending_per_student=None)
            yield Calendars(world, clock, host, server)


async def second_brand(world: World, weekday: int) -> dict[str, Any]:
    """Another brand the instructor teaches for, 09:00-17:00 on one weekday."""
    other = await world.api.brand(slug="other", name="Other Coaching")
    instructor = f"/api/instructors/{world.instructor['id']}"
    linked = await world.client.put(f"{instructor}/brands/{other['id']}", headers=SERVICE)
    assert linked.status_code == 201, linked.text
    weekly = [{"weekday": weekday, "start_time": "09:00", "end_time": "17:00"}]
    body = {"brand_id": other["id"], "weekly": weekly}
    assert (
        await world.client.put(f"{instructor}/availability", json=body, headers=SERVICE)
    ).status_code == 200
    return other


def feed_path(world: World) -> str:
    return f"/api/instructors/{world.instructor['id']}/calendar-feed"


def code(response: httpx.Response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error", {}).get("code")


# --- busy calendars --------------------------------------------------------------------------------


async def test_busy_time_blocks_slots_bookings_and_moves_in_every_brand_without_buffer(
    calendars: Calendars,
) -> None:
    world = calendars.world
    other = await second_brand(world, weekday=3)
    assert await calendars.wednesday_starts() == WEDNESDAY_ALL

    saved = await calendars.put(calendars.url())
    assert saved.status_code == 200, saved.text
    (calendar,) = saved.json()["calendars"]
    assert calendar["url"] == f"{calendars.server.url}/…"  # path and query hidden: they hold the secret
    assert (calendar["busy_count"], calendar["last_synced_at"], calendar["last_error"]) == (0, None, None)
    assert await calendars.sync() == 1
    assert await calendars.sync() == 0  # not due again before CALENDAR_SYNC_MINUTES
    (calendar,) = await calendars.listed()
    assert calendar["busy_count"] == 1 and calendar["last_error"] is None
    assert datetime.fromisoformat(calendar["last_synced_at"]) == calendars.clock.now()

    # 10:00-11:30 is busy: 10:00 and 11:00 go; 09:00 (ends as it starts) and 12:00 stay (no buffer).
    assert await calendars.wednesday_starts() == WEDNESDAY_FREE
    assert await calendars.wednesday_starts(other["id"]) == WEDNESDAY_FREE
    for brand_id in (world.brand["id"], other["id"]):
        refused = await world.book(berlin(WEDNESDAY, 11).isoformat(), brand_id=brand_id)
        assert code(refused) == (409, "slot_unavailable")
    booking = await world.booked(berlin(WEDNESDAY, 9).isoformat())
    moved = await world.client.post(
        f"/api/bookings/{booking['id']}/reschedule",
        json={"starts_at": berlin(WEDNESDAY, 10, 30).isoformat()},
        headers=world.student_headers,
    )
    assert code(moved) == (409, "slot_unavailable")
    assert (await world.booked(berlin(WEDNESDAY, 12).isoformat()))["status"] == "pending"


async def test_a_feed_that_fails_keeps_its_last_good_busy_time(calendars: Calendars) -> None:
    assert (await calendars.put(calendars.url())).status_code == 200
    assert await calendars.sync() == 1
    calendars.host.etag = None  # no conditional GET: every round fetches the whole body
    failures: list[tuple[Reply, str]] = [
        (Reply(500, raw=b"Internal Server Error"), "HTTP 500"),
        (Reply(hang=True), "no complete answer within 0.3 s"),
        (Reply(200, raw=b"BEGIN:VCALENDAR\r\n" + b"X" * (10 * 1024 * 1024)), "larger than 5242880 bytes"),
        (Reply(200, raw=b"<html><body>Please sign in</body></html>"), "not an iCalendar file"),
    ]
    for reply, reason in failures:
        calendars.host.failure = reply
        calendar = await calendars.next_round(timeout_seconds=0.3)
        assert reason in (calendar["last_error"] or ""), calendar
        assert calendar["busy_count"] == 1
        assert await calendars.wednesday_starts() == WEDNESDAY_FREE
    # A good feed again, with the meeting moved to Thursday: only now does the busy time change.
    calendars.host.failure = Reply(200, raw=calendars.host.body.replace(b"20261202T", b"20261203T"))
    calendar = await calendars.next_round()
    assert (calendar["last_error"], calendar["busy_count"]) == (None, 1)
    assert datetime.fromisoformat(calendar["last_synced_at"]) == calendars.clock.now()
    assert await calendars.wednesday_starts() == WEDNESDAY_ALL  # the meeting moved to Thursday


async def test_an_unchanged_feed_is_a_304_and_a_changed_one_replaces_it(
    calendars: Calendars,
) -> None:
    assert (await calendars.put(calendars.url())).status_code == 200
    assert await calendars.sync() == 1
    calendar = await calendars.next_round()
    assert sent_header(calendars.server.requests[-1], "if-none-match") == '"v1"'
    assert datetime.fromisoformat(calendar["last_synced_at"]) == calendars.clock.now()  # a 304 counts
    assert (calendar["busy_count"], calendar["last_error"]) == (1, None)
    assert await calendars.wednesday_starts() == WEDNESDAY_FREE

    calendars.host.body, calendars.host.etag = ics(("20261202T140000Z", "20261202T150000Z")), '"v2"'
    calendar = await calendars.next_round()
    assert calendar["busy_count"] == 1
    # The old meeting is gone, the new one (15:00-16:00 Berlin) blocks.
    assert await calendars.wednesday_starts() == [berlin(WEDNESDAY, h) for h in (9, 10, 11, 12, 13, 14, 16)]


async def test_saving_the_list_keeps_calendars_that_stay_and_drops_the_others(calendars: Calendars) -> None:
    first, second, third = calendars.url("a"), calendars.url("b"), calendars.url("c")
    calendars.host.etag = None
    assert (await calendars.put(first, second)).status_code == 200
    assert await calendars.sync() == 2
    before = {entry["id"]: entry for entry in await calendars.listed()}
    calendars.host.body = ics()  # from now on the host serves an empty calendar

    saved = (await calendars.put(second, third, second)).json()["calendars"]
    assert len(saved) == 2
    kept = before[saved[0]["id"]]
    assert saved[0]["busy_count"] == kept["busy_count"] == 1  # the same calendar, its busy time kept
    assert saved[1]["id"] not in before and saved[1]["busy_count"] == 0
    assert await calendars.wednesday_starts() == WEDNESDAY_FREE  # still the second's last good time
    assert await calendars.sync() == 2  # both are fetched again at once, without waiting for the round
    assert [entry["busy_count"] for entry in await calendars.listed()] == [0, 0]
    assert await calendars.wednesday_starts() == WEDNESDAY_ALL

    assert (await calendars.put()).json() == {"calendars": []}
    assert await calendars.listed() == []


async def test_the_worker_fetches_a_calendar_right_after_it_is_saved(calendars: Calendars) -> None:
    assert (await calendars.put(calendars.url())).status_code == 200
    done = await context_of(calendars.world).worker.run_once()
    assert done["calendars"] == 1
    assert (await calendars.listed())[0]["busy_count"] == 1


async def test_bad_lists_are_422_and_change_nothing(calendars: Calendars) -> None:
    assert (await calendars.put(calendars.url())).status_code == 200
    before = await calendars.listed()
    too_many = await calendars.put(*(calendars.url(str(n)) for n in range(11)))
    assert code(too_many) == (422, "validation_error")
    for bad in (
        "ftp://calendar.example.com/a.ics",
        "webcal://",
        "not a url",
        "https://user:pw@example.com/a.ics",
    ):
        response = await calendars.put(calendars.url(), bad)
        assert code(response) == (422, "validation_error"), bad
        assert response.json()["error"]["details"][0]["loc"] == ["body", "calendars", 1, "url"]
    wrong_shape = await calendars.client.put(
        calendars.path,
        json={"calendars": ["https://example.com/a.ics"]},
        headers=calendars.world.instructor_headers,
    )
    assert code(wrong_shape) == (422, "validation_error")
    assert await calendars.listed() == before


async def test_without_allow_private_urls_loopback_and_plain_http_are_refused(
    database_url: str, clock: FixedClock
) -> None:
    clock.set(MONDAY)
    async with running_api(make_settings(database_url), clock) as api:
        world = await make_world(api)
        path = f"/api/instructors/{world.instructor['id']}/busy-calendars"
        for url in ("http://calendar.example.com/a.ics", "https://127.0.0.1/a.ics", "https://10.1.2.3/a.ics"):
            response = await world.client.put(path, json={"calendars": [{"url": url}]}, headers=SERVICE)
            assert code(response) == (422, "validation_error"), url


async def test_only_the_instructor_and_the_service_manage_calendars(calendars: Calendars) -> None:
    world = calendars.world
    instructor = world.instructor["id"]
    _, stranger = new_user()
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PUT", f"/api/instructors/{instructor}/busy-calendars", {"calendars": []}),
        ("GET", f"/api/instructors/{instructor}/busy-calendars", None),
        ("POST", f"/api/instructors/{instructor}/calendar-feed", None),
        ("DELETE", f"/api/instructors/{instructor}/calendar-feed", None),
    ]
    for method, path, body in calls:
        for headers, expected in (
            ({}, 401),
            (world.admin_headers, 403),  # a brand admin too: the calendars span every brand
            (stranger, 403),
            (world.student_headers, 403),
            (world.instructor_headers, {"POST": 201, "DELETE": 204}.get(method, 200)),
            (SERVICE, {"POST": 201, "DELETE": 204}.get(method, 200)),
        ):
            response = await world.client.request(method, path, json=body, headers=headers)
            assert response.status_code == expected, (method, path, headers, response.text)
        unknown = path.replace(instructor, str(uuid.uuid4()))
        assert (await world.client.request(method, unknown, json=body, headers=SERVICE)).status_code == 404


# --- the instructor's feed -------------------------------------------------------------------------


def parse_feed(response: httpx.Response) -> dict[str, icalendar.Component]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def event_state(event: icalendar.Component) -> tuple[str, int, datetime, datetime]:
    return (
        str(event["STATUS"]),
        int(event.decoded("SEQUENCE")),
        event.decoded("DTSTART"),
        event.decoded("DTEND"),
    )


@dataclass
class Feed:
    world: World
    url: str

    @property
    def path(self) -> str:
        return self.url.removeprefix(PUBLIC_BASE)

    async def get(self, **headers: str) -> httpx.Response:
        return await self.world.client.get(self.path, headers=headers)

    async def events(self) -> dict[str, icalendar.Component]:
        return parse_feed(await self.get())


async def new_feed(world: World, headers: dict[str, str]) -> Feed:
    created = await world.client.post(
        f"/api/instructors/{world.instructor['id']}/calendar-feed", headers=headers
    )
    assert created.status_code == 201, created.text
    return Feed(world, created.json()["url"])


async def test_the_feed_follows_a_booking_through_confirm_move_and_cancel(calendars: Calendars) -> None:
    world = calendars.world
    feed = await new_feed(world, world.instructor_headers)
    assert feed.url.startswith(f"{PUBLIC_BASE}/api/calendar-feeds/") and feed.url.endswith(".ics")
    secret = feed.url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(secret) >= 43  # 256 random bits, URL-safe base64
    async with context_of(world).db.transaction(write=False) as session:
        (stored,) = (await session.scalars(select(CalendarFeed))).all()
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest() != secret
    assert await feed.events() == {}

    booking = await world.booked(berlin(WEDNESDAY, 10).isoformat(), student_name="Ana Lima")
    uid = f"{booking['id']}@booking"
    start, end = berlin(WEDNESDAY, 10), berlin(WEDNESDAY, 11)
    (event,) = (await feed.events()).values()
    assert str(event["UID"]) == uid and event_state(event) == ("TENTATIVE", 0, start, end)
    assert str(event["SUMMARY"]) == "Session with Ana Lima (Acme Coaching)"

    await world.patch(booking["id"], {"instructor_notes": "private: knee injury"}, world.instructor_headers)
    paid = await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    assert paid.json()["booking"]["status"] == "confirmed"
    assert event_state((await feed.events())[uid]) == ("CONFIRMED", 1, start, end)

    moved = await world.client.post(
        f"/api/bookings/{booking['id']}/reschedule",
        json={"starts_at": berlin(WEDNESDAY, 14).isoformat()},
        headers=world.student_headers,
    )
    assert moved.status_code == 200, moved.text
    assert event_state((await feed.events())[uid]) == (
        "CONFIRMED",
        2,
        berlin(WEDNESDAY, 14),
        berlin(WEDNESDAY, 15),
    )

    cancelled = await world.patch(booking["id"], {"status": "cancelled"}, SERVICE)
    assert cancelled.status_code == 200, cancelled.text
    response = await feed.get()
    (event,) = parse_feed(response).values()
    assert event_state(event) == ("CANCELLED", 3, berlin(WEDNESDAY, 14), berlin(WEDNESDAY, 15))
    assert b"knee" not in response.content  # no instructor notes

    # Unchanged: the same ETag, and 304 for it; calendar apps may keep it and revalidate.
    assert response.headers.get_list("cache-control") == ["no-cache"]
    etag = response.headers["etag"]
    assert (await feed.get()).headers["etag"] == etag
    unchanged = await feed.get(**{"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", etag)
    assert (await feed.get(**{"If-None-Match": '"other"'})).status_code == 200

    # A cancelled session stays 30 days after its end, then leaves the feed.
    calendars.clock.set(berlin(WEDNESDAY, 15) + timedelta(days=30) - timedelta(seconds=1))
    assert uid in await feed.events()
    calendars.clock.set(berlin(WEDNESDAY, 15) + timedelta(days=30))
    assert await feed.events() == {}


async def test_the_feed_spans_every_brand_and_leaves_out_expired_holds(calendars: Calendars) -> None:
    world = calendars.world
    other = await second_brand(world, weekday=4)
    here = await world.booked(berlin(WEDNESDAY, 9).isoformat())
    there = await world.booked(berlin("2026-12-03", 9).isoformat(), brand_id=other["id"])
    feed = await new_feed(world, SERVICE)
    events = await feed.events()
    assert set(events) == {f"{here['id']}@booking", f"{there['id']}@booking"}
    assert "(Other Coaching)" in str(events[f"{there['id']}@booking"]["SUMMARY"])

    # The holds (30 minutes by default) expire: the feed drops them before and after the worker cancels them.
    calendars.clock.set(calendars.clock.now() + timedelta(minutes=31))
    assert await feed.events() == {}
    await context_of(world).worker.run_once()
    assert (await world.client.get(f"/api/bookings/{here['id']}", headers=SERVICE)).json()["booking"][
        "status"
    ] == "cancelled"
    assert await feed.events() == {}


async def test_a_new_feed_revokes_the_old_one_and_delete_revokes_it(calendars: Calendars) -> None:
    world = calendars.world
    first = await new_feed(world, world.instructor_headers)
    second = await new_feed(world, world.instructor_headers)
    assert first.url != second.url
    assert code(await first.get()) == (404, "not_found")
    assert (await second.get()).status_code == 200
    revoked = await world.client.delete(
        f"/api/instructors/{world.instructor['id']}/calendar-feed", headers=SERVICE
    )
    assert revoked.status_code == 204
    assert code(await second.get()) == (404, "not_found")
    for guess in ("x", "a" * 43, "../../etc/passwd"):
        assert (await world.client.get(f"/api/calendar-feeds/{guess}.ics")).status_code == 404


async def test_without_public_base_url_the_feed_url_is_the_requests(
    database_url: str, clock: FixedClock
) -> None:
    clock.set(MONDAY)
    async with running_api(make_settings(database_url), clock) as api:
        world = await make_world(api)
        created = await world.client.post(
            f"/api/instructors/{world.instructor['id']}/calendar-feed", headers=SERVICE
        )
        assert created.json()["url"].startswith("http://booking.test/api/calendar-feeds/")


async def test_a_parser_failure_of_any_kind_is_recorded_not_raised(
    calendars: Calendars, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await calendars.put(calendars.url())).status_code == 200
    assert await calendars.sync() == 1

    def broken(*_: object) -> list[object]:
        raise RecursionError("deeply nested")

    monkeypatch.setattr("booking.calendars.sync.busy_time_of", broken)
    calendars.host.etag = None
    calendar = await calendars.next_round()
    assert calendar["last_error"] == "the calendar could not be read (RecursionError)"
    assert calendar["busy_count"] == 1
    assert await calendars.wednesday_starts() == WEDNESDAY_FREE
