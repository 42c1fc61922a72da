"""The console's Activity view (the brand's audit log) in Debian's Chromium, on both databases.

The site is the console tests' (tests/test_console.py): Acme with Maya Keller in Berlin and Sam Rivera,
its brand admin, in a browser in America/New_York. Changes are made through the API — students' bookings,
the service's change of Maya's hours, the admin's notes on a booking, and the worker's expiry of the
unpaid holds (its hold job run here on the same database with a clock past the holds' end) — and the
view is checked against what `GET /api/brands/{id}/audit` answers: newest first, who, what, about what
and each change's before and after, times as HH:MM in the browser's zone; a booking's entries alone,
a span of dates, the next page of 50; nothing for an instructor who is not an admin; no English left in
Arabic.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from booking.bookings.holds import hold_jobs
from booking.clock import FixedClock
from booking.db import Database, parse_database_url
from booking.i18n import catalogue, translate
from booking.notifications.notifier import Notifier
from booking.worker import Worker
from tests.test_booking_page import browser, contexts_in
from tests.test_console import Server, Site, console_server, next_monday, open_console, seeded_site
from tests.test_console_languages import (
    ARABIC_DIGITS,
    BROWSER_LOCALE,
    contains,
    english_left,
    fragments,
    shown_text,
    texts,
)

__all__ = ["browser", "console_server"]  # fixtures of tests/test_booking_page.py and test_console.py

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

NEW_YORK = ZoneInfo("America/New_York")
CLOCK = re.compile(r"[0-9]{2}:[0-9]{2}$")
NOTES = "Bring the scales"
ROWS = "#activity-table tbody tr"


@pytest.fixture
def site(console_server: Server) -> Site:
    return seeded_site(console_server)


@pytest.fixture
async def contexts(browser: Any) -> AsyncIterator[Any]:
    """New browser contexts in New York, in a language of the test's choosing."""
    async with contexts_in(browser, "America/New_York") as new:
        yield new


def audit(site: Site, **params: Any) -> list[dict[str, Any]]:
    """The brand's whole log, newest first, as the API answers the service."""
    with site.staff() as client:
        response = client.get(f"/api/brands/{site.brand_id}/audit", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def expire_holds(database_url: str, at: datetime) -> int:
    """The worker's hold job, once, with its clock at `at` (the real server keeps real time)."""
    db = Database(parse_database_url(database_url))
    try:
        jobs = hold_jobs(db, Notifier(email=None, sms=None, timeout=1))
        done = await Worker(db, FixedClock(at), jobs).run_once()
        return done["holds"]
    finally:
        await db.dispose()


async def changed_site(site: Site) -> dict[str, Any]:
    """Ana's and Ben's bookings (by themselves), Maya's buffer changed by the service, the admin's notes on
    Ana's booking, then both unpaid holds expired by the worker. Answers Ana's and Ben's bookings."""
    monday = next_monday()
    starts = site.slots(site.maya, monday, monday)
    ana = site.book(site.maya, starts[0], "Ana Lima", "ana@example.com")
    ben = site.book(site.maya, starts[2], "Ben Okafor", "ben@example.org")
    with site.staff() as client:
        hours = client.put(
            f"/api/instructors/{site.maya}/availability",
            json={"brand_id": site.brand_id, "settings": {"buffer_minutes": 15}},
        )
        assert hours.status_code == 200, hours.text
    with httpx.Client(base_url=site.base, timeout=10) as client:
        notes = client.patch(
            f"/api/bookings/{ana['id']}",
            json={"instructor_notes": NOTES},
            headers={"Authorization": f"Bearer {site.admin_token}"},
        )
        assert notes.status_code == 200, notes.text
    holds_end = max(datetime.fromisoformat(b["hold_expires_at"]) for b in (ana, ben))
    assert await expire_holds(site.database_url, holds_end + timedelta(minutes=1)) >= 2
    return {"ana": ana, "ben": ben}


def stamp(instant: str) -> str:
    """As the English page writes an instant in New York: "14 Dec 2026, 18:05"."""
    local = datetime.fromisoformat(instant).astimezone(NEW_YORK)
    month = "Sept" if local.month == 9 else f"{local:%b}"  # British English abbreviates September so
    return f"{local.day} {month} {local.year}, {local:%H:%M}"


def new_york_hhmm(instant: str) -> str:
    return datetime.fromisoformat(instant).astimezone(NEW_YORK).strftime("%H:%M")


async def open_activity(context: Any, site: Site) -> Any:
    page = await open_console(context, site, site.admin_token)
    await page.locator("#tab-activity").click()
    await page.locator("#activity-count:not(:empty)").wait_for()
    return page


def row_of(page: Any, entry: dict[str, Any]) -> Any:
    return page.locator(f'{ROWS}[data-id="{entry["id"]}"]')


async def row_ids(page: Any) -> list[int]:
    ids: list[str] = await page.locator(ROWS).evaluate_all("rows => rows.map((r) => r.dataset.id)")
    return [int(i) for i in ids]


# --- reading the log --------------------------------------------------------------------------------


async def test_the_admin_reads_who_changed_what_newest_first(site: Site, contexts: Any) -> None:
    made = await changed_site(site)
    ana, ben = made["ana"], made["ben"]
    entries = audit(site)
    page = await open_activity(await contexts("en-US"), site)
    await expect(page.locator("#panel-activity h2")).to_have_text("Activity")
    await expect(page.locator("#instructor-field")).to_be_hidden()  # the whole brand's log
    await expect(page.locator(ROWS)).to_have_count(len(entries))
    assert await row_ids(page) == [e["id"] for e in entries], "newest first, as the API answers"
    await expect(page.locator("#activity-count")).to_have_text(f"{len(entries)} changes shown")
    await expect(page.locator("#activity-more")).to_be_hidden()
    headers = page.locator("#activity-table thead th")
    await expect(headers).to_have_text(["When", "Who", "Action", "Item", "Changes"])

    # The worker's expiry of Ana's hold: the newest, the system's.
    expired = next(e for e in entries if e["target_id"] == ana["id"] and e["actor"]["type"] == "system")
    assert entries.index(expired) <= 1, "the newest two are the holds' expiries"
    row = row_of(page, expired)
    await expect(row.locator("th")).to_have_text(stamp(expired["at"]))
    await expect(row.locator(".actor")).to_have_text("System (automatic)")
    await expect(row.locator(".action")).to_have_text("Booking changed")
    await expect(row.locator("td.target")).to_have_text(f"Booking {ana['id'][:8]}")
    await expect(row.locator('li[data-field="status"]')).to_have_text("status: pending → cancelled")
    await expect(row.locator('li[data-field="cancellation_reason"]')).to_have_text(
        "cancellation_reason: — → payment_hold_expired"
    )

    # The admin's notes: "You".
    notes = next(e for e in entries if e["actor"] == {"type": "user", "id": str(site.admin_user)})
    assert notes["changes"] == {"instructor_notes": {"before": None, "after": NOTES}}
    row = row_of(page, notes)
    await expect(row.locator(".actor")).to_have_text("You")
    await expect(row.locator(".changes li")).to_have_text([f"instructor_notes: — → {NOTES}"])

    # The service's change of Maya's buffer.
    hours = next(e for e in entries if e["action"] == "availability.updated")
    assert entries.index(hours) == entries.index(notes) + 1
    row = row_of(page, hours)
    await expect(row.locator(".actor")).to_have_text("Service (API key)")
    await expect(row.locator(".action")).to_have_text("Hours or settings changed")
    await expect(row.locator("td.target")).to_have_text(f"Instructor {site.maya[:8]}")
    await expect(row.locator('li[data-field="settings.buffer_minutes"]')).to_have_text(
        "settings.buffer_minutes: 0 → 15"
    )

    # Ben's booking, made by himself: another user, by the first 8 characters of the id.
    created = next(e for e in entries if e["target_id"] == ben["id"] and e["action"] == "booking.created")
    row = row_of(page, created)
    await expect(row.locator(".actor")).to_have_text(f"User {created['actor']['id'][:8]}")
    await expect(row.locator(".action")).to_have_text("Booking created")
    await expect(row.locator('li[data-field="status"]')).to_have_text("status: — → pending")
    await expect(row.locator('li[data-field="starts_at"]')).to_have_text(  # an instant: as the rows'
        f"starts_at: — → {stamp(ben['starts_at'])}"
    )
    for when in await page.locator(f"{ROWS} th").all_inner_texts():
        assert CLOCK.search(when), when

    # Ana's booking alone, from its button; then all again.
    await row_of(page, notes).get_by_role("button", name=f"Booking {ana['id'][:8]}").click()
    only_ana = audit(site, target_id=ana["id"])
    assert [e["action"] for e in only_ana] == ["booking.updated", "booking.updated", "booking.created"]
    await expect(page.locator(ROWS)).to_have_count(len(only_ana))
    assert await row_ids(page) == [e["id"] for e in only_ana]
    await expect(page.locator("#activity-filtered")).to_have_text(
        f"Only the changes to Booking {ana['id'][:8]}."
    )
    show_all = page.get_by_role("button", name="Show all")
    await expect(show_all).to_be_focused()
    await show_all.click()
    await expect(page.locator(ROWS)).to_have_count(len(entries))
    await expect(page.locator("#activity-filter")).to_be_hidden()

    # A span of days (the browser's): none after tomorrow; To before From is refused here.
    later = datetime.now(NEW_YORK).date() + timedelta(days=2)
    panel = page.get_by_role("tabpanel", name="Activity")
    await panel.get_by_label("From", exact=True).fill(str(later))
    await panel.get_by_role("button", name="Show", exact=True).click()
    await expect(page.locator("#activity-count")).to_have_text("No changes to show.")
    await expect(page.locator(ROWS)).to_have_count(0)
    await panel.get_by_label("To", exact=True).fill(str(later - timedelta(days=1)))
    await panel.get_by_role("button", name="Show", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("To: a date from From on.")
    await panel.get_by_label("From", exact=True).fill("")
    await panel.get_by_role("button", name="Show", exact=True).click()
    await expect(page.locator(ROWS)).to_have_count(len(entries))
    await expect(page.get_by_role("status")).to_have_text("")


async def test_show_more_loads_the_next_fifty_and_a_new_language_rewrites_them(
    site: Site, contexts: Any
) -> None:
    with site.staff() as client:
        for n in range(55):
            renamed = client.patch(f"/api/brands/{site.brand_id}", json={"name": f"Acme Coaching {n}"})
            assert renamed.status_code == 200, renamed.text
    entries = audit(site)
    assert 50 < len(entries) < 100
    page = await open_activity(await contexts("en-US"), site)
    await expect(page.locator(ROWS)).to_have_count(50)
    await expect(page.locator("#activity-count")).to_have_text("50 changes shown")
    first = entries[0]
    await expect(row_of(page, first).locator(".action")).to_have_text("Brand changed")
    await expect(row_of(page, first).locator(".changes li")).to_have_text(
        ["name: Acme Coaching 53 → Acme Coaching 54"]
    )
    more = page.get_by_role("button", name="Show more")
    await more.click()
    await expect(page.locator(ROWS)).to_have_count(len(entries))
    assert await row_ids(page) == [e["id"] for e in entries], "each once, newest first"
    await expect(more).to_be_hidden()
    await expect(page.locator(f"{ROWS} >> nth=50").locator("th")).to_be_focused()  # the first new row
    await page.evaluate("window.notReloaded = true")

    await page.locator("#language").select_option("de")
    await expect(page.locator("#tab-activity")).to_have_text("Aktivität")
    await expect(page.locator(ROWS)).to_have_count(len(entries))
    await expect(page.locator("#activity-count")).to_have_text(f"{len(entries)} Änderungen angezeigt")
    await expect(page.locator("#activity-table thead th")).to_have_text(
        ["Wann", "Wer", "Aktion", "Objekt", "Änderungen"]
    )
    await expect(row_of(page, first).locator(".action")).to_have_text("Marke geändert")
    await expect(row_of(page, first).locator(".actor")).to_have_text("Dienst (API-Schlüssel)")
    assert await page.evaluate("window.notReloaded === true")


async def test_an_instructor_who_is_not_an_admin_has_no_activity(site: Site, contexts: Any) -> None:
    page = await open_console(await contexts("en-US"), site, site.maya_token)
    await expect(page.locator("#who")).to_have_text("Signed in as Maya Keller.")
    await expect(page.get_by_role("tab")).to_have_text(
        ["Bookings", "Schedule", "Insights", "Upcoming", "Awaiting payment", "Past", "Cancelled"]
    )
    await expect(page.locator("#tab-activity")).to_be_hidden()
    await expect(page.locator("#panel-activity")).to_be_hidden()
    async with httpx.AsyncClient(base_url=site.base, timeout=10) as client:
        headers = {"Authorization": f"Bearer {site.maya_token}"}
        refused = await client.get(f"/api/brands/{site.brand_id}/audit", headers=headers)
        assert refused.status_code == 403
        me = await client.get(f"/console/{site.slug}/me", headers=headers)
        assert me.json() == {"brand_admin": False, "instructor_id": site.maya, "user_id": str(site.maya_user)}


# --- languages ----------------------------------------------------------------------------------------

# What the Activity view shows in the scenario below: the test of "no English left" in Arabic looks for
# every English text, and this makes sure that the English view really shows these.
SHOWN = (
    "console.activity",
    "console.activity_when",
    "console.activity_who",
    "console.activity_action",
    "console.activity_item",
    "console.activity_changes",
    "console.activity_log",
    "console.activity_caption",
    "console.activity_shown",
    "console.no_activity",
    "console.show_all",
    "console.activity_filtered",
    "console.activity_only_this",
    "console.actor_you",
    "console.actor_service",
    "console.actor_system",
    "console.actor_user",
    "console.action_booking_created",
    "console.action_booking_updated",
    "console.action_availability_updated",
    "console.action_brand_created",
    "console.action_brand_updated",
    "console.action_brand_admin_created",
    "console.target_booking",
    "console.target_brand",
    "console.target_brand_admin",
)

DATE = """([locale, instant]) => new Intl.DateTimeFormat(locale, {
  day: "numeric", month: "short", year: "numeric", timeZone: "America/New_York"
}).format(new Date(instant))"""


async def shown_words(page: Any) -> str:
    """The shown text (tests/test_console_languages.py's) but the changes' field names and values: data
    as the log holds them ("status: pending → cancelled"), as people's names are."""
    await page.evaluate(
        "() => { for (const n of document.querySelectorAll('#activity .changes bdi')) n.remove(); }"
    )
    return await shown_text(page)


@pytest.mark.parametrize("locale", ["en", "ar"])
async def test_the_activity_view_in_english_and_arabic(site: Site, contexts: Any, locale: str) -> None:
    made = await changed_site(site)
    ana = made["ana"]
    entries = audit(site)
    page = await open_activity(await contexts(BROWSER_LOCALE[locale]), site)
    await expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
    await expect(page.locator(ROWS)).to_have_count(len(entries))
    await expect(page.locator("#activity-count")).to_have_text(
        translate(locale, "console.activity_shown", count=len(entries))
    )
    intl = "en-GB" if locale == "en" else locale
    for entry in entries:  # the date as Intl writes it in the language, the time HH:MM in ASCII digits
        when = await row_of(page, entry).locator("th").inner_text()
        written = await page.evaluate(DATE, [intl, entry["at"]])
        assert when.startswith(written) and when.endswith(new_york_hhmm(entry["at"])), (when, written)
        assert not ARABIC_DIGITS.search(when[len(written) :]), when
    expired = next(e for e in entries if e["target_id"] == ana["id"] and e["actor"]["type"] == "system")
    status = row_of(page, expired).locator('li[data-field="status"]')
    await expect(status).to_have_text(
        translate(locale, "console.activity_change", field="status", before="pending", after="cancelled")
    )
    created = next(e for e in entries if e["target_id"] == ana["id"] and e["action"] == "booking.created")
    starts = await row_of(page, created).locator('li[data-field="starts_at"] .change-after').inner_text()
    written = await page.evaluate(DATE, [intl, ana["starts_at"]])
    assert starts.startswith(written) and starts.endswith(new_york_hhmm(ana["starts_at"])), starts
    assert not ARABIC_DIGITS.search(starts[len(written) :]), starts
    shown = await shown_words(page)

    target = translate(
        locale, "console.activity_target", type=translate(locale, "console.target_booking"), id=ana["id"][:8]
    )
    await row_of(page, expired).locator("td.target button").click()
    await expect(page.locator("#activity-filtered")).to_have_text(
        translate(locale, "console.activity_filtered", target=target)
    )
    await expect(page.locator(ROWS)).to_have_count(3)
    shown += "\n" + await shown_words(page)
    later = datetime.now(NEW_YORK).date() + timedelta(days=2)
    await page.locator("#activity-from").fill(str(later))
    await page.locator("#activity-form button[type=submit]").click()
    await expect(page.locator("#activity-count")).to_have_text(translate(locale, "console.no_activity"))
    shown += "\n" + await shown_text(page)

    if locale == "en":  # the scenario shows what the test looks for
        missing = [
            key
            for key in SHOWN
            if not any(all(contains(shown, f) for f in fragments(t)) for t in texts(catalogue("en")[key]))
        ]
        assert missing == [], "not shown in English"
    else:
        assert english_left(shown, locale) == {}, f"English left in {locale}"
