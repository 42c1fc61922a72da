"""Every hot call reaches `bookings` (and the busy-calendar time beside it) through an index that bounds its
work: cost must not grow with history.

One brand with 105,000 bookings on PostgreSQL (bench/scale.py: 200 instructors with 500 each, and a
long history for the instructor the calls are made for), and 100,000 rows of busy-calendar time (one
busy hour a day for each instructor). Each call goes through the HTTP API; every statement it sends to
`bookings` or `busy_intervals` is explained (`EXPLAIN ANALYZE`, in a savepoint rolled back at once)
right before it runs, in the call's own transaction, so a write is explained against the rows it
will meet and then runs as if nothing happened. No plan may scan those tables sequentially, and no
plan node may read more than a few hundred rows of them (or entries of their indexes).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event

from bench.scale import load_busy_time, load_history
from booking import driver
from booking.clock import FixedClock
from booking.migrate import upgrade
from tests.booking_world import MON_FRI_9_TO_17
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
from tests.support import REMINDER_KEY, SERVICE, Api, make_settings, new_user, user_headers

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif("postgresql" not in BACKENDS, reason="query plans are checked on PostgreSQL"),
]

NOW = DEFAULT_NOW
MIN_HISTORY = 100_000
# A page of up to 200, a day of due reminders (120 here, each seen twice in the index by the read
# that follows the claim), an instructor's active sessions in the span asked for.
MAX_ROWS_EXAMINED = 300
# A list of the sessions in a date range may read every booking in that range, but no more.
WEEK = (NOW, NOW + timedelta(days=7))
WEEK_LIST = "list: staff, sessions of a week"
SEARCH_LIST = "list: staff, q a part of an email"
SEARCHED_EMAIL = "ada.lovelace-searchable@example.org"
WATCHED = ("bookings", "busy_intervals")
TOUCHES_BOOKINGS = re.compile(r"\b(bookings|busy_intervals)\b", re.IGNORECASE)
TABLE_SCANS = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Tid Scan", "Sample Scan"}


@dataclass
class Explained:
    statement: str
    plan: dict[str, Any]


@dataclass
class Recorder:
    """Explains each statement on `bookings` that the app sends while a call is being recorded."""

    current: list[Explained] | None = None
    calls: dict[str, list[Explained]] = field(default_factory=dict)
    watching: re.Pattern[str] = TOUCHES_BOOKINGS  # the statements explained

    def before_cursor_execute(
        self, conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> None:
        if self.current is None or executemany or not self.watching.search(statement):
            return
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SAVEPOINT plan_check")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters)
            (document,) = cursor.fetchone()
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT plan_check")
            cursor.execute("RELEASE SAVEPOINT plan_check")
            cursor.close()
        plan = json.loads(document) if isinstance(document, str) else document
        self.current.append(Explained(statement, plan[0]))

    async def observe_driver(self, statement: str, values: tuple[Any, ...], connection: Any) -> None:
        """The same for a hot statement, which goes to asyncpg without SQLAlchemy (booking.driver)."""
        if self.current is None or not self.watching.search(statement):
            return
        savepoint = connection.transaction()
        await savepoint.start()
        try:
            document = await connection.fetchval(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, *values
            )
        finally:
            await savepoint.rollback()
        plan = json.loads(document) if isinstance(document, str) else document
        self.current.append(Explained(statement, plan[0]))

    async def record(self, name: str, request: Awaitable[httpx.Response], expected: int) -> httpx.Response:
        self.current = self.calls.setdefault(name, [])
        try:
            response = await request
        finally:
            self.current = None
        assert response.status_code == expected, f"{name}: {response.status_code} {response.text}"
        return response


@dataclass
class People:
    brand_id: str
    instructor_id: str  # the one with the long history
    admin: dict[str, str]
    coach: dict[str, str]  # that instructor's token
    newcomer: dict[str, str]  # an instructor with one booking
    student: dict[str, str]


@dataclass
class Scenario:
    calls: dict[str, list[Explained]]
    found: dict[str, int]  # what each call answered: a plan over nothing would prove nothing
    history: int
    indexes: set[str]  # of bookings
    in_week: int

    def bound(self, call: str) -> int:
        return self.in_week if call == WEEK_LIST else MAX_ROWS_EXAMINED


async def _set_up(api: Api, url: str) -> tuple[People, int]:
    """Through the API, but for the history; then the student books one session with each instructor."""
    client = api.client
    brand = await api.brand()
    _, admin = await api.admin_of(brand["id"])
    coach_user, coach = new_user()
    instructor = await api.instructor([brand["id"]], user_id=coach_user)
    newcomer_user, newcomer = new_user()
    fresh = await api.instructor([brand["id"]], user_id=newcomer_user, name="New Coach")
    for someone in (instructor, fresh):
        body = {"brand_id": brand["id"], "weekly": MON_FRI_9_TO_17}
        url_of = f"/api/instructors/{someone['id']}/availability"
        assert (await client.put(url_of, json=body, headers=SERVICE)).status_code == 200
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        history = await load_history(connection, uuid.UUID(brand["id"]), uuid.UUID(instructor["id"]), NOW)
        assert await load_busy_time(connection, NOW) >= MIN_HISTORY
    finally:
        await connection.close()
    student = user_headers(uuid.uuid4(), email="student@example.com")
    for someone in (instructor, fresh):
        first = (NOW + timedelta(days=2)).date()
        span = {"brand_id": brand["id"], "from": str(first), "to": str(first + timedelta(days=6))}
        slots = (await client.get(f"/api/instructors/{someone['id']}/slots", params=span)).json()["slots"]
        body = {"brand_id": brand["id"], "instructor_id": someone["id"], "starts_at": slots[0]["starts_at"]}
        response = await client.post(
            "/api/bookings", json=body | {"student_timezone": "UTC"}, headers=student
        )
        assert response.status_code == 201, response.text
    # One student the search finds by a part of their email (the history's share one address).
    body |= {"starts_at": slots[-1]["starts_at"], "student_id": str(uuid.uuid4())}
    body |= {"student_email": SEARCHED_EMAIL, "student_name": "Ada Lovelace"}
    response = await client.post("/api/bookings", json=body | {"student_timezone": "UTC"}, headers=SERVICE)
    assert response.status_code == 201, response.text
    return People(brand["id"], instructor["id"], admin, coach, newcomer, student), history


async def _answered(work: Awaitable[Any], results: list[Any]) -> httpx.Response:
    """A call that is not an HTTP request (a worker pass), in the shape `record` takes."""
    results.append(await work)
    return httpx.Response(200)


async def _calls(api: Api, recorder: Recorder, who: People, clock: FixedClock) -> dict[str, int]:
    client, record = api.client, recorder.record
    found: dict[str, int] = {}
    page = {"brand_id": who.brand_id}

    async def listed(name: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
        response = await record(name, client.get("/api/bookings", params=page | params, headers=headers), 200)
        body: dict[str, Any] = response.json()
        found[name] = len(body["bookings"])
        return body

    await listed("list: staff, first page", SERVICE, limit=50)
    # A cursor well into the history: the pending bookings of the past are spread across it.
    deep = (await listed("list: staff, status", who.admin, status="pending", limit=200))["next_cursor"]
    assert deep is not None
    await listed("list: staff, cursor page", SERVICE, limit=50, cursor=deep)
    await listed("list: staff, status and cursor", SERVICE, status="completed", limit=50, cursor=deep)
    await listed(WEEK_LIST, SERVICE, limit=50, **{"from": WEEK[0].isoformat(), "to": WEEK[1].isoformat()})
    await listed("list: instructor with a long history", who.coach, limit=50)
    await listed("list: instructor with one booking", who.newcomer, limit=50)
    await listed("list: student", who.student, limit=50)
    await listed(SEARCH_LIST, who.admin, limit=50, q=SEARCHED_EMAIL[3:13].upper())
    await listed("list: staff, one instructor", SERVICE, limit=50, instructor_id=who.instructor_id)
    newest = (await listed("list: staff, newest first", SERVICE, limit=50, order="desc"))["next_cursor"]
    await listed("list: staff, newest first, cursor page", SERVICE, limit=50, order="desc", cursor=newest)

    first = (NOW + timedelta(days=1)).date()
    span = page | {"from": str(first), "to": str(first + timedelta(days=61))}
    slots_url = f"/api/instructors/{who.instructor_id}/slots"
    slots = (await record("slots: 62 days", client.get(slots_url, params=span), 200)).json()["slots"]
    found["slots: 62 days"] = len(slots)
    body = page | {"instructor_id": who.instructor_id, "starts_at": slots[len(slots) // 2]["starts_at"]}
    body["student_timezone"] = "UTC"
    created = await record("booking", client.post("/api/bookings", json=body, headers=who.student), 201)
    booking_id = created.json()["booking"]["id"]
    found["booking"] = 1
    read = await record(
        "booking: read one", client.get(f"/api/bookings/{booking_id}", headers=who.admin), 200
    )
    found["booking: read one"] = int(read.json()["booking"]["id"] == booking_id)
    calendar_url = f"/api/instructors/{who.instructor_id}/calendar"
    calendar = await record("calendar", client.get(calendar_url, params=page, headers=who.coach), 200)
    found["calendar"] = len(calendar.json()["sessions"])
    key = {"x-booking-reminder-key": REMINDER_KEY}
    reminders = await record("reminder claim", client.post("/api/bookings/reminders", headers=key), 200)
    found["reminder claim"] = reminders.json()["reminded"]
    unlink_url = f"/api/instructors/{who.instructor_id}/brands/{who.brand_id}"
    await record("unlink, refused: sessions to come", client.delete(unlink_url, headers=who.admin), 409)
    found["unlink, refused: sessions to come"] = 1

    # Caps (SPEC §10): the busy read then spans the weeks around the session and counts them.
    caps = {"brand_id": who.brand_id, "settings": {"max_bookings_per_day": 50, "max_bookings_per_week": 200}}
    availability_url = f"/api/instructors/{who.instructor_id}/availability"
    assert (await client.put(availability_url, json=caps, headers=SERVICE)).status_code == 200
    capped = body | {"starts_at": slots[len(slots) // 2 + 3]["starts_at"]}
    name = "booking: capped instructor"
    await record(name, client.post("/api/bookings", json=capped, headers=user_headers(uuid.uuid4())), 201)
    found[name] = 1
    # Holds (SPEC §9): the first booking's hold has run out; a booking of its time cancels it first.
    clock.set(NOW + timedelta(minutes=31))
    name = "booking: takes an expired hold's time"
    taken = await record(
        name, client.post("/api/bookings", json=body, headers=user_headers(uuid.uuid4())), 201
    )
    found[name] = int(taken.json()["booking"]["starts_at"] == body["starts_at"])
    worker = api.app.state.context.worker
    name = "hold expiry: worker pass"
    passes: list[Any] = []
    await record(name, _answered(worker.run_once(), passes), 200)
    found[name] = passes[0]["holds"]  # the capped booking's hold, expired too
    # Reschedule (SPEC §11): the slots that booking may move to, then the move, of a capped instructor.
    moving = taken.json()["booking"]["id"]
    name = "reschedule: slots"
    open_to_it = client.get(slots_url, params=span | {"reschedule_of": moving}, headers=SERVICE)
    targets = (await record(name, open_to_it, 200)).json()["slots"]
    found[name] = len(targets)
    name = "reschedule"
    move = {"starts_at": targets[len(targets) // 2 + 6]["starts_at"]}
    moved = await record(
        name, client.post(f"/api/bookings/{moving}/reschedule", json=move, headers=SERVICE), 200
    )
    found[name] = moved.json()["booking"]["reschedule_count"]
    # Calendars (SPEC §13): the instructor's feed, every booking ending in the last 30 days and after.
    created = await client.post(f"/api/instructors/{who.instructor_id}/calendar-feed", headers=who.coach)
    name = "calendar feed"
    feed = await record(name, client.get(created.json()["url"].removeprefix("http://booking.test")), 200)
    found[name] = feed.text.count("BEGIN:VEVENT")
    return found


async def _catalogue(url: str) -> tuple[set[str], int]:
    """The names of the indexes of the watched tables, and how many bookings start in WEEK."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY($1::text[])", list(WATCHED)
        )
        query = "SELECT count(*) FROM bookings WHERE starts_at >= $1 AND starts_at < $2"
        return {row["indexname"] for row in rows}, await connection.fetchval(query, *WEEK)
    finally:
        await connection.close()


async def _run(url: str) -> Scenario:
    clock = FixedClock(NOW)
    async with running_api(make_settings(url), clock) as api:
        who, history = await _set_up(api, url)
        recorder = Recorder()
        engine = api.app.state.context.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", recorder.before_cursor_execute)
        driver.OBSERVERS.append(recorder.observe_driver)
        try:
            found = await _calls(api, recorder, who, clock)
        finally:
            event.remove(engine, "before_cursor_execute", recorder.before_cursor_execute)
            driver.OBSERVERS.remove(recorder.observe_driver)
    indexes, in_week = await _catalogue(url)
    return Scenario(recorder.calls, found, history, indexes, in_week)


@pytest.fixture(scope="module")
def scenario() -> Iterator[Scenario]:
    name = create_postgres_database()
    try:
        url = postgres_url(name)
        upgrade(url)
        yield asyncio.run(_run(url))
    finally:
        drop_postgres_database(name)


# --- reading plans ----------------------------------------------------------------------------------


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def rows_examined(
    node: dict[str, Any], bookings_indexes: set[str], watched: tuple[str, ...] = WATCHED
) -> int:
    """Rows of a watched table, or entries of its indexes, that one plan node read (0: another node)."""
    loops = int(node.get("Actual Loops", 1))
    if node["Node Type"] in TABLE_SCANS and node.get("Relation Name") in watched:
        removed = node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        return (int(node["Actual Rows"]) + int(removed)) * loops
    if node["Node Type"] == "Bitmap Index Scan" and node.get("Index Name") in bookings_indexes:
        return int(node["Actual Rows"]) * loops
    return 0


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def render(node: dict[str, Any], depth: int = 0) -> str:
    """One line per node, as in EXPLAIN's text format, with the figures the assertions use."""
    target = node.get("Index Name") or node.get("Relation Name") or ""
    figures = [f"rows={node.get('Actual Rows')} loops={node.get('Actual Loops')}"]
    figures += [f"{key}={node[key]}" for key in ("Rows Removed by Filter", "Heap Fetches") if key in node]
    lines = ["  " * depth + f"-> {node['Node Type']} {target} ({', '.join(figures)})"]
    lines += [
        "  " * depth + f"     {key}: {_clip(str(node[key]))}"
        for key in ("Index Cond", "Recheck Cond", "Filter")
        if key in node
    ]
    lines += [render(child, depth + 1) for child in node.get("Plans", [])]
    return "\n".join(lines)


def _show(explained: Explained) -> str:
    return f"{_clip(explained.statement, 1000)}\n{render(explained.plan['Plan'])}"


# --- the checks -------------------------------------------------------------------------------------


CALLS = [
    "list: staff, first page",
    "list: staff, status",
    "list: staff, cursor page",
    "list: staff, status and cursor",
    WEEK_LIST,
    "list: instructor with a long history",
    "list: instructor with one booking",
    "list: student",
    SEARCH_LIST,
    "list: staff, one instructor",
    "list: staff, newest first",
    "list: staff, newest first, cursor page",
    "slots: 62 days",
    "booking",
    "booking: read one",
    "calendar",
    "reminder claim",
    "unlink, refused: sessions to come",
    "booking: capped instructor",
    "booking: takes an expired hold's time",
    "hold expiry: worker pass",
    "reschedule: slots",
    "reschedule",
    "calendar feed",
]
# The calls whose busy read must meet the instructor's busy-calendar time through its index.
READ_BUSY_TIME = ["slots: 62 days", "booking", "reschedule: slots", "reschedule"]


def test_the_history_is_long(scenario: Scenario) -> None:
    assert scenario.history >= MIN_HISTORY


@pytest.mark.parametrize("call", CALLS)
def test_call_reads_bookings_through_a_bounded_index(scenario: Scenario, call: str) -> None:
    explained = scenario.calls.get(call, [])
    assert explained, f"{call}: no statement on bookings was recorded"
    assert scenario.found[call] > 0, f"{call}: the call found nothing, so its plans prove nothing"
    worst = check_bounded(call, explained, scenario.indexes, WATCHED, scenario.bound(call))
    FIGURES[f"rows of bookings or busy time one plan node examined, at most: {call}"] = worst


def check_bounded(
    call: str, explained: list[Explained], indexes: set[str], watched: tuple[str, ...], bound: int
) -> int:
    """No plan node of the call's statements scans a watched table sequentially or reads more than
    `bound` of its rows (or index entries); answers the most one node read."""
    worst = 0
    for one in explained:
        for node in nodes(one.plan["Plan"]):
            scan = node["Node Type"]
            assert not (scan == "Seq Scan" and node.get("Relation Name") in watched), (
                f"{call}: sequential scan of {node.get('Relation Name')}\n{_show(one)}"
            )
            rows = rows_examined(node, indexes, watched)
            assert rows <= bound, f"{call}: {scan} read {rows} rows of {'/'.join(watched)}\n{_show(one)}"
            worst = max(worst, rows)
    return worst


@pytest.mark.parametrize("call", READ_BUSY_TIME)
def test_call_reads_busy_calendar_time_through_its_index(scenario: Scenario, call: str) -> None:
    # Index scans name the index; a bitmap heap scan names the table and its child the index.
    used = {
        node["Index Name"]
        for one in scenario.calls[call]
        for node in nodes(one.plan["Plan"])
        if "busy_intervals" in node.get("Index Name", "")
        or (node.get("Relation Name") == "busy_intervals" and "Index Name" in node)
    }
    assert used == {"ix_busy_intervals_instructor_starts"}, f"{call}: {used}"


def test_the_search_reads_the_trigram_indexes(scenario: Scenario) -> None:
    used = {node.get("Index Name") for one in scenario.calls[SEARCH_LIST] for node in nodes(one.plan["Plan"])}
    assert {"ix_bookings_student_name_trgm", "ix_bookings_student_email_trgm"} <= used, used
