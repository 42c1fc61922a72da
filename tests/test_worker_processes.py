"""The worker across real processes (SPEC §12), on both databases.

- a server killed (SIGKILL) right after a booking commits: the next worker still delivers its webhook
  and sends its messages; killed right after a cancel of a booking paid through Stripe commits: the
  next worker still refunds it;
- `booking worker` delivers on its own and stops cleanly on SIGTERM;
- three workers and the reminders endpoint racing: each due booking is reminded once.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from booking.clock import FixedClock
from booking.config import Settings
from booking.context import AppContext
from booking.enums import MessageState
from booking.jobs import background_jobs
from booking.models.events import Event
from booking.models.notifications import OutboxMessage
from booking.notifications.outbox import LEASE
from tests.conftest import running_api
from tests.fake_providers import Providers
from tests.fake_stripe import WEBHOOK_SECRET, FakeStripe, event, fake_stripe, payload, signed
from tests.loopback import LoopbackServer, Reply, serve
from tests.servers import booking_process, seed_through, service_env
from tests.support import REMINDER_KEY, SERVICE, make_settings

ROOT = Path(__file__).parent.parent
KEY = {"x-booking-reminder-key": REMINDER_KEY}


def process_env(database_url: str, providers: Providers, **extra: str) -> dict[str, str]:
    # Webhooks go to a loopback receiver; the crash wrapper is imported from the tests package.
    return service_env(database_url, providers, ALLOW_PRIVATE_URLS="true", PYTHONPATH=str(ROOT), **extra)


@contextmanager
def receiver() -> Iterator[LoopbackServer]:
    with serve(lambda _: Reply(200, {})) as server:
        yield server


def webhook_for(base: str, brand_id: str, url: str) -> None:
    created = httpx.post(
        f"{base}/api/brands/{brand_id}/webhooks",
        json={"url": url, "events": ["*"]},
        headers=SERVICE,
        timeout=30,
    )
    assert created.status_code == 201, created.text


def a_booking(target: dict[str, str], hours_ahead: int) -> dict[str, Any]:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours_ahead)
    return {
        **target,
        "starts_at": start.isoformat(),
        "student_timezone": "Europe/Paris",
        "student_id": str(uuid.uuid4()),
        "student_email": "student@example.com",
        "student_phone": "+33612345678",
    }


def deliveries_of(server: LoopbackServer, event_type: str) -> list[dict[str, Any]]:
    bodies = [json.loads(request.body) for request in server.requests]
    return [body for body in bodies if body["type"] == event_type]


def wait_for(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


async def test_a_server_killed_right_after_the_commit_loses_nothing(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    env = process_env(database_url, providers)
    with receiver() as hooks:
        with booking_process(["serve"], env=env, cwd=tmp_path, module="tests.crash_after_commit") as (
            base,
            process,
            _,
        ):
            target = seed_through(base)
            webhook_for(base, target["brand_id"], hooks.url)
            with pytest.raises(httpx.HTTPError):
                await asyncio.to_thread(
                    httpx.post,
                    f"{base}/api/bookings",
                    json=a_booking(target, 30),
                    headers=SERVICE,
                    timeout=30,
                )
            assert process.wait(timeout=15) == -signal.SIGKILL
        assert providers.resend.requests == [] and providers.twilio.requests == []

        settings = make_settings(database_url, allow_private_urls=True, **providers.settings())
        later = FixedClock(datetime.now(UTC) + LEASE + timedelta(seconds=1))
        context = AppContext.from_settings(settings, clock=later, jobs=background_jobs)
        try:
            async with context.db.transaction(write=False) as session:
                (event,) = (await session.scalars(select(Event))).all()
                queued = (await session.scalars(select(OutboxMessage))).all()
            assert {row.status for row in queued} == {MessageState.QUEUED}
            while (await context.worker.run_once()).busy:
                pass
        finally:
            await context.aclose()
        created = deliveries_of(hooks, "booking.created")
        assert [body["data"]["booking"]["id"] for body in created] == [str(event.booking_id)]
        assert len(providers.resend.emails()) == 2 and len(providers.twilio.messages()) == 1


async def test_a_server_killed_right_after_a_cancel_commits_still_refunds(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    """The refund is queued in the cancel's own transaction: the next worker asks Stripe for it."""
    with fake_stripe() as stripe:
        stripe_env = {name.upper(): value for name, value in stripe.settings().items()}
        env = process_env(database_url, providers, **stripe_env)
        settings = make_settings(database_url, **providers.settings(), **stripe.settings())
        with booking_process(["serve"], env=env, cwd=tmp_path, module="tests.crash_after_commit") as (
            base,
            process,
            _,
        ):
            target = seed_through(base)
            async with httpx.AsyncClient(base_url=base, headers=SERVICE, timeout=30) as client:
                priced = await client.put(
                    f"/api/instructors/{target['instructor_id']}/availability",
                    json={"brand_id": target["brand_id"], "settings": {"price_amount": 5000}},
                )
                assert priced.status_code == 200, priced.text
            booking_id = await paid_through_stripe(settings, stripe, a_booking(target, 30))
            with pytest.raises(httpx.HTTPError):
                await asyncio.to_thread(
                    httpx.patch,
                    f"{base}/api/bookings/{booking_id}",
                    json={"status": "cancelled"},
                    headers=SERVICE,
                    timeout=30,
                )
            assert process.wait(timeout=15) == -signal.SIGKILL
        assert stripe.refunds == []

        context = AppContext.from_settings(
            settings, clock=FixedClock(datetime.now(UTC)), jobs=background_jobs
        )
        try:
            while (await context.worker.run_once()).busy:
                pass
        finally:
            await context.aclose()
        assert [(refund["amount"], refund["metadata"]) for refund in stripe.refunds] == [
            (5000, {"booking_id": booking_id})
        ]


async def paid_through_stripe(settings: Settings, stripe: FakeStripe, body: dict[str, Any]) -> str:
    """A booking made and paid through Stripe (checkout, the payer pays, the signed webhook)."""
    now = datetime.now(UTC)
    async with running_api(settings, FixedClock(now)) as api:
        created = await api.client.post("/api/bookings", json=body, headers=SERVICE)
        assert created.status_code == 201, created.text
        booking_id: str = created.json()["booking"]["id"]
        checkout = await api.client.post(f"/api/bookings/{booking_id}/checkout", json={}, headers=SERVICE)
        assert checkout.status_code == 200, checkout.text
        paid = stripe.pay(checkout.json()["checkout"]["id"])
        raw = payload(event("checkout.session.completed", paid))
        hook = await api.client.post(
            "/api/payments/stripe/webhook",
            content=raw,
            headers=signed(raw, int(now.timestamp()), WEBHOOK_SECRET),
        )
        assert hook.status_code == 200
        read = await api.client.get(f"/api/bookings/{booking_id}", headers=SERVICE)
        assert read.json()["booking"]["payment"]["provider"] == "stripe"
        return booking_id


def worker_process(env: dict[str, str], cwd: Path, name: str) -> subprocess.Popen[str]:
    """`booking worker`, once it has started its loop (and so handles SIGTERM)."""
    log = cwd / f"worker-{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "booking.cli", "worker"],
            env={"PATH": "", "HOME": "/"} | env,
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    wait_for(lambda: "worker started" in log.read_text() or process.poll() is not None)
    assert process.poll() is None, log.read_text()
    return process


def stop(process: subprocess.Popen[str]) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_booking_worker_delivers_and_stops_on_sigterm(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    env = process_env(database_url, providers, AUTO_REMINDERS="off")
    with receiver() as hooks, booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, _):
        target = seed_through(base)
        webhook_for(base, target["brand_id"], hooks.url)
        worker = worker_process(env, tmp_path, "one")
        try:
            booked = httpx.post(
                f"{base}/api/bookings", json=a_booking(target, 30), headers=SERVICE, timeout=30
            )
            assert booked.status_code == 201, booked.text
            wait_for(lambda: len(deliveries_of(hooks, "booking.created")) == 1)
            headers = hooks.requests[0].headers
            assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
        finally:
            assert stop(worker) == 0


def test_serve_runs_the_worker_loop_by_default(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    env = process_env(database_url, providers, BOOKING_WORKER="on", AUTO_REMINDERS="off")
    with receiver() as hooks, booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, _):
        target = seed_through(base)
        webhook_for(base, target["brand_id"], hooks.url)
        booked = httpx.post(f"{base}/api/bookings", json=a_booking(target, 30), headers=SERVICE, timeout=30)
        assert booked.status_code == 201, booked.text
        # The commit wakes the server's own worker: no other process delivers here.
        wait_for(lambda: len(deliveries_of(hooks, "booking.created")) == 1, seconds=5)


def test_three_workers_and_the_endpoint_remind_each_booking_once(
    database_url: str, providers: Providers, tmp_path: Path
) -> None:
    env = process_env(database_url, providers)
    with booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, _):
        target = seed_through(base, buffer_minutes=0)
        due = []
        for hours in range(1, 6):
            created = httpx.post(
                f"{base}/api/bookings", json=a_booking(target, hours), headers=SERVICE, timeout=30
            )
            assert created.status_code == 201, created.text
            booking_id = created.json()["booking"]["id"]
            paid = httpx.patch(
                f"{base}/api/bookings/{booking_id}",
                json={"payment_status": "paid"},
                headers=SERVICE,
                timeout=30,
            )
            assert paid.status_code == 200
            due.append(booking_id)
        providers.twilio.requests.clear()
        workers = [worker_process(env, tmp_path, str(n)) for n in range(3)]
        try:

            async def call_endpoint() -> list[str]:
                async with httpx.AsyncClient(timeout=30) as client:
                    answers = await asyncio.gather(
                        *(client.post(f"{base}/api/bookings/reminders", headers=KEY) for _ in range(3))
                    )
                return [r["booking_id"] for a in answers for r in a.json()["results"]]

            by_endpoint = asyncio.run(call_endpoint())
            wait_for(lambda: len(providers.twilio.messages()) >= len(due))
        finally:
            # Stopped workers have finished their passes: a duplicate would have been sent by now.
            codes = [stop(worker) for worker in workers]
    assert codes == [0, 0, 0]
    texts = providers.twilio.messages()
    assert len(texts) == len(due), texts
    assert len(set(by_endpoint)) == len(by_endpoint)
