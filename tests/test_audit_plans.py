"""A brand's audit log reads through its indexes at 100,000 entries: each page of
`GET /api/brands/{id}/audit` (the first, one after a cursor, one target's, a span of instants) is
explained on PostgreSQL as it runs (tests/test_query_plans.py says how); no plan node may scan
`audit_log` sequentially or read more than a few hundred of its rows, and the brand beside it (with as
many entries) changes nothing."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event as sqlalchemy_event

from booking import driver
from booking.brands.activity import encode_cursor
from booking.clock import FixedClock
from booking.migrate import upgrade
from tests.conftest import (
    BACKENDS,
    DEFAULT_NOW,
    asyncpg_dsn,
    create_postgres_database,
    drop_postgres_database,
    postgres_url,
    running_api,
)
from tests.figures import FIGURES
from tests.support import SERVICE, make_settings
from tests.test_query_plans import MAX_ROWS_EXAMINED, Explained, Recorder, check_bounded

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="query plans are checked on PostgreSQL"),
]

NOW = DEFAULT_NOW
ENTRIES = 100_000
WATCHED = ("audit_log",)
TOUCHES_AUDIT = re.compile(r"\baudit_log\b", re.IGNORECASE)

# `count` entries of a brand, one a minute back from now, about 500 targets; the same again for another.
HISTORY_SQL = """
INSERT INTO audit_log
        (brand_id, at, actor_type, actor_id, action, target_type, target_id, student_id, changes)
    SELECT $1, $2::timestamptz - make_interval(mins => n), 'user', $3, 'booking.updated', 'booking',
        ('00000000-0000-0000-0000-' || lpad((n % 500)::text, 12, '0'))::uuid, NULL,
        '{"status": {"before": "pending", "after": "confirmed"}}'
    FROM generate_series(1, $4) AS n
"""


@dataclass
class Scenario:
    calls: dict[str, list[Explained]]
    found: dict[str, int]
    indexes: set[str]


async def _load(url: str, brand_id: uuid.UUID, other_id: uuid.UUID) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for brand in (brand_id, other_id):
            await connection.execute(HISTORY_SQL, brand, NOW, uuid.uuid4(), ENTRIES)
        await connection.execute("VACUUM ANALYZE audit_log")
    finally:
        await connection.close()


async def _run(url: str) -> Scenario:
    async with running_api(make_settings(url), FixedClock(NOW)) as api:
        brand = await api.brand()
        other = await api.brand(slug="other", name="Other")
        await _load(url, uuid.UUID(brand["id"]), uuid.UUID(other["id"]))
        recorder = Recorder(watching=TOUCHES_AUDIT)
        engine = api.app.state.context.db.engine.sync_engine
        sqlalchemy_event.listen(engine, "before_cursor_execute", recorder.before_cursor_execute)
        driver.OBSERVERS.append(recorder.observe_driver)
        found: dict[str, int] = {}
        url_of = f"/api/brands/{brand['id']}/audit"

        async def page(name: str, **params: Any) -> dict[str, Any]:
            answer = await recorder.record(name, api.client.get(url_of, params=params, headers=SERVICE), 200)
            body: dict[str, Any] = answer.json()
            found[name] = len(body["entries"])
            return body

        try:
            first = await page("the newest page", limit=50)
            await page("the page after a cursor", limit=50, cursor=first["next_cursor"])
            # Half the history down: the scan starts at the cursor, not at the newest entry.
            deep = SimpleNamespace(at=NOW - timedelta(minutes=ENTRIES // 2), id=ENTRIES // 2)
            await page("a page half the history down", limit=50, cursor=encode_cursor(deep))  # type: ignore[arg-type]
            target = "00000000-0000-0000-0000-000000000007"
            await page("one target's entries", target_id=target, limit=50)
            span = {
                "from": (NOW - timedelta(days=30)).isoformat(),
                "to": (NOW - timedelta(days=29)).isoformat(),
            }
            await page("a day a month ago", limit=50, **span)
        finally:
            sqlalchemy_event.remove(engine, "before_cursor_execute", recorder.before_cursor_execute)
            driver.OBSERVERS.remove(recorder.observe_driver)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_log'")
    finally:
        await connection.close()
    return Scenario(recorder.calls, found, {row["indexname"] for row in rows})


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    name = create_postgres_database()
    try:
        url = postgres_url(name)
        upgrade(url)
        yield asyncio.run(_run(url))
    finally:
        drop_postgres_database(name)


CALLS = [
    "the newest page",
    "the page after a cursor",
    "a page half the history down",
    "one target's entries",
    "a day a month ago",
]


@pytest.mark.parametrize("call", CALLS)
def test_an_audit_page_reads_through_its_index_at_100000_entries(scenario: Scenario, call: str) -> None:
    explained = scenario.calls.get(call, [])
    assert explained, f"{call}: no statement on audit_log was recorded"
    assert scenario.found[call] == 50, f"{call}: a full page, so that the plan proves something"
    worst = check_bounded(call, explained, scenario.indexes, WATCHED, MAX_ROWS_EXAMINED)
    FIGURES[f"rows of audit_log one plan node examined, at most: {call}"] = worst
