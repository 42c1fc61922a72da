"""The booking page (SPEC §14) in a real browser: Debian's Chromium, headless, through Playwright.

Each test runs `booking serve` on the test database (both backends) and drives the page as a student
would: a browser context in Asia/Tokyo for an instructor in Berlin, a slot taken between listing and
booking, no token, My bookings, the keyboard alone, and the page framed by an allowed and a forbidden
origin. Times shown are checked against what the API answers, formatted here with `zoneinfo`.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.auth import mint_token
from tests.conftest import BACKENDS, _empty
from tests.fake_stripe import FakeStripe, fake_stripe
from tests.loopback import Recorded, Reply, serve
from tests.servers import booking_process, free_port
from tests.support import SECRET, SERVICE, SERVICE_KEY

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIGN_IN_URL = "https://auth.example.com/sign-in"
SCREENSHOT = Path(__file__).parent.parent / "docs" / "booking-page.png"
BERLIN, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Tokyo")

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat, before anything runs)
        if os.environ.get("CI"):
            pytest.fail("chromium must be installed in CI (.ci/run installs it)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    async with async_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


@asynccontextmanager
async def contexts_in(browser: Any, zone: str) -> AsyncIterator[Callable[[str], Awaitable[Any]]]:
    """New browser contexts in `zone`, each in a language of the caller's choosing; all closed at the
    end (the language tests' `contexts` fixtures)."""
    made: list[Any] = []

    async def new(locale: str) -> Any:
        context = await browser.new_context(timezone_id=zone, locale=locale)
        made.append(context)
        return context

    try:
        yield new
    finally:
        for context in made:
            await context.close()


@dataclass
class Site:
    base: str
    brand_id: str
    instructor_id: str
    embed_port: int  # EMBED_ORIGINS holds http://127.0.0.1:<embed_port>
    slug: str = "acme"

    def token(self, email: str = "student@example.com", student_id: uuid.UUID | None = None) -> str:
        return mint_token(SECRET, sub=str(student_id or uuid.uuid4()), email=email)

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10)

    def slots(self, day: date, zone: str, token: str | None = None, **params: str) -> list[str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        query = {"brand_id": self.brand_id, "from": str(day), "to": str(day), "timezone": zone} | params
        with self.api() as client:
            response = client.get(
                f"/api/instructors/{self.instructor_id}/slots", params=query, headers=headers
            )
        assert response.status_code == 200, response.text
        return [slot["starts_at"] for slot in response.json()["slots"]]

    def book(self, starts_at: str, token: str) -> httpx.Response:
        body = {
            "brand_id": self.brand_id,
            "instructor_id": self.instructor_id,
            "starts_at": starts_at,
            "student_timezone": "Europe/Berlin",
        }
        with self.api() as client:
            return client.post("/api/bookings", json=body, headers={"Authorization": f"Bearer {token}"})

    def series_preview(self, starts_at: str, count: int, token: str) -> list[dict[str, Any]]:
        """POST /api/series/preview of a weekly series from `starts_at`, as that student: its occurrences."""
        body = {
            "brand_id": self.brand_id,
            "instructor_id": self.instructor_id,
            "starts_at": starts_at,
            "student_timezone": "Asia/Tokyo",
            "count": count,
        }
        with self.api() as client:
            response = client.post(
                "/api/series/preview", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        assert response.status_code == 200, response.text
        occurrences: list[dict[str, Any]] = response.json()["occurrences"]
        return occurrences

    def bookings(self) -> list[dict[str, Any]]:
        with self.api() as client:
            response = client.get("/api/bookings", params={"brand_id": self.brand_id}, headers=SERVICE)
        bookings: list[dict[str, Any]] = response.json()["bookings"]
        return bookings

    def sell_pass(self, student_id: uuid.UUID, name: str, sessions: int) -> dict[str, Any]:
        """A package of `sessions`, sold by staff to that student and paid: an active pass."""
        body = {"name": name, "sessions": sessions, "valid_days": 180, "price_amount": 30000}
        with httpx.Client(base_url=self.base, headers=SERVICE, timeout=10) as client:
            made = client.post(f"/api/brands/{self.brand_id}/packages", json=body)
            assert made.status_code == 201, made.text
            sold = client.post(
                "/api/passes",
                json={"package_id": made.json()["package"]["id"], "student_id": str(student_id)},
            )
            assert sold.status_code == 201, sold.text
            paid = client.patch(f"/api/passes/{sold.json()['pass']['id']}", json={"payment_status": "paid"})
            assert paid.status_code == 200, paid.text
        found: dict[str, Any] = paid.json()["pass"]
        assert (found["status"], found["sessions_left"]) == ("active", sessions)
        return found

    def pass_of(self, pass_id: str) -> dict[str, Any]:
        with self.api() as client:
            response = client.get(f"/api/passes/{pass_id}", headers=SERVICE)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()["pass"]
        return found


def a_monday_ahead() -> date:
    """A Monday at least two days ahead (in every zone), inside the 90-day booking window."""
    day = datetime.now(UTC).date() + timedelta(days=2)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def local_hhmm(instant: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(instant).astimezone(zone).strftime("%H:%M")


def local_day_and_time(instant: str, zone: ZoneInfo) -> str:
    """As the page's dayAndTime() shows an instant: "Mon 14 Dec, 18:00"."""
    local = datetime.fromisoformat(instant).astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


@pytest.fixture(scope="module", params=BACKENDS)
def page_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per module and database for the tests that need no settings of their own: each test
    gets its own brand and instructor on it (`site`), so no test sees another's bookings, and the
    server's start and stop (three seconds) are paid once, not per test."""
    database_url = request.getfixturevalue(f"{request.param}_database")
    asyncio.run(_empty(database_url, request.param))
    embed_port = free_port()
    workdir = tmp_path_factory.mktemp("site")
    with booking_process(["serve"], env=site_env(database_url, embed_port), cwd=workdir) as (base, _, _):
        yield Server(base, embed_port)


@pytest.fixture
def site(page_server: Server) -> Site:
    return seeded_site(page_server.base, page_server.embed_port, f"acme-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with fake_stripe() as fake:
        yield fake


@pytest.fixture
def paying_site(database_url: str, tmp_path: Path, stripe: FakeStripe) -> Iterator[Site]:
    """The site with online payment on, Stripe being the loopback fake; Maya at €50.00."""
    env = {key.upper(): value for key, value in stripe.settings().items()}
    with running_site(database_url, tmp_path, env) as found:
        with httpx.Client(base_url=found.base, headers=SERVICE, timeout=10) as client:
            client.patch(f"/api/brands/{found.brand_id}", json={"settings": {"currency": "eur"}})
            priced = client.put(
                f"/api/instructors/{found.instructor_id}/availability",
                json={"brand_id": found.brand_id, "settings": {"price_amount": 5000}},
            )
            assert priced.status_code == 200, priced.text
        yield found


@dataclass(frozen=True)
class Server:
    base: str
    embed_port: int


def site_env(database_url: str, embed_port: int, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    return (extra_env or {}) | {
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
        "LOG_LEVEL": "warning",
        "SIGN_IN_URL": SIGN_IN_URL,
        "EMBED_ORIGINS": f"http://127.0.0.1:{embed_port}",
    }


def seeded_site(base: str, embed_port: int, slug: str = "acme") -> Site:
    """A brand (no pending cap) with Maya Keller, Berlin, Monday to Friday 9:00-17:00, no buffer."""
    with httpx.Client(base_url=base, headers=SERVICE, timeout=10) as client:
        brand = client.post("/api/brands", json={"name": "Acme Coaching", "slug": slug}).json()["brand"]
        client.patch(f"/api/brands/{brand['id']}", json={"settings": {"max_pending_per_student": None}})
        body = {"name": "Maya Keller", "email": "maya@example.com", "timezone": "Europe/Berlin"}
        instructor = client.post("/api/instructors", json=body | {"brand_ids": [brand["id"]]}).json()
        instructor_id = instructor["instructor"]["id"]
        weekly = [{"weekday": d, "start_time": "09:00", "end_time": "17:00"} for d in range(1, 6)]
        response = client.put(
            f"/api/instructors/{instructor_id}/availability",
            json={"brand_id": brand["id"], "weekly": weekly, "settings": {"buffer_minutes": 0}},
        )
        assert response.status_code == 200, response.text
    return Site(base, brand["id"], instructor_id, embed_port, slug)


@contextmanager
def running_site(database_url: str, tmp_path: Path, extra_env: dict[str, str]) -> Iterator[Site]:
    """A server of its own (for settings only some tests have), seeded with the one brand `acme`."""
    embed_port = free_port()
    env = site_env(database_url, embed_port, extra_env)
    with booking_process(["serve"], env=env, cwd=tmp_path) as (base, _, _):
        yield seeded_site(base, embed_port)


@pytest.fixture
async def tokyo(browser: Any) -> AsyncIterator[Any]:
    context = await browser.new_context(timezone_id="Asia/Tokyo", locale="en-US")
    yield context
    await context.close()


async def open_page(context: Any, site: Site, token: str | None = None, query: str = "") -> Any:
    page = await context.new_page()
    fragment = f"#access_token={token}" if token else ""
    await page.goto(f"{site.base}/book/{site.slug}{query}{fragment}")
    await page.locator("body[data-ready=true]").wait_for()
    return page


async def choose(page: Any, day: date) -> Any:
    """Maya, then `day`: answers the slot buttons."""
    await page.get_by_role("button", name="Maya Keller").click()
    await page.get_by_label("Date", exact=True).fill(str(day))
    slots = page.locator("#slots button")
    await slots.first.wait_for()
    return slots


async def starts_shown(slots: Any) -> list[str]:
    return [text.split(" ")[0] for text in await slots.all_inner_texts()]


def slot_button(page: Any, hhmm: str) -> Any:
    """The slot whose accessible name begins with the local start `hhmm`."""
    return page.get_by_role("button", name=re.compile(f"^{hhmm}"))


def outcome(page: Any) -> Any:
    return page.get_by_role("status")


# --- a first visit ---------------------------------------------------------------------------------


async def test_a_first_visit_shows_an_instructor_the_session_length_and_the_next_free_date(
    site: Site, tokyo: Any
) -> None:
    """Nothing to choose before times show: the first instructor is chosen, the session's length said,
    an empty day points to the next date with free times, and zones are named with their offsets."""
    page = await open_page(tokyo, site)
    await expect(page.get_by_role("button", name="Maya Keller")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#price")).to_have_text("60-minute sessions")
    tokyo_option = page.locator("#timezone option[value='Asia/Tokyo']")
    await expect(tokyo_option).to_have_text("(UTC+09:00) Asia/Tokyo")
    assert await page.locator("#timezone option[value='US/Eastern']").count() == 0  # an old alias
    monday = a_monday_ahead()
    await page.get_by_label("Date", exact=True).fill(str(monday - timedelta(days=1)))  # a Sunday: no hours
    await expect(page.locator("#slots")).to_contain_text("No free times on this date.")
    next_free = page.get_by_role("button", name=re.compile("^Next free date"))
    await expect(next_free).to_have_text(f"Next free date: {monday:%a} {monday.day} {monday:%b}")
    await next_free.click()
    await expect(page.get_by_label("Date", exact=True)).to_have_value(str(monday))
    expected = [local_hhmm(start, TOKYO) for start in site.slots(monday, "Asia/Tokyo")]
    await expect(page.locator("#slots button.slot").first).to_be_visible()
    assert await starts_shown(page.locator("#slots button.slot")) == expected


# --- prices ----------------------------------------------------------------------------------------


async def test_a_priced_instructor_shows_the_price_in_the_currencys_own_unit(site: Site, tokyo: Any) -> None:
    """Amounts are in the currency's smallest unit: 5000 is ¥5,000 but €50.00 (never ¥50.00)."""
    shown = [
        ("jpy", 5000, "Price: ¥5,000 for a 60-minute session"),
        ("eur", 5000, "Price: €50.00 for a 60-minute session"),
        ("eur", 0, "Free 60-minute session"),
    ]
    async with httpx.AsyncClient(base_url=site.base, headers=SERVICE, timeout=10) as client:
        for currency, amount, text in shown:
            changed = await client.patch(
                f"/api/brands/{site.brand_id}", json={"settings": {"currency": currency}}
            )
            assert changed.status_code == 200, changed.text
            priced = await client.put(
                f"/api/instructors/{site.instructor_id}/availability",
                json={"brand_id": site.brand_id, "settings": {"price_amount": amount}},
            )
            assert priced.status_code == 200, priced.text
            page = await open_page(tokyo, site)
            await page.get_by_role("button", name="Maya Keller").click()
            price = page.locator("#price")
            await price.wait_for()
            assert await price.inner_text() == text
            await page.close()


# --- booking ---------------------------------------------------------------------------------------


async def test_a_student_in_tokyo_books_a_berlin_instructor_in_their_own_time(site: Site, tokyo: Any) -> None:
    token = site.token()
    requested: list[str] = []
    page = await tokyo.new_page()
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{site.base}/book/{site.slug}#access_token={token}")
    await page.locator("body[data-ready=true]").wait_for()
    assert "#" not in page.url, "the token leaves the address bar"
    assert (
        await page.get_by_label("Time zone", exact=True).input_value() == "Asia/Tokyo"
    )  # the browser's own zone

    monday = a_monday_ahead()
    slots = await choose(page, monday)
    # A Tokyo Monday is Berlin's Sunday 16:00 to Monday 16:00: Berlin 09:00-15:00 are 17:00-23:00 here.
    expected = [local_hhmm(start, TOKYO) for start in site.slots(monday, "Asia/Tokyo")]
    assert expected == ["17:00", "18:00", "19:00", "20:00", "21:00", "22:00", "23:00"]
    assert await starts_shown(slots) == expected
    if os.environ.get("BOOKING_UPDATE_SCREENSHOT"):
        await page.screenshot(path=str(SCREENSHOT), full_page=True)

    await slot_button(page, "18:00").click()
    await page.get_by_label("Name", exact=True).fill("Aiko Tanaka")
    assert (
        await page.get_by_label("Email", exact=True).input_value() == "student@example.com"
    )  # from the token
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(outcome(page)).to_contain_text("Booked 18:00")
    (booking,) = site.bookings()
    assert local_hhmm(booking["starts_at"], TOKYO) == "18:00"
    assert local_hhmm(booking["starts_at"], BERLIN) == "10:00"
    assert (booking["student_timezone"], booking["student_name"]) == ("Asia/Tokyo", "Aiko Tanaka")
    held_until = local_hhmm(booking["hold_expires_at"], TOKYO)
    await expect(outcome(page)).to_contain_text(f"pending, held until {held_until}")
    await expect(page.locator("#my-bookings")).to_contain_text("Maya Keller, pending")
    # The booked time left the list; the token went in no address the page asked for, nor in storage.
    await expect(slots).to_have_count(6)
    assert "18:00" not in await starts_shown(slots)
    assert not [url for url in requested if token in url]
    assert await page.evaluate("localStorage.length + sessionStorage.length") == 0

    # Another zone: the same date there, its own slots, in its own times.
    await page.get_by_label("Time zone", exact=True).select_option("Europe/Berlin")
    berlin_starts = [local_hhmm(start, BERLIN) for start in site.slots(monday, "Europe/Berlin")]
    assert berlin_starts == ["09:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    await expect(slots).to_have_count(7)
    assert await starts_shown(slots) == berlin_starts


async def test_a_slot_taken_meanwhile_says_so_and_refreshes(site: Site, tokyo: Any) -> None:
    """The API's error, by its code, in the page's language (its own message stays English)."""
    page = await open_page(tokyo, site, site.token())
    monday = a_monday_ahead()
    slots = await choose(page, monday)
    first = site.slots(monday, "Asia/Tokyo")[0]
    await slot_button(page, local_hhmm(first, TOKYO)).click()
    assert site.book(first, site.token("other@example.com")).status_code == 201
    refused = site.book(first, site.token("third@example.com"))
    assert refused.json()["error"]["code"] == "slot_unavailable"

    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(outcome(page)).to_have_text("That time has just been taken.")
    await expect(slots).to_have_count(6)
    assert local_hhmm(first, TOKYO) not in await starts_shown(slots)
    assert len(site.bookings()) == 1


async def test_without_a_token_book_explains_how_to_sign_in(site: Site, tokyo: Any) -> None:
    page = await open_page(tokyo, site)
    await (await choose(page, a_monday_ahead())).first.click()  # slots are shown to anyone
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(page.locator("#sign-in")).to_contain_text("Sign in to book")
    link = page.get_by_role("link", name="Sign in")
    assert (await link.get_attribute("href")).startswith(SIGN_IN_URL + "?redirect_to=")
    assert site.bookings() == []


async def test_cancel_and_reschedule_from_my_bookings(site: Site, tokyo: Any) -> None:
    token = site.token()
    monday = a_monday_ahead()
    starts = site.slots(monday, "Europe/Berlin")
    assert site.book(starts[0], token).status_code == 201
    page = await open_page(tokyo, site, token)
    mine = page.locator("#my-bookings li")
    await expect(mine).to_have_count(1)

    await mine.get_by_role("button", name="Reschedule").click()
    await expect(page.get_by_role("button", name="Move here")).to_be_visible()
    targets = page.locator("#slots button")
    await targets.first.wait_for()
    booking_id = site.bookings()[0]["id"]
    allowed = site.slots(monday, "Asia/Tokyo", token, reschedule_of=booking_id)
    assert await starts_shown(targets) == [local_hhmm(start, TOKYO) for start in allowed]
    await slot_button(page, local_hhmm(starts[3], TOKYO)).click()
    await page.get_by_role("button", name="Move here").click()
    await expect(outcome(page)).to_contain_text(f"Moved to {local_hhmm(starts[3], TOKYO)}")
    (moved,) = site.bookings()
    assert (moved["starts_at"], moved["reschedule_count"]) == (starts[3], 1)
    await expect(page.get_by_role("button", name="Book", exact=True)).to_be_visible()

    await page.locator("#my-bookings li").get_by_role("button", name="Cancel").click()
    await expect(outcome(page)).to_contain_text("Cancelled")
    await expect(page.locator("#my-bookings")).to_have_text("No upcoming bookings.")
    assert site.bookings()[0]["status"] == "cancelled"


async def test_a_student_pays_on_stripe_and_comes_back_confirmed(
    paying_site: Site, tokyo: Any, stripe: FakeStripe
) -> None:
    """Book → Pay → Stripe's hosted page (the fake's) → back: the page asks the service, which asks
    Stripe (no webhook is sent here), and shows the booking confirmed."""
    site = paying_site
    page = await open_page(tokyo, site, site.token())
    slots = await choose(page, a_monday_ahead())
    await slots.first.click()
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(outcome(page)).to_contain_text("pending")
    await expect(page.locator("#my-bookings li").get_by_role("button", name="Pay €50.00")).to_be_visible()
    await outcome(page).get_by_role("button", name="Pay €50.00").click()
    await page.wait_for_url(f"{stripe.url}/pay/*")
    await page.get_by_role("button", name="Pay 5000 eur").click()
    await page.wait_for_url(f"{site.base}/book/{site.slug}*")
    await expect(outcome(page)).to_contain_text("is confirmed")
    assert "session_id" not in page.url and "checkout" not in page.url
    (booking,) = site.bookings()
    assert (booking["status"], booking["payment"]["provider"]) == ("confirmed", "stripe")


async def test_booking_with_the_keyboard_alone(site: Site, tokyo: Any) -> None:
    page = await open_page(tokyo, site, site.token(), query=f"?instructor={site.instructor_id}")
    monday = a_monday_ahead()

    async def tab_to(selector: str) -> None:
        for _ in range(60):
            await page.keyboard.press("Tab")
            if await page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    await tab_to("#date")
    await page.keyboard.type(monday.strftime("%m%d%Y"))  # en-US order of the date field
    await page.locator("#slots button").first.wait_for()
    expected = local_hhmm(site.slots(monday, "Asia/Tokyo")[2], TOKYO)
    await tab_to("#slots button:nth-child(3)")
    await page.keyboard.press("Space")
    await tab_to("#name")
    await page.keyboard.type("Kenji")
    await tab_to("#book")
    await page.keyboard.press("Enter")
    await expect(outcome(page)).to_contain_text(f"Booked {expected}")
    assert [b["student_name"] for b in site.bookings()] == ["Kenji"]


# --- weekly series ---------------------------------------------------------------------------------


async def start_weekly(page: Any, site: Site, first: str, sessions: str | None = None) -> Any:
    """Maya, the slot `first`, Weekly (with `sessions`), Book: answers the preview's list items."""
    await choose(page, datetime.fromisoformat(first).astimezone(TOKYO).date())
    await slot_button(page, local_hhmm(first, TOKYO)).click()
    await page.get_by_label("Weekly", exact=True).check()
    if sessions is not None:
        await page.get_by_label("Sessions", exact=True).fill(sessions)
    await page.get_by_role("button", name="Book", exact=True).click()
    return page.get_by_role("list", name=re.compile("weekly sessions")).get_by_role("listitem")


def shown(occurrences: list[dict[str, Any]], taken: int | None = None) -> list[str]:
    """The preview's items for these occurrences, in Tokyo; `taken`: the index shown as taken."""
    return [
        f"{local_day_and_time(o['starts_at'], TOKYO)} — {'Taken' if o['index'] == taken else 'Free'}"
        for o in occurrences
    ]


async def test_a_weekly_series_of_4_in_a_tokyo_browser_for_a_berlin_coach(site: Site, tokyo: Any) -> None:
    """Preview first, in Tokyo's times; then four bookings of one series at one Berlin wall-clock time."""
    token = site.token()
    page = await open_page(tokyo, site, token)
    first = site.slots(a_monday_ahead(), "Asia/Tokyo")[1]  # 18:00 in Tokyo
    occurrences = site.series_preview(first, 4, token)
    assert [o["bookable"] for o in occurrences] == [True] * 4

    items = await start_weekly(page, site, first, sessions="4")
    await expect(items).to_have_text(shown(occurrences))
    assert site.bookings() == [], "a preview books nothing"
    await page.get_by_role("button", name="Book 4 sessions").click()
    await expect(outcome(page)).to_have_text(
        f"Booked 4 weekly sessions from {local_day_and_time(first, TOKYO)} (Asia/Tokyo): pending."
    )
    await expect(items).to_have_count(0)  # the preview is gone
    await expect(page.locator("#my-bookings li span")).to_have_text(
        [
            f"{local_day_and_time(o['starts_at'], TOKYO)} with Maya Keller, pending, weekly session {n}"
            for n, o in enumerate(occurrences, start=1)
        ]
    )

    made = sorted(site.bookings(), key=lambda b: int(b["series_index"]))
    assert [b["series_index"] for b in made] == [0, 1, 2, 3]
    assert len({b["series_id"] for b in made}) == 1 and made[0]["series_id"] is not None
    starts = [datetime.fromisoformat(b["starts_at"]) for b in made]
    assert starts == [datetime.fromisoformat(o["starts_at"]) for o in occurrences]
    assert {local_hhmm(b["starts_at"], BERLIN) for b in made} == {local_hhmm(first, BERLIN)}
    assert [start.astimezone(BERLIN).weekday() for start in starts] == [0] * 4  # Berlin Mondays
    assert [b["student_timezone"] for b in made] == ["Asia/Tokyo"] * 4


async def test_a_weekly_series_with_a_taken_week_offers_only_the_free_sessions(
    site: Site, tokyo: Any
) -> None:
    token = site.token()
    page = await open_page(tokyo, site, token)
    first = site.slots(a_monday_ahead(), "Asia/Tokyo")[1]
    occurrences = site.series_preview(first, 4, token)
    taken = occurrences[1]["starts_at"]
    assert site.book(taken, site.token("other@example.com")).status_code == 201

    items = await start_weekly(page, site, first)  # Sessions: 4 unless changed
    await expect(items).to_have_text(shown(occurrences, taken=1))
    await expect(page.locator("#series")).to_contain_text("1 of the 4 sessions cannot be booked.")
    assert await page.get_by_role("button", name="Book 4 sessions").count() == 0
    await page.get_by_role("button", name="Book the 3 free sessions").click()
    await expect(outcome(page)).to_contain_text(
        f"Booked 3 weekly sessions from {local_day_and_time(first, TOKYO)} (Asia/Tokyo): pending. "
        f"Not booked: {local_day_and_time(taken, TOKYO)} (Taken)."
    )
    mine = [b for b in site.bookings() if b["series_id"] is not None]
    assert sorted(b["series_index"] for b in mine) == [0, 2, 3]


async def test_a_week_taken_after_the_preview_is_named_by_the_409(site: Site, tokyo: Any) -> None:
    """All free in the preview; a week taken before Book 4 sessions: nothing is booked, the 409's
    occurrence is shown taken, and booking the free ones is offered."""
    token = site.token()
    page = await open_page(tokyo, site, token)
    first = site.slots(a_monday_ahead(), "Asia/Tokyo")[1]
    occurrences = site.series_preview(first, 4, token)
    items = await start_weekly(page, site, first)
    await expect(items).to_have_text(shown(occurrences))
    taken = occurrences[2]["starts_at"]
    assert site.book(taken, site.token("other@example.com")).status_code == 201

    await page.get_by_role("button", name="Book 4 sessions").click()
    await expect(outcome(page)).to_have_text(
        f"Nothing was booked: {local_day_and_time(taken, TOKYO)} (Taken) cannot be booked now."
    )
    await expect(items).to_have_text(shown(occurrences, taken=2))
    await expect(page.get_by_role("button", name="Book the 3 free sessions")).to_be_focused()
    assert [b["series_id"] for b in site.bookings()] == [None]


# --- paying with a package ------------------------------------------------------------------------


def pass_option(found: dict[str, Any], left: int, zone: ZoneInfo) -> re.Pattern[str]:
    """The Pay with option of a pass: its last valid day (valid_until is the first instant it does
    not cover) in `zone`; ICU may write September "Sept"."""
    last = (datetime.fromisoformat(found["valid_until"]) - timedelta(milliseconds=1)).astimezone(zone)
    sessions = "1 session left" if left == 1 else f"{left} sessions left"
    return re.compile(f"^{found['name']} — {sessions}, valid until {last.day} {last:%b}t? {last.year}$")


async def test_a_student_pays_with_a_package(site: Site, tokyo: Any) -> None:
    student = uuid.uuid4()
    sold = site.sell_pass(student, "Three sessions", 3)
    page = await open_page(tokyo, site, site.token(student_id=student))
    pay_with = page.get_by_label("Pay with", exact=True)
    await expect(pay_with.locator("option")).to_have_text(["Pay per session", pass_option(sold, 3, TOKYO)])
    await expect(pay_with).to_have_value("")  # paying per session unless chosen
    await pay_with.select_option(sold["id"])
    slots = await choose(page, a_monday_ahead())
    await slots.first.click()
    await page.get_by_role("button", name="Book", exact=True).click()
    await expect(outcome(page)).to_contain_text(": confirmed. Paid with Three sessions: 2 sessions left.")
    assert await outcome(page).get_by_role("button").count() == 0, "no Pay: it is paid"

    (booking,) = site.bookings()
    assert (booking["status"], booking["payment_status"]) == ("confirmed", "paid")
    assert (booking["payment"]["provider"], booking["pass_id"], booking["price"]) == (
        "pass",
        sold["id"],
        None,
    )
    assert site.pass_of(sold["id"])["sessions_left"] == 2
    await expect(pay_with.locator("option").nth(1)).to_have_text(pass_option(sold, 2, TOKYO))
    await expect(
        page.locator("#my-bookings li").get_by_role("button", name=re.compile("^Pay"))
    ).to_have_count(0)


async def test_a_weekly_series_beyond_the_packages_sessions_is_refused_in_words(
    site: Site, tokyo: Any
) -> None:
    student = uuid.uuid4()
    sold = site.sell_pass(student, "One session", 1)
    token = site.token(student_id=student)
    page = await open_page(tokyo, site, token)
    await page.get_by_label("Pay with", exact=True).select_option(sold["id"])
    first = site.slots(a_monday_ahead(), "Asia/Tokyo")[1]
    items = await start_weekly(page, site, first, sessions="2")
    await expect(items).to_have_text(shown(site.series_preview(first, 2, token)))
    await page.get_by_role("button", name="Book 2 sessions").click()
    await expect(outcome(page)).to_have_text(
        "Your package has too few sessions left for this: nothing was booked."
    )
    assert site.bookings() == []
    assert site.pass_of(sold["id"])["sessions_left"] == 1


# --- framing and messages --------------------------------------------------------------------------


def embedder(page_url: str, token: str) -> Any:
    """A page that frames the booking page and gives it a token once it says it is ready."""
    html = f"""<!doctype html><title>Embedder</title>
<iframe id="booking" src="{page_url}" width="900" height="900"></iframe>
<script>
window.addEventListener("message", (event) => {{
  if (event.data && event.data.type === "booking:ready") {{
    document.body.dataset.ready = "true";
    event.source.postMessage({{type: "booking:token", token: "{token}"}}, "*");
  }}
}});
</script>"""

    def answer(_: Recorded) -> Reply:
        return Reply(200, raw=html.encode(), headers={"content-type": "text/html"})

    return answer


async def test_an_allowed_origin_frames_the_page_and_gives_it_a_token(site: Site, browser: Any) -> None:
    context = await browser.new_context(timezone_id="Europe/Berlin")
    with serve(embedder(f"{site.base}/book/{site.slug}", site.token()), port=site.embed_port) as server:
        page = await context.new_page()
        await page.goto(server.url)
        await page.locator("body[data-ready=true]").wait_for()  # the framed page posted booking:ready
        frame = page.frame_locator("#booking")
        await expect(frame.get_by_role("button", name="Maya Keller")).to_be_visible()
        await expect(frame.locator("#my-bookings")).to_have_text("No upcoming bookings.")  # signed in
    await context.close()


async def test_a_forbidden_origin_can_neither_frame_the_page_nor_give_it_a_token(
    site: Site, browser: Any
) -> None:
    context = await browser.new_context(timezone_id="Europe/Berlin")
    with serve(embedder(f"{site.base}/book/{site.slug}", site.token())) as server:
        page = await context.new_page()
        await page.goto(server.url)
        await page.wait_for_load_state("load")
        (framed,) = [frame for frame in page.frames if frame != page.main_frame]
        assert await framed.locator("#instructors").count() == 0, "the frame is refused"
        assert await page.locator("body[data-ready=true]").count() == 0

        # Opened by that origin instead, the page ignores the messages it sends.
        async with context.expect_page() as opened:
            await page.evaluate(f"window.booking = window.open({site.base + '/book/' + site.slug!r})")
        booking_page = await opened.value
        await booking_page.locator("body[data-ready=true]").wait_for()
        await page.evaluate(
            f"window.booking.postMessage({{type: 'booking:token', token: {site.token()!r}}}, '*')"
        )
        await booking_page.get_by_role("button", name="Maya Keller").click()
        await expect(booking_page.locator("#slots")).not_to_be_empty()
        assert await booking_page.locator("#mine").is_hidden(), "no token was taken"
    await context.close()


# --- the HTML and its headers ----------------------------------------------------------------------


async def test_headers_html_and_assets(site: Site) -> None:
    with site.api() as client:
        page = client.get(f"/book/{site.slug}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert f"frame-ancestors 'self' http://127.0.0.1:{site.embed_port}" in policy
        assert "unsafe-inline" not in policy
        scripts = [line for line in page.text.splitlines() if "<script" in line]
        assert all('src="/book/assets/' in line or 'type="application/json"' in line for line in scripts)
        assert "https://" not in page.text.replace(SIGN_IN_URL, "")  # nothing from another origin

        missing = client.get("/book/nobody")
        assert missing.status_code == 404
        assert '<h1 data-i18n="common.not_found">Not found</h1>' in missing.text
        assert client.get(f"/book/{site.slug}", params={"instructor": "not-a-uuid"}).status_code == 422

        versioned = page.text.split('src="')[1].split('"')[0]
        asset = client.get(versioned)
        assert asset.headers["content-type"].startswith("text/javascript")
        assert "immutable" in asset.headers["cache-control"]
        again = client.get("/book/assets/app.js", headers={"If-None-Match": asset.headers["etag"]})
        assert (again.status_code, again.headers["cache-control"]) == (304, "no-cache")
        assert client.get("/book/assets/missing.js").status_code == 404
