"""Fixtures: every database test runs on SQLite and on PostgreSQL, each in a throwaway database.

PostgreSQL is required, not optional: set BOOKING_TEST_BACKENDS=sqlite to leave it out knowingly.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from booking.app import create_app
from booking.clock import FixedClock
from booking.config import Settings
from booking.migrate import upgrade
from tests.fake_providers import Providers, fake_providers
from tests.support import SECRET, Api, make_settings

POSTGRES_ADMIN_URL = os.environ.get(
    "BOOKING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [b.strip() for b in os.environ.get("BOOKING_TEST_BACKENDS", "sqlite,postgresql").split(",")]
TABLES = (
    "audit_log",
    "stripe_events",
    "payment_tasks",
    "checkout_sessions",
    "busy_intervals",
    "busy_calendars",
    "calendar_feeds",
    "webhook_deliveries",
    "webhook_endpoints",
    "outbox_messages",
    "events",
    "notification_log",
    "idempotency_keys",
    "booking_events",
    "bookings",
    "series",
    "passes",
    "packages",
    "availability_overrides",
    "availability_weekly",
    "instructor_scheduling_settings",
    "brand_admins",
    "instructors_brands",
    "instructors",
    "brands",
)
DEFAULT_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# The providers' timeout in the in-process tests. The loopback fakes answer in milliseconds, but under the
# whole suite's load on two cores, at 0.5 s a healthy fake was now and then reported unreachable
# (ConnectTimeout; twice in about four thousand tests, never when the test ran alone). The hang tests
# still prove that the timeout bounds the request; they wait this long.
NOTIFY_TIMEOUT = 2.0


def asyncpg_dsn(url: str) -> str:
    """asyncpg wants the postgres:// scheme of libpq URLs."""
    return url.replace("postgresql://", "postgres://", 1)


def postgres_url(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(POSTGRES_ADMIN_URL))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_database() -> str:
    name = f"booking_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return name


def drop_postgres_database(name: str) -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    name = create_postgres_database()
    url = postgres_url(name)
    upgrade(url)
    yield url
    drop_postgres_database(name)


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "booking.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    """A migrated database of the backend, emptied before the test."""
    url: str = request.getfixturevalue(f"{backend}_database")
    asyncio.run(_empty(url, backend))
    return url


async def _empty(url: str, backend: str) -> None:
    if backend == "postgresql":
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        finally:
            await connection.close()
        return
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        for table in TABLES:
            connection.execute(f"DELETE FROM {table}")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@asynccontextmanager
async def running_api(settings: Settings, clock: FixedClock) -> AsyncIterator[Api]:
    app = create_app(settings, clock=clock)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://booking.test") as client:
            yield Api(client, app)
    finally:
        await app.state.context.aclose()


@pytest.fixture
async def api(database_url: str, clock: FixedClock) -> AsyncIterator[Api]:
    async with running_api(make_settings(database_url), clock) as client:
        yield client


@pytest.fixture
def providers() -> Iterator[Providers]:
    with fake_providers() as fakes:
        yield fakes


@pytest.fixture
async def notifying_api(database_url: str, clock: FixedClock, providers: Providers) -> AsyncIterator[Api]:
    """The API with Resend and Twilio pointed at the loopback fakes, and a short provider timeout."""
    settings = make_settings(
        database_url, notification_timeout_seconds=NOTIFY_TIMEOUT, **providers.settings()
    )
    async with running_api(settings, clock) as client:
        yield client


@pytest.fixture
def jwt_secret() -> str:
    return SECRET


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`spread_over_backends("locale")`: a test of the pages in each language runs each language on one
    database, in turn (en on SQLite, de on PostgreSQL, ...; `start=1` begins with PostgreSQL, so that two
    such tests together run every language on both), not every language on both: what it checks is the
    page's words, and both databases still serve the pages. The others are deselected (reported as such,
    never as passed). With one database configured, every value runs on it."""
    if len(BACKENDS) < 2:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("spread_over_backends")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None:
            kept.append(item)
            continue
        name = marker.args[0]
        values = next(m.args[1] for m in item.iter_markers("parametrize") if m.args[0] == name)
        index = list(values).index(callspec.params[name]) + marker.kwargs.get("start", 0)
        backend = next(value for value in callspec.params.values() if value in BACKENDS)
        (kept if BACKENDS[index % len(BACKENDS)] == backend else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.figures import FIGURES

    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")
