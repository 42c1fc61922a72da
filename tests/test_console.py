"""The coach console in a real browser: Debian's Chromium, headless, through Playwright.

Each test runs `booking serve` on the test database (both backends): the brand Acme with Maya Keller
(Europe/Berlin, who signs in as herself) and Sam Rivera, a brand admin, and another brand whose
instructor Olga is refused. The browser is in America/New_York: the console shows Maya's times in
Berlin, checked against what the API answers, formatted here with `zoneinfo`.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.auth import mint_token
from booking.db import Database, parse_database_url
from booking.models.bookings import Booking
from tests.conftest import BACKENDS, _empty
from tests.servers import booking_process
from tests.support import SECRET, SERVICE, SERVICE_KEY
from tests.test_booking_page import browser

__all__ = ["browser"]  # the fixture of tests/test_booking_page.py, used here

SCREENSHOT = Path(__file__).parent.parent / "docs" / "console.png"
BERLIN = ZoneInfo("Europe/Berlin")

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect


@dataclass
class Site:
    base: str
    database_url: str
    brand_id: str
    maya: str
    sam: str
    other_brand_id: str
    slug: str = "acme"
    # The users of Maya, the brand admin and Olga (an instructor of the other brand): each site its own.
    maya_user: uuid.UUID = field(default_factory=uuid.uuid4)
    admin_user: uuid.UUID = field(default_factory=uuid.uuid4)
    olga_user: uuid.UUID = field(default_factory=uuid.uuid4)

    def token(self, user: uuid.UUID, email: str) -> str:
        return mint_token(SECRET, sub=str(user), email=email)

    @property
    def maya_token(self) -> str:
        return self.token(self.maya_user, "maya@example.com")

    @property
    def admin_token(self) -> str:
        return self.token(self.admin_user, "admin@acme.example")

    def staff(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=SERVICE, timeout=10)

    def slots(self, instructor: str, first: date, last: date, zone: str = "Europe/Berlin") -> list[str]:
        query = {"brand_id": self.brand_id, "from": str(first), "to": str(last), "timezone": zone}
        with self.staff() as client:
            response = client.get(f"/api/instructors/{instructor}/slots", params=query)
        assert response.status_code == 200, response.text
        return [slot["starts_at"] for slot in response.json()["slots"]]

    def book(self, instructor: str, starts_at: str, name: str, email: str) -> dict[str, Any]:
        body = {
            "brand_id": self.brand_id,
            "instructor_id": instructor,
            "starts_at": starts_at,
            "student_timezone": "America/New_York",
            "student_name": name,
            "student_email": email,
        }
        token = mint_token(SECRET, sub=str(uuid.uuid4()), email=email)
        with httpx.Client(base_url=self.base, timeout=10) as client:
            response = client.post("/api/bookings", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        booking: dict[str, Any] = response.json()["booking"]
        return booking

    def booking(self, booking_id: str) -> dict[str, Any]:
        with self.staff() as client:
            response = client.get(f"/api/bookings/{booking_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()["booking"]
        return found


@dataclass(frozen=True)
class Server:
    base: str
    database_url: str


def seeded_site(server: Server) -> Site:
    """Acme (a slug of its own) with Maya Keller (Berlin, her own user) and Sam Rivera (New York), a
    brand admin, and Other Coaching with Olga Berg; Monday to Friday 9:00-17:00, no buffer."""
    tag = uuid.uuid4().hex[:8]
    site = Site(server.base, server.database_url, "", "", "", "", slug=f"acme-{tag}")
    with httpx.Client(base_url=server.base, headers=SERVICE, timeout=10) as client:

        def brand(name: str, slug: str) -> str:
            made = client.post("/api/brands", json={"name": name, "slug": slug})
            assert made.status_code == 201, made.text
            brand_id: str = made.json()["brand"]["id"]
            client.patch(f"/api/brands/{brand_id}", json={"settings": {"max_pending_per_student": None}})
            return brand_id

        def instructor(brand_id: str, name: str, zone: str, user: uuid.UUID | None) -> str:
            body = {
                "name": name,
                "email": f"{name.split()[0].lower()}@example.com",
                "timezone": zone,
                "brand_ids": [brand_id],
                "user_id": None if user is None else str(user),
            }
            made = client.post("/api/instructors", json=body)
            assert made.status_code == 201, made.text
            instructor_id: str = made.json()["instructor"]["id"]
            weekly = [{"weekday": d, "start_time": "09:00", "end_time": "17:00"} for d in range(1, 6)]
            saved = client.put(
                f"/api/instructors/{instructor_id}/availability",
                json={"brand_id": brand_id, "weekly": weekly, "settings": {"buffer_minutes": 0}},
            )
            assert saved.status_code == 200, saved.text
            return instructor_id

        site.brand_id = brand("Acme Coaching", site.slug)
        site.maya = instructor(site.brand_id, "Maya Keller", "Europe/Berlin", site.maya_user)
        site.sam = instructor(site.brand_id, "Sam Rivera", "America/New_York", None)
        admin = client.post(f"/api/brands/{site.brand_id}/admins", json={"user_id": str(site.admin_user)})
        assert admin.status_code == 201, admin.text
        site.other_brand_id = brand("Other Coaching", f"other-{tag}")
        instructor(site.other_brand_id, "Olga Berg", "Europe/Berlin", site.olga_user)
    return site


@pytest.fixture(scope="module", params=BACKENDS)
def console_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per module and database; each test seeds brands and users of its own on it (`site`)."""
    database_url = request.getfixturevalue(f"{request.param}_database")
    asyncio.run(_empty(database_url, request.param))
    env = {
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
        "LOG_LEVEL": "warning",
    }
    with booking_process(["serve"], env=env, cwd=tmp_path_factory.mktemp("console")) as (base, _, _):
        yield Server(base, database_url)


@pytest.fixture
def site(console_server: Server) -> Site:
    return seeded_site(console_server)


@pytest.fixture
async def new_york(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(timezone_id="America/New_York", locale="en-US")
    yield context
    await context.close()


async def open_console(context: Any, site: Site, token: str) -> Any:
    page = await context.new_page()
    await page.goto(f"{site.base}/console/{site.slug}#access_token={token}")
    await page.locator("body[data-ready=true]").wait_for()
    return page


def berlin_today() -> date:
    return datetime.now(BERLIN).date()


def next_monday() -> date:
    """The next Monday in Berlin, one to seven days ahead: inside the 14 days the preview shows."""
    today = berlin_today()
    return today + timedelta(days=7 - today.weekday())


def berlin_hhmm(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(BERLIN).strftime("%H:%M")


def day_and_time(instant: str, zone: ZoneInfo = BERLIN) -> str:
    """As the page's dayAndTime() shows an instant: "Mon 14 Dec, 18:00"."""
    local = datetime.fromisoformat(instant).astimezone(zone)
    month = "Sept" if local.month == 9 else f"{local:%b}"  # British English abbreviates September so
    return f"{local:%a} {local.day} {month}, {local:%H:%M}"


def preview_day(page: Any, day: date) -> Any:
    return page.locator(f'#preview li[data-date="{day}"]')


def status(page: Any) -> Any:
    return page.get_by_role("status")


async def move_to_the_past(database_url: str, booking_id: str, starts_at: datetime) -> None:
    """The real server keeps real time: a past session is made by moving one in the database."""
    db = Database(parse_database_url(database_url))
    try:
        async with db.transaction(write=True) as session:
            booking = await session.get(Booking, uuid.UUID(booking_id))
            assert booking is not None
            length = booking.ends_at - booking.starts_at
            blocked = booking.blocked_until - booking.ends_at
            booking.starts_at, booking.ends_at = starts_at, starts_at + length
            booking.blocked_until = booking.ends_at + blocked
    finally:
        await db.dispose()


# --- schedule --------------------------------------------------------------------------------------


async def test_an_instructor_changes_mondays_hours_and_the_preview_follows_in_berlin_time(
    site: Site, new_york: Any
) -> None:
    page = await open_console(new_york, site, site.maya_token)
    await expect(page.locator("#who")).to_have_text("Signed in as Maya Keller.")
    assert "#" not in page.url, "the token leaves the address bar"
    await page.get_by_role("tab", name="Schedule").click()
    await expect(page.locator("#schedule-zone")).to_have_text("Maya Keller's schedule, in Europe/Berlin.")
    monday = next_monday()
    before = [berlin_hhmm(s) for s in site.slots(site.maya, monday, monday)]
    assert before == ["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    await expect(preview_day(page, monday)).to_have_text(re.compile(f": {', '.join(before)}$"))

    schedule = page.get_by_role("tabpanel", name="Schedule")
    await schedule.get_by_label("Monday from", exact=True).fill("07:30")
    await schedule.get_by_label("Monday to", exact=True).fill("10:30")
    await page.get_by_role("button", name="Save hours").click()
    await expect(status(page)).to_have_text("Hours saved.")
    after = [berlin_hhmm(s) for s in site.slots(site.maya, monday, monday)]
    assert after == ["07:30", "08:30", "09:30"]  # Berlin's wall clock, not New York's
    await expect(preview_day(page, monday)).to_have_text(re.compile(": 07:30, 08:30, 09:30$"))

    # A second window on Monday, then none at all.
    monday_box = schedule.get_by_role("group", name="Monday")
    await monday_box.get_by_role("button", name="Add window").click()
    await monday_box.get_by_label("Monday from").nth(1).fill("14:00")
    await monday_box.get_by_label("Monday to").nth(1).fill("15:00")
    await page.get_by_role("button", name="Save hours").click()
    await expect(preview_day(page, monday)).to_have_text(re.compile(": 07:30, 08:30, 09:30, 14:00$"))
    for _ in range(2):
        await monday_box.get_by_role("button", name="Remove Monday window").first.click()
    await page.get_by_role("button", name="Save hours").click()
    await expect(preview_day(page, monday)).to_have_text(re.compile(": no free times$"))
    assert site.slots(site.maya, monday, monday) == []


async def test_an_instructor_blocks_dates_across_the_dst_change(site: Site, new_york: Any) -> None:
    """2027-03-26..30 span Berlin's spring DST change (28 March) but lie beyond the 14-day preview and
    the default 90-day window: the test raises the window in Settings and reads those dates' slots
    from the API. Five dates from three days ahead show the blocking in the preview itself."""
    page = await open_console(new_york, site, site.maya_token)
    await page.get_by_role("tab", name="Schedule").click()
    schedule = page.get_by_role("tabpanel", name="Schedule")
    await schedule.get_by_label("Advance booking days", exact=True).fill("200")
    await page.get_by_role("button", name="Save settings").click()
    await expect(status(page)).to_have_text("Settings saved.")

    await schedule.get_by_label("From", exact=True).fill("2027-03-26")
    await schedule.get_by_label("To", exact=True).fill("2027-03-30")
    await page.get_by_role("button", name="Block dates").click()
    await expect(status(page)).to_have_text("Blocked Fri, 26 Mar 2027 to Tue, 30 Mar 2027.")
    dst = [str(date(2027, 3, n)) for n in range(26, 31)]
    await expect(page.locator("#overrides li")).to_have_count(5)
    for blocked in dst:
        await expect(page.locator(f'#overrides li[data-date="{blocked}"]')).to_contain_text("blocked")
    assert site.slots(site.maya, date(2027, 3, 25), date(2027, 3, 31)) == [
        *site.slots(site.maya, date(2027, 3, 25), date(2027, 3, 25)),
        *site.slots(site.maya, date(2027, 3, 31), date(2027, 3, 31)),
    ]
    assert site.slots(site.maya, date(2027, 3, 31), date(2027, 3, 31)), "the day after is open"

    first = berlin_today() + timedelta(days=3)
    near = [first + timedelta(days=n) for n in range(5)]
    assert site.slots(site.maya, near[0], near[-1]), "five days hold some weekdays"
    await schedule.get_by_label("From", exact=True).fill(str(near[0]))
    await schedule.get_by_label("To", exact=True).fill(str(near[-1]))
    await page.get_by_role("button", name="Block dates").click()
    for day in near:
        await expect(preview_day(page, day)).to_have_text(re.compile(": no free times$"))
    assert site.slots(site.maya, near[0], near[-1]) == []

    # Clear gives one date back (the 30th is a Tuesday).
    await page.locator('#overrides li[data-date="2027-03-30"]').get_by_role("button", name="Clear").click()
    await expect(status(page)).to_have_text("Cleared Tue, 30 Mar 2027.")
    await expect(page.locator('#overrides li[data-date="2027-03-30"]')).to_have_count(0)
    assert site.slots(site.maya, date(2027, 3, 30), date(2027, 3, 30))


async def test_check_a_taken_time_names_the_booking_in_the_way(site: Site, new_york: Any) -> None:
    monday = next_monday()
    taken = site.slots(site.maya, monday, monday)[1]  # 10:00 in Berlin
    site.book(site.maya, taken, "Ana Lima", "ana@example.com")
    page = await open_console(new_york, site, site.maya_token)
    await page.get_by_role("tab", name="Schedule").click()
    schedule = page.get_by_role("tabpanel", name="Schedule")
    await schedule.get_by_label("Date", exact=True).fill(str(monday))
    await schedule.get_by_label("Time", exact=True).fill("10:00")
    await page.get_by_role("button", name="Check a time").click()

    with site.staff() as client:
        explained = client.get(
            f"/api/instructors/{site.maya}/slots/explain",
            params={"brand_id": site.brand_id, "starts_at": taken, "duration_minutes": 60},
        )
    assert explained.status_code == 200, explained.text
    (reason,) = explained.json()["reasons"]
    assert reason["code"] == "slot_unavailable"
    explanation = page.locator("#explanation")
    await expect(explanation.locator(".verdict")).to_have_text(
        f"{day_and_time(taken)} (Europe/Berlin): not bookable."
    )
    item = explanation.locator('li[data-code="slot_unavailable"]')
    # The reason in the page's words (the API's own message stays English), and what is in the way.
    await expect(item).to_contain_text("Another booking or a busy calendar is in the way.")
    await expect(item.locator("li")).to_have_text(
        [f"A booking at {day_and_time(taken)}, blocking until 11:00"]
    )

    # A free time is bookable.
    await schedule.get_by_label("Time", exact=True).fill("11:00")
    await page.get_by_role("button", name="Check a time").click()
    await expect(explanation.locator(".verdict")).to_have_text(re.compile(": bookable.$"))


# --- bookings --------------------------------------------------------------------------------------


async def test_an_instructor_marks_a_past_session_no_show_and_writes_notes(site: Site, new_york: Any) -> None:
    monday = next_monday()
    starts = site.slots(site.maya, monday, monday)
    past = site.book(site.maya, starts[0], "Ana Lima", "ana@example.com")
    with site.staff() as client:  # paid, so confirmed: a pending booking cannot become no_show
        paid = client.patch(f"/api/bookings/{past['id']}", json={"payment_status": "paid"})
        assert paid.status_code == 200, paid.text
    yesterday = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    await move_to_the_past(site.database_url, past["id"], yesterday)
    upcoming = site.book(site.maya, starts[2], "Ben Okafor", "ben@example.com")

    page = await open_console(new_york, site, site.maya_token)
    rows = page.locator("#booking-list li.row")
    await expect(rows).to_have_count(1)  # Upcoming: Ben's
    when = day_and_time(upcoming["starts_at"])
    await expect(rows.first.locator(".summary")).to_have_text(
        f"{when} (Europe/Berlin): Ben Okafor <ben@example.com> — Pending, unpaid"
    )

    await page.get_by_role("tab", name="Past").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(f"{day_and_time(yesterday.isoformat())} (Europe/Berlin)")
    await rows.first.get_by_role("button", name="No-show").click()
    await expect(status(page)).to_contain_text("is now No-show.")
    await expect(rows.first).to_contain_text("No-show, paid")
    assert site.booking(past["id"])["status"] == "no_show"

    # The API's refusal, by its code (invalid_transition): a pending session cannot be marked completed.
    await page.get_by_role("tab", name="Upcoming").click()
    await expect(rows.first).to_contain_text("Ben Okafor")
    await rows.first.get_by_role("button", name="Completed").click()
    await expect(status(page)).to_have_text("This booking cannot change that way any more.")
    await rows.first.get_by_label("Notes").fill("Bring the scales")
    await rows.first.get_by_role("button", name="Save notes").click()
    await expect(status(page)).to_contain_text("Notes saved")
    assert site.booking(upcoming["id"])["instructor_notes"] == "Bring the scales"
    await rows.first.get_by_role("button", name="Cancel").click()
    await expect(status(page)).to_contain_text("is now Cancelled.")
    await page.get_by_role("tab", name="Cancelled").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Ben Okafor")


async def test_a_brand_admin_filters_by_instructor_and_searches_by_email(site: Site, new_york: Any) -> None:
    monday = next_monday()
    maya_starts = site.slots(site.maya, monday, monday)
    sam_starts = site.slots(site.sam, monday, monday)
    site.book(site.maya, maya_starts[0], "Ana Lima", "ana.lima@example.com")
    site.book(site.maya, maya_starts[1], "Ben Okafor", "ben@example.org")
    site.book(site.sam, sam_starts[-1], "Chloé Martin", "chloe@example.net")

    page = await open_console(new_york, site, site.admin_token)
    await expect(page.locator("#who")).to_have_text("Signed in as a brand admin.")
    rows = page.locator("#booking-list li.row")
    await expect(rows).to_have_count(3)
    select = page.get_by_label("Instructor", exact=True)
    await expect(select.locator("option")).to_have_text(["All instructors", "Maya Keller", "Sam Rivera"])
    await select.select_option(label="Sam Rivera")
    await expect(rows).to_have_count(1)
    sam_when = f"{day_and_time(sam_starts[-1], ZoneInfo('America/New_York'))} (America/New_York)"
    await expect(rows.first.locator(".summary")).to_contain_text(f"{sam_when} with Sam Rivera: Chloé Martin")

    await select.select_option(label="All instructors")
    await expect(rows).to_have_count(3)
    await page.get_by_label("Search", exact=True).fill("LIMA@EXAMPLE")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Ana Lima <ana.lima@example.com>")
    await page.get_by_label("Search", exact=True).fill("example.")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(rows).to_have_count(3)
    await page.get_by_role("tab", name="Awaiting payment").click()
    await expect(rows).to_have_count(3)  # unpaid pending: every one of them
    if os.environ.get("BOOKING_UPDATE_SCREENSHOT"):
        await page.get_by_label("Search", exact=True).fill("")
        await page.get_by_role("tab", name="Upcoming").click()
        await expect(rows).to_have_count(3)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)


async def test_an_instructor_of_another_brand_is_refused(site: Site, new_york: Any) -> None:
    page = await open_console(new_york, site, site.token(site.olga_user, "olga@example.com"))
    await expect(status(page)).to_have_text("You are not allowed to do this.")  # forbidden
    assert await page.get_by_role("tab", name="Bookings").is_hidden()
    async with httpx.AsyncClient(base_url=site.base, timeout=10) as client:
        token = site.token(site.olga_user, "olga@example.com")
        refused = await client.get(f"/console/{site.slug}/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 403
        assert (await client.get(f"/console/{site.slug}/me")).status_code == 401
        missing = await client.get("/console/nobody/me", headers={"Authorization": f"Bearer {token}"})
        assert missing.status_code == 404
        # Her token against this brand's schedule: the API's own refusal.
        put = await client.put(
            f"/api/instructors/{site.maya}/availability",
            json={"brand_id": site.brand_id, "weekly": []},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert put.status_code == 403


async def test_console_headers_and_html(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base, timeout=10) as client:
        page = await client.get(f"/console/{site.slug}")
        booking_page = await client.get(f"/book/{site.slug}")
        missing = await client.get("/console/nobody")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert policy == booking_page.headers["content-security-policy"] and "unsafe-inline" not in policy
    scripts = [line for line in page.text.splitlines() if "<script" in line]
    assert all('src="/book/assets/' in line or 'type="application/json"' in line for line in scripts)
    assert "https://" not in page.text and "style=" not in page.text
    assert '"demoInstructorToken": null' in page.text
    assert missing.status_code == 404


# --- insights --------------------------------------------------------------------------------------


async def test_insights_a_table_and_a_chart_of_the_weeks(site: Site, new_york: Any) -> None:
    monday = next_monday()
    for start in site.slots(site.maya, monday, monday)[:2]:
        site.book(site.maya, start, "Ana Lima", "ana@example.com")
    site.book(site.sam, site.slots(site.sam, monday, monday)[0], "Ben Okafor", "ben@example.org")

    page = await open_console(new_york, site, site.admin_token)
    await page.get_by_role("tab", name="Insights").click()
    table = page.get_by_role("table", name="By instructor")
    await expect(table.get_by_role("row")).to_have_count(3)
    maya_row = table.get_by_role("row", name=re.compile("^Maya Keller"))
    await expect(maya_row.get_by_role("cell").first).to_have_text("2")  # sessions
    await expect(table.get_by_role("row", name=re.compile("^Sam Rivera"))).to_be_visible()
    chart = page.get_by_role("img", name="Sessions per week")
    await expect(chart).to_be_visible()
    week = await page.evaluate(
        "day => new Intl.DateTimeFormat('en-GB', {timeZone: 'UTC', day: 'numeric', month: 'short'})"
        ".format(new Date(day + 'T12:00:00Z'))",
        str(monday),
    )
    assert f"week of {week}, 3 sessions" in (await chart.locator("desc").text_content() or "")

    own = await open_console(new_york, site, site.maya_token)
    await own.get_by_role("tab", name="Insights").click()
    rows = own.get_by_role("table", name="By instructor").get_by_role("row")
    await expect(rows).to_have_count(2)  # the header and her own
    await expect(rows.nth(1)).to_contain_text("Maya Keller")


# --- the demo --------------------------------------------------------------------------------------


async def test_the_demo_prints_the_console_and_offers_its_two_demo_users(
    tmp_path: Path, new_york: Any
) -> None:
    with booking_process(["demo"], env={}, cwd=tmp_path) as (base, _, output):
        printed = output.read_text()
        demo_lines = [line for line in printed.splitlines() if not line.startswith(("INFO", "WARNING"))]
        urls = re.findall(r"http://\S+", "\n".join(demo_lines))
        assert urls[:2] == [f"{base}/book/demo", f"{base}/console/demo"]
        tokens = dict(re.findall(r"  (\w[\w ]*?) token[^:\n]*:\n\s+(\S+)", printed))
        page = await new_york.new_page()
        await page.goto(f"{base}/console/demo")
        await page.locator("body[data-ready=true]").wait_for()
        html = await page.content()
        assert tokens["Instructor"] in html and tokens["Brand admin"] in html
        await page.get_by_role("button", name="Continue as demo instructor").click()
        await expect(page.locator("#who")).to_have_text("Signed in as Maya Keller.")
        await page.reload()
        await page.get_by_role("button", name="Continue as demo brand admin").click()
        await expect(page.locator("#who")).to_have_text("Signed in as a brand admin.")
        await expect(page.get_by_label("Instructor", exact=True).locator("option")).to_have_count(3)
