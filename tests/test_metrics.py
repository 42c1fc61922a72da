"""GET /metrics (SPEC §12, METRICS_TOKEN): who may read it, what it counts, the queues it reads.

The counters are process-wide (see `booking.metrics`): every app of the test session adds to them, so
tests compare a scrape before with one after. The queue gauges are read from the test's own database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from booking import metrics
from booking.clock import FixedClock
from booking.db import Database, parse_database_url
from booking.enums import Audience, Channel, MessageState
from booking.metrics_repository import backlogs
from booking.models.events import Event
from booking.models.notifications import OutboxMessage
from booking.webhooks.delivery import dispatch_events
from tests.booking_world import MONDAY, make_world
from tests.conftest import running_api
from tests.support import SERVICE, SERVICE_KEY, Api, bearer, make_settings

TOKEN = "metrics-token-for-the-tests"
TUESDAY_10 = "2026-12-01T10:00:00+01:00"  # the day after MONDAY, inside the instructor's hours
QUEUE_INDEXES = {
    "events": "ix_events_undispatched",
    "webhook_deliveries": "ix_webhook_deliveries_due",
    "outbox_messages": "ix_outbox_messages_due",
    "payment_tasks": "ix_payment_tasks_due",
}


@pytest.fixture
async def metrics_api(database_url: str, clock: FixedClock) -> AsyncIterator[Api]:
    clock.set(MONDAY)
    # Private URLs allowed: the webhook endpoint of the queue test is never called.
    settings = make_settings(database_url, metrics_token=TOKEN, allow_private_urls=True)
    async with running_api(settings, clock) as api:
        await _forget_queues(api.app.state.context.db)
        yield api


async def _forget_queues(db: Database) -> None:
    # The session-wide test databases are emptied by a list that predates these tables, and SQLite's
    # DELETEs there run without foreign keys: no cascade reaches them.
    async with db.transaction(write=True) as session:
        for table in ("webhook_deliveries", "webhook_endpoints", "events", "outbox_messages"):
            await session.execute(text(f"DELETE FROM {table}"))


async def scrape(api: Api) -> str:
    response = await api.client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return response.text


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` with exactly these labels, or None when there is none."""
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


def count(exposition: str, name: str, **labels: str) -> float:
    return sample(exposition, name, **labels) or 0.0


# --- who may read it ----------------------------------------------------------------------------------


async def test_without_the_token_setting_metrics_is_an_unknown_path(
    database_url: str, clock: FixedClock
) -> None:
    async with running_api(make_settings(database_url, metrics_token=None), clock) as api:
        response = await api.client.get("/metrics", headers=bearer("anything"))
        unknown = await api.client.get("/no-such-path", headers=bearer("anything"))
    assert response.status_code == 404
    assert response.json() == unknown.json()
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("wrong-token"),
        bearer(TOKEN[:-1]),
        bearer(SERVICE_KEY),  # good for the API, not for metrics
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ],
    ids=["none", "wrong", "prefix", "service-key", "basic-scheme", "no-scheme"],
)
async def test_a_missing_or_wrong_token_is_401_in_the_envelope(
    metrics_api: Api, headers: dict[str, str]
) -> None:
    response = await metrics_api.client.get("/metrics", headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthorized"
    assert set(error) == {"code", "message", "details"}
    assert "# TYPE" not in response.text


async def test_the_scheme_is_case_insensitive_and_spaces_around_the_token_do_not_count(
    metrics_api: Api,
) -> None:
    response = await metrics_api.client.get("/metrics", headers={"Authorization": f"bearer  {TOKEN} "})
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_metrics_is_not_in_the_openapi_document(metrics_api: Api) -> None:
    document = (await metrics_api.client.get("/openapi.json")).json()
    assert not any(path.startswith("/metrics") for path in document["paths"])


# --- requests -----------------------------------------------------------------------------------------


async def test_requests_are_counted_and_timed_by_route_template(metrics_api: Api) -> None:
    before = await scrape(metrics_api)
    for _ in range(3):
        assert (await metrics_api.client.get("/api/brands")).status_code == 200
    missing = uuid.uuid4()
    response = await metrics_api.client.get(f"/api/bookings/{missing}", headers=SERVICE)
    assert response.status_code == 404
    assert (await metrics_api.client.get("/no/such/path")).status_code == 404
    after = await scrape(metrics_api)

    brands = {"route": "/api/brands", "method": "GET"}
    requests = "booking_http_requests_total"
    assert (
        count(after, requests, **brands, status="200") - count(before, requests, **brands, status="200") == 3
    )
    durations = "booking_http_request_duration_seconds"
    assert count(after, f"{durations}_count", **brands) - count(before, f"{durations}_count", **brands) == 3
    assert sample(after, f"{durations}_bucket", **brands, le="0.005") is not None
    assert sample(after, f"{durations}_bucket", **brands, le="+Inf") == count(
        after, f"{durations}_count", **brands
    )
    assert count(after, f"{durations}_sum", **brands) > count(before, f"{durations}_sum", **brands)

    # Templates and a fixed word for what matched no route: never the raw path.
    booking = {"route": "/api/bookings/{booking_id}", "method": "GET", "status": "404"}
    assert count(after, requests, **booking) - count(before, requests, **booking) == 1
    unmatched = {"route": metrics.UNMATCHED, "method": "GET", "status": "404"}
    assert count(after, requests, **unmatched) - count(before, requests, **unmatched) == 1
    assert str(missing) not in after
    assert "/no/such/path" not in after
    # The scrape before this one was counted too, under its own path.
    assert count(after, requests, route="/metrics", method="GET", status="200") >= 1


async def test_an_unknown_method_is_counted_as_other(metrics_api: Api) -> None:
    labels = {"route": "/api/brands", "method": metrics.OTHER_METHOD, "status": "405"}
    before = count(await scrape(metrics_api), "booking_http_requests_total", **labels)
    response = await metrics_api.client.request("BREW", "/api/brands")
    assert response.status_code == 405
    after = await scrape(metrics_api)
    assert count(after, "booking_http_requests_total", **labels) == before + 1
    assert "BREW" not in after


# --- queues -------------------------------------------------------------------------------------------


async def test_queue_gauges_follow_events_deliveries_and_messages(
    metrics_api: Api, clock: FixedClock
) -> None:
    empty = await scrape(metrics_api)
    for queue in QUEUE_INDEXES:
        assert sample(empty, "booking_jobs_queued", queue=queue) == 0
        assert sample(empty, "booking_jobs_oldest_age_seconds", queue=queue) == 0

    world = await make_world(metrics_api)
    await world.booked(TUESDAY_10)  # writes a booking.created event in its transaction
    db: Database = metrics_api.app.state.context.db
    clock.set(MONDAY + timedelta(seconds=30))
    exposition = await scrape(metrics_api)
    async with db.transaction(write=False) as session:
        undispatched = await session.scalar(
            select(func.count()).select_from(Event).where(Event.dispatched_at.is_(None))
        )
    assert undispatched is not None and undispatched >= 1
    assert sample(exposition, "booking_jobs_queued", queue="events") == undispatched
    assert sample(exposition, "booking_jobs_oldest_age_seconds", queue="events") == 30

    # The worker's fan-out turns the event into one delivery for the brand's endpoint.
    path = f"/api/brands/{world.brand['id']}/webhooks"
    body = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    assert (await metrics_api.client.post(path, json=body, headers=SERVICE)).status_code == 201
    assert await dispatch_events(db, clock.now()) == undispatched
    clock.set(clock.now() + timedelta(seconds=90))
    exposition = await scrape(metrics_api)
    assert sample(exposition, "booking_jobs_queued", queue="events") == 0
    assert sample(exposition, "booking_jobs_queued", queue="webhook_deliveries") == undispatched
    assert sample(exposition, "booking_jobs_oldest_age_seconds", queue="webhook_deliveries") == 90

    # Messages: those due and still open count; one due later, or one already sent, does not.
    booking_id = uuid.UUID(str((await world.all_bookings())[0]["id"]))
    now = clock.now()
    async with db.transaction(write=True) as session:
        session.add_all(
            [
                _message(booking_id, MessageState.RETRYING, due=now - timedelta(minutes=2)),
                _message(booking_id, MessageState.QUEUED, due=now),
                _message(booking_id, MessageState.QUEUED, due=now + timedelta(minutes=5)),
                _message(booking_id, MessageState.SENT, due=now - timedelta(hours=1)),
            ]
        )
    exposition = await scrape(metrics_api)
    assert sample(exposition, "booking_jobs_queued", queue="outbox_messages") == 2
    assert sample(exposition, "booking_jobs_oldest_age_seconds", queue="outbox_messages") == 120


def _message(booking_id: uuid.UUID, state: MessageState, due: datetime) -> OutboxMessage:
    return OutboxMessage(
        booking_id=booking_id,
        change_id=uuid.uuid4(),
        audience=Audience.STUDENT,
        channel=Channel.EMAIL,
        kind="booking_created",
        recipient="student@example.com",
        message="{}",
        status=state,
        attempts=0,
        next_attempt_at=due,
        give_up_at=due + timedelta(hours=24),
        created_at=due,
    )


async def test_each_queue_is_read_through_its_partial_index(metrics_api: Api, backend: str) -> None:
    db: Database = metrics_api.app.state.context.db
    sent: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            sent.append((statement, parameters))

    async with db.transaction(write=False) as session:
        event.listen(db.engine.sync_engine, "before_cursor_execute", remember)
        try:
            await backlogs(session, MONDAY)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", remember)
        plans = [await _plan(session, backend, statement, parameters) for statement, parameters in sent]
    assert len(plans) == len(QUEUE_INDEXES)
    for plan, index in zip(plans, QUEUE_INDEXES.values(), strict=True):
        assert index in plan, plan


async def _plan(session: AsyncSession, backend: str, statement: str, parameters: Any) -> str:
    connection = await session.connection()
    if backend == "sqlite":
        rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return "\n".join(str(row[-1]) for row in rows)
    # The tables are nearly empty: forbid the sequential scan a planner would rightly prefer, so that
    # the plan shows whether the partial index can answer the statement at all.
    await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(str(row[0]) for row in rows)


async def test_a_scrape_without_the_database_still_answers_the_counters(
    metrics_api: Api, tmp_path: Path
) -> None:
    context = metrics_api.app.state.context
    await context.db.dispose()
    # A SQLite file in a directory that does not exist: every transaction fails to connect.
    context.db = Database(parse_database_url(f"sqlite:///{tmp_path / 'missing' / 'booking.db'}"))
    response = await metrics_api.client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 200
    assert "booking_http_requests_total" in response.text
    assert "booking_jobs_queued" not in response.text


# --- the functions the rest of the code calls ---------------------------------------------------------


def test_reporting_functions_change_the_exposition() -> None:
    registry = metrics.build_registry()
    before = generate_latest(registry).decode()
    metrics.booking_created()
    metrics.booking_refused("slot_unavailable")
    metrics.booking_refused("slot_unavailable")
    metrics.delivery_attempt("retry")
    metrics.provider_call("resend", "sent", 0.2)
    after = generate_latest(registry).decode()

    def grew(name: str, **labels: str) -> float:
        return count(after, name, **labels) - count(before, name, **labels)

    assert grew("booking_bookings_created_total") == 1
    assert grew("booking_bookings_refused_total", code="slot_unavailable") == 2
    assert grew("booking_webhook_delivery_attempts_total", outcome="retry") == 1
    assert grew("booking_webhook_delivery_attempts_total", outcome="delivered") == 0
    assert sample(after, "booking_webhook_delivery_attempts_total", outcome="failed") is not None
    provider = {"provider": "resend", "outcome": "sent"}
    assert grew("booking_provider_call_duration_seconds_count", **provider) == 1
    assert grew("booking_provider_call_duration_seconds_bucket", **provider, le="0.25") == 1
    assert grew("booking_provider_call_duration_seconds_bucket", **provider, le="0.1") == 0
    assert "process_resident_memory_bytes" in after or sys.platform != "linux"


def test_apps_in_one_process_each_have_a_registry_and_share_the_counts() -> None:
    first, second = metrics.build_registry(), metrics.build_registry()  # no clash over names
    metrics.booking_created()
    created = [sample(generate_latest(r).decode(), "booking_bookings_created_total") for r in (first, second)]
    assert created[0] is not None and created[0] >= 1
    assert created[0] == created[1]


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    report = (
        "from booking import metrics; metrics.booking_created(); "
        "metrics.observe_request('/api/brands', 'GET', 200, 0.002)"
    )
    environment = os.environ | {metrics.MULTIPROCESS_DIR: str(tmp_path / "prometheus")}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", report], env=environment, check=True, timeout=60)
    exposition = generate_latest(metrics.build_registry(str(tmp_path / "prometheus"))).decode()
    assert sample(exposition, "booking_bookings_created_total") == 2
    brands = {"route": "/api/brands", "method": "GET"}
    assert sample(exposition, "booking_http_requests_total", **brands, status="200") == 2
    assert sample(exposition, "booking_http_request_duration_seconds_count", **brands) == 2


def test_prepare_multiprocess_dir_keeps_only_this_process_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(metrics.MULTIPROCESS_DIR, str(tmp_path))
    stale, own = tmp_path / "counter_1.db", tmp_path / f"counter_{os.getpid()}.db"
    stale.write_bytes(b"")
    own.write_bytes(b"")
    metrics.prepare_multiprocess_dir()
    assert not stale.exists()
    assert own.exists()
