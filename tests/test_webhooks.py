"""Webhooks (SPEC §12): the API through HTTP, and delivery to a real receiver on loopback.

The worker's steps (`dispatch_events`, `deliver_due`) are called directly with the fixed clock: a retry's
wait is clock time, never slept.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from unittest import mock

import pytest
import standardwebhooks.webhooks
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from booking.clock import FixedClock
from booking.db import Database
from booking.outbound import OutboundClient
from booking.webhooks.delivery import SCHEDULE, backlog, deliver_due, dispatch_events, webhook_jobs
from booking.worker import Worker
from tests.booking_world import MONDAY, World, make_world
from tests.conftest import running_api
from tests.loopback import LoopbackServer, Recorded, Reply, serve
from tests.support import SERVICE, Api, make_settings, new_user

SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")
WEBHOOK_KEYS = {"id", "brand_id", "url", "events", "enabled", "description", "created_at"}
DELIVERY_KEYS = {
    "id", "event_type", "booking_id", "status", "attempts", "last_status_code", "last_error",
    "next_attempt_at", "created_at", "delivered_at",
}  # fmt: skip
SHORT_TIMEOUT = 0.3
TUESDAY = "2026-12-01"  # the day after MONDAY, inside the instructor's hours


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- a receiver that answers as told ----------------------------------------------------------------


class Receiver:
    """Answers each request with the next reply queued, then with `then`."""

    def __init__(self, *replies: Reply, then: Reply | None = None) -> None:
        self.replies = list(replies)
        self.then = then or Reply(200)
        self.lock = threading.Lock()

    def __call__(self, _: Recorded) -> Reply:
        with self.lock:
            return self.replies.pop(0) if self.replies else self.then


@contextmanager
def receiver(*replies: Reply, then: Reply | None = None) -> Iterator[LoopbackServer]:
    with serve(Receiver(*replies, then=then)) as server:
        yield server


def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def verified(secret: str, request: Recorded, at: datetime) -> Any:
    """What `Webhook.verify` makes of a request, with its 5-minute tolerance measured at `at` (the fixed
    clock's time, not the machine's)."""

    class At(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> At:
            return cls.fromtimestamp(at.timestamp(), tz)

    with mock.patch.object(standardwebhooks.webhooks, "datetime", At):
        return Webhook(secret).verify(request.body, request.headers)


# --- the world: a brand with an instructor, a student, an admin, and the worker's steps ---------------


@dataclass
class Hooks:
    world: World
    db: Database
    client: OutboundClient
    clock: FixedClock

    @property
    def http(self) -> Any:
        return self.world.client

    @property
    def brand_id(self) -> str:
        return str(self.world.brand["id"])

    def path(self, *parts: str, brand_id: str | None = None) -> str:
        return "/".join([f"/api/brands/{brand_id or self.brand_id}/webhooks", *parts]).rstrip("/")

    async def create(
        self, url: str, events: list[str] | None = None, headers: dict[str, str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        body = {"url": url, "events": events or ["*"]} | extra
        response = await self.http.post(self.path(), json=body, headers=headers or SERVICE)
        assert response.status_code == 201, response.text
        webhook: dict[str, Any] = response.json()["webhook"]
        return webhook

    async def patch(self, webhook_id: str, **body: Any) -> dict[str, Any]:
        response = await self.http.patch(self.path(webhook_id), json=body, headers=SERVICE)
        assert response.status_code == 200, response.text
        webhook: dict[str, Any] = response.json()["webhook"]
        return webhook

    async def deliveries(self, webhook_id: str, **params: Any) -> list[dict[str, Any]]:
        response = await self.http.get(self.path(webhook_id, "deliveries"), params=params, headers=SERVICE)
        assert response.status_code == 200, response.text
        deliveries: list[dict[str, Any]] = response.json()["deliveries"]
        return deliveries

    async def delivery(self, webhook_id: str) -> dict[str, Any]:
        (only,) = await self.deliveries(webhook_id)
        return only

    async def book(self, hour: int = 10) -> dict[str, Any]:
        return await self.world.booked(f"{TUESDAY}T{hour:02d}:00:00+01:00")

    async def dispatch(self) -> int:
        return await dispatch_events(self.db, self.clock.now())

    async def deliver(self, **options: Any) -> int:
        return await deliver_due(self.db, self.client, self.clock.now(), **options)

    def advance(self, by: timedelta) -> None:
        self.clock.set(self.clock.now() + by)


async def _forget_webhooks(db: Database) -> None:
    # The test databases live for the session and their emptying predates these tables (SQLite keeps
    # them: its DELETEs there run without foreign keys, so no cascade reaches them).
    async with db.transaction(write=True) as session:
        for table in ("webhook_deliveries", "webhook_endpoints", "events"):
            await session.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
async def hooks(database_url: str, clock: FixedClock) -> AsyncIterator[Hooks]:
    clock.set(MONDAY)
    # Private URLs allowed: the receivers listen on loopback.
    async with running_api(make_settings(database_url, allow_private_urls=True), clock) as api:
        db: Database = api.app.state.context.db
        await _forget_webhooks(db)
        async with OutboundClient(allow_private=True) as client:
            world = await make_world(api)
            # Some tests book more sessions for one student than the default pending cap allows.
            await world.set_brand_settings(max_pending_per_student=None)
            yield Hooks(world, db, client, clock)


# --- delivery -----------------------------------------------------------------------------------------


async def test_a_booking_is_delivered_signed_to_its_subscribers(hooks: Hooks) -> None:
    with receiver() as server, receiver() as other:
        webhook = await hooks.create(server.url + "/hook", ["booking.created"], description="CRM")
        cancelled_only = await hooks.create(other.url, ["booking.cancelled"])
        booking = await hooks.book()
        created_at = hooks.clock.now()
        hooks.advance(timedelta(seconds=2))

        assert await hooks.dispatch() == 1
        assert await hooks.dispatch() == 0
        assert await hooks.deliveries(cancelled_only["id"]) == []
        assert await hooks.deliver() == 1
        assert await hooks.deliver() == 0

        (request,) = server.requests
        assert other.requests == []
        delivery = await hooks.delivery(webhook["id"])
        assert request.method == "POST" and request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"] == delivery["id"]
        assert request.headers["webhook-timestamp"] == str(int(hooks.clock.now().timestamp()))
        assert request.headers["webhook-signature"].startswith("v1,")
        staff_view = await hooks.http.get(f"/api/bookings/{booking['id']}", headers=SERVICE)
        expected = {
            "type": "booking.created",
            "timestamp": iso(created_at),
            "data": {"booking": staff_view.json()["booking"]},
        }
        assert json.loads(request.body) == expected
        assert verified(webhook["secret"], request, hooks.clock.now()) == expected
        with pytest.raises(WebhookVerificationError):
            verified(cancelled_only["secret"], request, hooks.clock.now())

        assert set(delivery) == DELIVERY_KEYS
        assert delivery == delivery | {
            "event_type": "booking.created",
            "booking_id": booking["id"],
            "status": "delivered",
            "attempts": 1,
            "last_status_code": 200,
            "last_error": None,
            "next_attempt_at": None,
            "delivered_at": iso(hooks.clock.now()),
        }

        # A later change of the booking reaches the other subscriber only.
        cancel = {"status": "cancelled"}
        assert (await hooks.world.patch(booking["id"], cancel, SERVICE)).status_code == 200
        assert await hooks.dispatch() == 1
        assert await hooks.deliver() == 1
        (cancellation,) = other.requests
        assert (
            verified(cancelled_only["secret"], cancellation, hooks.clock.now())["type"] == "booking.cancelled"
        )
        assert len(server.requests) == 1


async def test_a_failed_attempt_is_retried_after_exactly_five_seconds(hooks: Hooks) -> None:
    with receiver(Reply(500)) as server:
        webhook = await hooks.create(server.url)
        await hooks.book()
        await hooks.dispatch()
        first_at = hooks.clock.now()
        assert await hooks.deliver() == 1
        assert await hooks.delivery(webhook["id"]) == (await hooks.delivery(webhook["id"])) | {
            "status": "pending",
            "attempts": 1,
            "last_status_code": 500,
            "last_error": "answered HTTP 500",
            "next_attempt_at": iso(first_at + timedelta(seconds=5)),
        }

        hooks.advance(timedelta(seconds=5) - timedelta(microseconds=1))
        assert await hooks.deliver() == 0
        hooks.advance(timedelta(microseconds=1))
        assert await hooks.deliver() == 1

        first, second = server.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert int(second.headers["webhook-timestamp"]) - int(first.headers["webhook-timestamp"]) == 5
        assert await hooks.delivery(webhook["id"]) == (await hooks.delivery(webhook["id"])) | {
            "status": "delivered",
            "attempts": 2,
            "last_status_code": 200,
            "last_error": None,
            "delivered_at": iso(hooks.clock.now()),
        }


async def test_redirects_timeouts_and_refused_connections_are_failed_attempts(hooks: Hooks) -> None:
    with receiver(then=Reply(307)) as redirecting, receiver(then=Reply(hang=True)) as hanging:
        redirect = await hooks.create(redirecting.url)
        hang = await hooks.create(hanging.url)
        refused = await hooks.create(closed_port_url())
        await hooks.book()
        await hooks.dispatch()
        assert await hooks.deliver(timeout_seconds=SHORT_TIMEOUT) == 3

        assert len(redirecting.requests) == 1  # not followed
        after = iso(hooks.clock.now() + SCHEDULE[0])
        redirected = await hooks.delivery(redirect["id"])
        assert redirected | {"last_error": None} == redirected | {
            "status": "pending",
            "attempts": 1,
            "last_status_code": 307,
            "last_error": None,
            "next_attempt_at": after,
        }
        assert "redirect" in redirected["last_error"]
        timed_out = await hooks.delivery(hang["id"])
        assert (timed_out["status"], timed_out["attempts"], timed_out["last_status_code"]) == (
            "pending",
            1,
            None,
        )
        assert "within" in timed_out["last_error"]
        not_connected = await hooks.delivery(refused["id"])
        assert (not_connected["status"], not_connected["attempts"]) == ("pending", 1)
        assert not_connected["last_status_code"] is None and not_connected["last_error"]


async def test_a_hanging_receiver_holds_up_no_other_delivery(hooks: Hooks) -> None:
    """The worker's loop attempts in the background: a receiver that hangs for its whole timeout does not
    delay the first attempt of the next event (SPEC §12: within 5 s of the commit)."""
    worker = Worker(hooks.db, hooks.clock, webhook_jobs(hooks.db, hooks.client, timeout_seconds=2))
    with receiver(then=Reply(hang=True)) as hanging, receiver() as healthy:
        await hooks.create(hanging.url, events=["booking.created"])
        await hooks.create(healthy.url, events=["booking.confirmed"])
        booking = await hooks.book()
        await worker.run_once(wait_for_deliveries=False)
        (stuck,) = worker.in_flight("deliveries")
        paid = await hooks.http.patch(
            f"/api/bookings/{booking['id']}", json={"payment_status": "paid"}, headers=SERVICE
        )
        assert paid.status_code == 200
        await worker.run_once(wait_for_deliveries=False)
        (confirmation,) = worker.in_flight("deliveries") - {stuck}
        assert await asyncio.wait_for(confirmation, timeout=1) == 1
        assert not stuck.done(), "the confirmation went out while the first attempt still hangs"
        await asyncio.gather(*worker.in_flight("deliveries"))
        assert len(hanging.requests) == 1 and len(healthy.requests) == 1


async def test_the_whole_schedule_ends_in_failed_and_retry_revives_it(hooks: Hooks) -> None:
    assert [wait.total_seconds() for wait in SCHEDULE] == [5, 300, 1800, 7200, 18000, 36000, 36000]
    answers = Receiver(then=Reply(503))
    with serve(answers) as server:
        webhook = await hooks.create(server.url)
        await hooks.book()
        await hooks.dispatch()
        assert await hooks.deliver() == 1
        for wait in SCHEDULE:
            hooks.advance(wait - timedelta(seconds=1))
            assert await hooks.deliver() == 0
            hooks.advance(timedelta(seconds=1))
            assert await hooks.deliver() == 1
        failed = await hooks.delivery(webhook["id"])
        assert failed == failed | {"status": "failed", "attempts": 8, "next_attempt_at": None}
        hooks.advance(timedelta(days=3))
        assert await hooks.deliver() == 0
        assert len(server.requests) == 8
        assert len({request.headers["webhook-id"] for request in server.requests}) == 1

        answers.then = Reply(204)
        retry = hooks.path(webhook["id"], "deliveries", failed["id"], "retry")
        response = await hooks.http.post(retry, headers=SERVICE)
        assert response.status_code == 202, response.text
        assert (
            response.json()["delivery"]
            | {
                "status": "pending",
                "next_attempt_at": iso(hooks.clock.now()),
            }
            == response.json()["delivery"]
        )
        assert await hooks.deliver() == 1
        assert server.requests[-1].headers["webhook-id"] == failed["id"]
        revived = await hooks.delivery(webhook["id"])
        assert revived == revived | {"status": "delivered", "attempts": 9, "last_status_code": 204}


async def test_a_disabled_endpoint_is_skipped_until_enabled(hooks: Hooks) -> None:
    with receiver() as server:
        webhook = await hooks.create(server.url)
        assert (await hooks.patch(webhook["id"], enabled=False))["enabled"] is False
        await hooks.book()
        assert await hooks.dispatch() == 1
        hooks.advance(timedelta(hours=1))
        assert await hooks.deliver() == 0
        waiting = await hooks.delivery(webhook["id"])
        assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
        assert (await backlog(hooks.db, hooks.clock.now())).paused == 1
        assert server.requests == []

        assert (await hooks.patch(webhook["id"], enabled=True))["enabled"] is True
        stats = await backlog(hooks.db, hooks.clock.now())
        assert (stats.pending, stats.paused) == (1, 0)
        assert stats.oldest_due_at == hooks.clock.now() - timedelta(hours=1)
        assert await hooks.deliver() == 1
        assert len(server.requests) == 1
        assert (await hooks.delivery(webhook["id"]))["status"] == "delivered"
        assert (await backlog(hooks.db, hooks.clock.now())).pending == 0


async def test_a_deleted_endpoint_gets_nothing_more(hooks: Hooks) -> None:
    with receiver() as server:
        webhook = await hooks.create(server.url)
        await hooks.book(9)
        await hooks.dispatch()
        response = await hooks.http.delete(hooks.path(webhook["id"]), headers=SERVICE)
        assert response.status_code == 204 and response.content == b""
        assert await hooks.deliver() == 0
        await hooks.book(11)
        assert await hooks.dispatch() == 1
        assert await hooks.deliver() == 0
        assert server.requests == []
        listed = await hooks.http.get(hooks.path(), headers=SERVICE)
        assert listed.json() == {"webhooks": []}
        gone = await hooks.http.get(hooks.path(webhook["id"], "deliveries"), headers=SERVICE)
        assert gone.status_code == 404
        assert (await hooks.http.delete(hooks.path(webhook["id"]), headers=SERVICE)).status_code == 404


async def test_concurrent_workers_deliver_each_delivery_exactly_once(hooks: Hooks) -> None:
    with receiver() as server:
        webhooks = [await hooks.create(server.url + f"/{n}") for n in range(3)]
        for hour in (9, 11, 13, 15):
            await hooks.book(hour)
        # Separate sessions each (each call opens its own transactions); on PostgreSQL they really race.
        dispatched = await asyncio.gather(*(hooks.dispatch() for _ in range(4)))
        assert sum(dispatched) == 4
        due = 3 * 4
        attempts = await asyncio.gather(*(hooks.deliver(limit=3) for _ in range(10)))
        total = sum(attempts)
        while made := await hooks.deliver(limit=3):  # what a skipped claim left for later
            total += made
        assert total == due
        ids = [request.headers["webhook-id"] for request in server.requests]
        assert len(ids) == due and len(set(ids)) == due
        for webhook in webhooks:
            assert [d["status"] for d in await hooks.deliveries(webhook["id"])] == ["delivered"] * 4


async def test_deliveries_are_listed_newest_first(hooks: Hooks) -> None:
    with receiver() as server:
        webhook = await hooks.create(server.url)
        first = await hooks.book(9)
        await hooks.dispatch()
        hooks.advance(timedelta(minutes=1))
        second = await hooks.book(11)
        await hooks.dispatch()
        listed = await hooks.deliveries(webhook["id"])
        assert [d["booking_id"] for d in listed] == [second["id"], first["id"]]
        assert [d["booking_id"] for d in await hooks.deliveries(webhook["id"], limit=1)] == [second["id"]]
        for limit in (0, 201, "x"):
            response = await hooks.http.get(
                hooks.path(webhook["id"], "deliveries"), params={"limit": limit}, headers=SERVICE
            )
            assert response.status_code == 422, limit


# --- the API ------------------------------------------------------------------------------------------


async def test_endpoints_are_created_listed_changed_and_deleted(hooks: Hooks) -> None:
    _, admin = await hooks.world.api.admin_of(hooks.brand_id)
    created = await hooks.create(
        "https://hooks.example.com/a", ["booking.created", "booking.created", "booking.no_show"], admin
    )
    assert set(created) == WEBHOOK_KEYS | {"secret"}
    assert created | {"id": None, "secret": None} == {
        "id": None,
        "brand_id": hooks.brand_id,
        "url": "https://hooks.example.com/a",
        "events": ["booking.created", "booking.no_show"],
        "enabled": True,
        "description": None,
        "created_at": iso(hooks.clock.now()),
        "secret": None,
    }
    assert SECRET.fullmatch(created["secret"])
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    hooks.advance(timedelta(seconds=1))  # listed in the order of creation
    other = await hooks.create("http://127.0.0.1:9/b", description="local")
    assert other["secret"] != created["secret"]

    listed = (await hooks.http.get(hooks.path(), headers=admin)).json()["webhooks"]
    assert [w["id"] for w in listed] == [created["id"], other["id"]]
    assert all(set(w) == WEBHOOK_KEYS for w in listed)

    changed = await hooks.patch(
        created["id"], url="https://hooks.example.com/b", events=["*"], description="CRM", enabled=False
    )
    assert set(changed) == WEBHOOK_KEYS
    assert changed == {key: created[key] for key in WEBHOOK_KEYS} | {
        "url": "https://hooks.example.com/b",
        "events": ["*"],
        "description": "CRM",
        "enabled": False,
    }
    assert (await hooks.patch(created["id"], description=None))["description"] is None
    assert (await hooks.patch(created["id"]))["url"] == "https://hooks.example.com/b"

    response = await hooks.http.delete(hooks.path(created["id"]), headers=admin)
    assert response.status_code == 204
    listed = (await hooks.http.get(hooks.path(), headers=SERVICE)).json()["webhooks"]
    assert [w["id"] for w in listed] == [other["id"]]


def long_url() -> str:
    url = "https://hooks.example.com/"
    return url + "a" * (2001 - len(url))


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "not a url"}, "url", "url"),
        ({"url": "ftp://hooks.example.com/x"}, "url", "http"),
        ({"url": "/relative"}, "url", "url"),
        ({"url": "https://user:pw@hooks.example.com/"}, "url", "password"),
        ({"url": long_url()}, "url", "2000"),
        ({"url": 42}, "url", "string"),
        ({"events": ["booking.created", "booking.exploded"]}, "events", "booking.exploded"),
        ({"events": []}, "events", "at least 1"),
        ({"events": "*"}, "events", "list"),
        ({"description": "x" * 1001}, "description", "1000"),
    ],
)
async def test_invalid_webhooks_are_422_naming_the_field(
    hooks: Hooks, body: dict[str, Any], field: str, words: str
) -> None:
    full = {"url": "https://hooks.example.com/", "events": ["*"]} | body
    response = await hooks.http.post(hooks.path(), json=full, headers=SERVICE)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    locs = [detail["loc"] for detail in error["details"]]
    assert any(loc[:2] == ["body", field] for loc in locs), locs
    assert words.lower() in json.dumps(error).lower()
    assert (await hooks.http.get(hooks.path(), headers=SERVICE)).json() == {"webhooks": []}


async def test_a_change_is_checked_like_a_new_endpoint(hooks: Hooks) -> None:
    webhook = await hooks.create("https://hooks.example.com/")
    for body, field in (
        ({"url": "ftp://hooks.example.com/"}, "url"),
        ({"url": None}, "url"),
        ({"events": []}, "events"),
        ({"events": None}, "events"),
        ({"enabled": None}, "enabled"),
        ({"secret": "whsec_mine"}, "secret"),
    ):
        response = await hooks.http.patch(hooks.path(webhook["id"]), json=body, headers=SERVICE)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["loc"][:2] == ["body", field], body
    assert (await hooks.http.get(hooks.path(), headers=SERVICE)).json()["webhooks"] == [
        {key: webhook[key] for key in WEBHOOK_KEYS}
    ]


@pytest.fixture
async def strict_api(database_url: str, clock: FixedClock) -> AsyncIterator[Api]:
    """The production default: ALLOW_PRIVATE_URLS unset."""
    async with running_api(make_settings(database_url), clock) as api:
        yield api


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest/meta-data",
    ],
)
async def test_without_allow_private_urls_plain_http_and_private_addresses_are_422(
    strict_api: Api, url: str
) -> None:
    brand = await strict_api.brand()
    path = f"/api/brands/{brand['id']}/webhooks"
    response = await strict_api.client.post(path, json={"url": url, "events": ["*"]}, headers=SERVICE)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("url: ")
    assert error["details"][0]["loc"] == ["body", "url"]
    assert (await strict_api.client.get(path, headers=SERVICE)).json() == {"webhooks": []}
    # Access comes first: a caller who may not see the brand learns nothing about the URL.
    _, outsider = new_user()
    response = await strict_api.client.post(path, json={"url": url, "events": ["*"]}, headers=outsider)
    assert response.status_code == 404, response.text


async def test_only_the_service_and_the_brands_admins_see_its_webhooks(hooks: Hooks) -> None:
    api = hooks.world.api
    webhook = await hooks.create("https://hooks.example.com/")
    with receiver() as server:
        target = await hooks.create(server.url)
        await hooks.book()
        await hooks.dispatch()
        (delivery,) = await hooks.deliveries(target["id"])
    other_brand = await api.brand(slug="other", name="Other")
    _, other_admin = await api.admin_of(other_brand["id"])
    _, stranger = new_user()
    body = {"url": "https://hooks.example.com/", "events": ["*"]}

    def item_calls(brand_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
        one = hooks.path(webhook["id"], brand_id=brand_id)
        retry = hooks.path(target["id"], "deliveries", delivery["id"], "retry", brand_id=brand_id)
        return [
            ("PATCH", one, {"enabled": False}),
            ("DELETE", one, None),
            ("GET", one + "/deliveries", None),
            ("POST", retry, None),
        ]

    def calls(brand_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
        collection = hooks.path(brand_id=brand_id)
        return [("POST", collection, body), ("GET", collection, None), *item_calls(brand_id)]

    async def status_of(method: str, path: str, json_body: Any, headers: dict[str, str] | None) -> int:
        response = await hooks.http.request(method, path, json=json_body, headers=headers)
        return int(response.status_code)

    mine = hooks.brand_id
    for caller, expected in (
        (None, 401),
        (other_admin, 404),  # another brand's admin
        (stranger, 404),
        (hooks.world.student_headers, 404),
        (hooks.world.instructor_headers, 404),
    ):
        for method, path, json_body in calls(mine):
            assert await status_of(method, path, json_body, caller) == expected, (caller, method, path)
    for method, path, json_body in item_calls(str(other_brand["id"])):
        # The service, asking for this brand's webhook under another brand.
        assert await status_of(method, path, json_body, SERVICE) == 404, (method, path)

    unknown_brand = "00000000-0000-4000-8000-000000000000"
    assert await status_of("GET", hooks.path(brand_id=unknown_brand), None, SERVICE) == 404
    unknown = hooks.path(target["id"], "deliveries", "msg_unknown", "retry")
    assert await status_of("POST", unknown, None, SERVICE) == 404
    elsewhere = hooks.path(webhook["id"], "deliveries", delivery["id"], "retry")
    assert await status_of("POST", elsewhere, None, SERVICE) == 404  # a delivery of another endpoint
    # Nothing changed.
    assert [
        w["enabled"] for w in (await hooks.http.get(hooks.path(), headers=SERVICE)).json()["webhooks"]
    ] == [
        True,
        True,
    ]


async def test_the_secret_is_shown_only_when_created(hooks: Hooks) -> None:
    webhook = await hooks.create("https://hooks.example.com/")
    secret = webhook["secret"]
    answers = [
        await hooks.http.get(hooks.path(), headers=SERVICE),
        await hooks.http.patch(hooks.path(webhook["id"]), json={"description": "x"}, headers=SERVICE),
        await hooks.http.get(hooks.path(webhook["id"], "deliveries"), headers=SERVICE),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert secret not in answer.text and '"secret"' not in answer.text


async def test_the_webhook_operations_are_documented_as_bearer_only_with_their_errors(api: Api) -> None:
    document = (await api.client.get("/openapi.json")).json()
    operations = {
        (method, path): operation
        for path, item in document["paths"].items()
        if path.startswith("/api/brands/{brand_id}/webhooks")
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("post", "/api/brands/{brand_id}/webhooks"),
        ("get", "/api/brands/{brand_id}/webhooks"),
        ("patch", "/api/brands/{brand_id}/webhooks/{webhook_id}"),
        ("delete", "/api/brands/{brand_id}/webhooks/{webhook_id}"),
        ("get", "/api/brands/{brand_id}/webhooks/{webhook_id}/deliveries"),
        ("post", "/api/brands/{brand_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"),
    }
    for operation in operations.values():
        assert operation["security"] == [{"HTTPBearer": []}]
        assert {"401", "404", "422"} <= set(operation["responses"])


async def test_a_pass_activated_is_delivered_with_the_pass_and_no_booking(hooks: Hooks) -> None:
    """A free package's pass is active at once; its event names no booking (SPEC §17)."""
    with receiver() as server:
        webhook = await hooks.create(server.url, ["pass.activated"])
        made = await hooks.http.post(
            f"/api/brands/{hooks.brand_id}/packages",
            json={"name": "Trial", "sessions": 1, "valid_days": 30, "price_amount": 0},
            headers=SERVICE,
        )
        bought = await hooks.http.post(
            "/api/passes",
            json={"package_id": made.json()["package"]["id"]},
            headers=hooks.world.student_headers,
        )
        assert bought.status_code == 201 and bought.json()["pass"]["status"] == "active"
        await hooks.world.booked(f"{TUESDAY}T10:00:00+01:00")  # booking.created: not subscribed
        assert await hooks.dispatch() == 2
        assert await hooks.deliver() == 1
        (request,) = server.requests
        assert verified(webhook["secret"], request, hooks.clock.now())["data"] == {
            "pass": bought.json()["pass"]
        }
        delivery = await hooks.delivery(webhook["id"])
        assert (delivery["event_type"], delivery["booking_id"], delivery["status"]) == (
            "pass.activated",
            None,
            "delivered",
        )
