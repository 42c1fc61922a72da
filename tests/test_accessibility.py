"""axe-core on the booking page and on each view of the coach console (WCAG 2.0, 2.1 and 2.2 A and AA
rules; Activity as the brand admin, the only one who has it), the Arabic console (right to left) too,
and the console used with the keyboard alone (Tab, Enter, Space), in Debian's Chromium.

The site is the console tests' (tests/test_console.py): Acme with Maya Keller in Berlin and Sam Rivera,
a brand admin, a few bookings so that every list, table and chart has something to show.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.test_booking_page import browser
from tests.test_console import (
    Server,
    Site,
    console_server,
    move_to_the_past,
    next_monday,
    open_console,
    seeded_site,
)

__all__ = ["browser", "console_server"]  # fixtures of tests/test_booking_page.py and test_console.py

async_api = pytest.importorskip("playwright.async_api")
axe_playwright = pytest.importorskip("axe_playwright_python.async_playwright")
expect = async_api.expect

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture
def site(console_server: Server) -> Site:
    found = seeded_site(console_server)
    monday = next_monday()
    maya = found.slots(found.maya, monday, monday)
    found.book(found.maya, maya[0], "Ana Lima", "ana@example.com")
    found.book(found.maya, maya[1], "Ben Okafor", "ben@example.org")
    found.book(found.sam, found.slots(found.sam, monday, monday)[0], "Chloé Martin", "chloe@example.net")
    return found


@pytest.fixture
async def context(browser: Any) -> AsyncIterator[Any]:
    made = await browser.new_context(timezone_id="America/New_York", locale="en-US")
    yield made
    await made.close()


async def assert_no_violations(page: Any, where: str) -> None:
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = await axe_playwright.Axe().run(page, options=options)
    assert results.response["passes"], f"{where}: axe ran no rule"
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


async def test_the_booking_page_has_no_wcag_violations(site: Site, context: Any) -> None:
    page = await context.new_page()
    await page.goto(f"{site.base}/book/{site.slug}#access_token={site.maya_token}")
    await page.locator("body[data-ready=true]").wait_for()
    await page.get_by_role("button", name="Maya Keller").click()
    await page.get_by_label("Date", exact=True).fill(str(next_monday()))
    await page.locator("#slots button").first.wait_for()
    await expect(page.locator("#mine")).to_be_visible()
    await assert_no_violations(page, "booking page")


async def test_every_console_view_has_no_wcag_violations(site: Site, context: Any) -> None:
    for admin in (True, False):
        page = await open_console(context, site, site.admin_token if admin else site.maya_token)
        await expect(page.locator("#booking-list li.row").first).to_be_visible()
        await assert_no_violations(page, "Bookings")
        await page.get_by_role("tab", name="Schedule").click()
        if admin:
            await page.get_by_label("Instructor", exact=True).select_option(label="Maya Keller")
        await expect(page.locator("#preview li")).to_have_count(14)
        await page.get_by_role("tabpanel", name="Schedule").get_by_label("Time", exact=True).fill("10:00")
        await page.get_by_role("button", name="Check a time").click()
        await expect(page.locator("#explanation .verdict")).to_be_visible()
        await assert_no_violations(page, "Schedule")
        await page.get_by_role("tab", name="Insights").click()
        await expect(page.get_by_role("img", name="Sessions per week")).to_be_visible()
        await assert_no_violations(page, "Insights")
        if admin:
            await page.get_by_role("tab", name="Activity").click()
            rows = page.locator("#activity-table tbody tr")
            await expect(rows.first).to_be_visible()
            await rows.first.locator("td.target button").click()  # one target's entries, "Show all"
            await expect(page.get_by_role("button", name="Show all")).to_be_visible()
            await assert_no_violations(page, "Activity")
        else:
            await expect(page.get_by_role("tab", name="Activity")).to_be_hidden()
        await page.close()


async def test_the_arabic_console_has_no_wcag_violations(site: Site, browser: Any) -> None:
    """Right to left (`dir="rtl"`), every text in Arabic: the brand admin's Bookings, Maya's Schedule with
    a checked time, Insights and Activity."""
    context = await browser.new_context(timezone_id="America/New_York", locale="ar-EG")
    try:
        page = await open_console(context, site, site.admin_token)
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.locator("#booking-list li.row").first).to_be_visible()
        await assert_no_violations(page, "Bookings (ar)")
        await page.locator("#tab-schedule").click()
        await page.locator("#instructor").select_option(label="Maya Keller")
        await expect(page.locator("#preview li")).to_have_count(14)
        await page.locator("#check-date").fill(str(next_monday()))
        await page.locator("#check-time").fill("10:00")
        await page.locator("#check-form button[type=submit]").click()
        await expect(page.locator("#explanation .verdict")).to_be_visible()
        await assert_no_violations(page, "Schedule (ar)")
        await page.locator("#tab-insights").click()
        await expect(page.locator("svg.chart")).to_be_visible()
        await assert_no_violations(page, "Insights (ar)")
        await page.locator("#tab-activity").click()
        await expect(page.locator("#activity-table tbody tr").first).to_be_visible()
        await assert_no_violations(page, "Activity (ar)")
    finally:
        await context.close()


async def test_the_console_with_the_keyboard_alone(site: Site, context: Any) -> None:
    """Tab, Enter and Space only: a past session marked no-show, the hours saved, a time checked."""
    past = next(b for b in bookings(site) if b["student_name"] == "Ana Lima")
    with site.staff() as client:
        paid = client.patch(f"/api/bookings/{past['id']}", json={"payment_status": "paid"})
        assert paid.status_code == 200, paid.text
    yesterday = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    await move_to_the_past(site.database_url, past["id"], yesterday)
    page = await open_console(context, site, site.maya_token)
    status = page.get_by_role("status")

    async def tab_to(selector: str) -> None:
        for _ in range(120):
            await page.keyboard.press("Tab")
            if await page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    await tab_to('[data-list="past"]')
    await page.keyboard.press("Enter")
    await expect(page.locator("#booking-list li.row")).to_have_text([re.compile("Ana Lima")])
    await tab_to("#booking-list li.row button:nth-child(2)")  # No-show
    assert await page.evaluate("document.activeElement.textContent") == "No-show"
    await page.keyboard.press("Space")
    await expect(status).to_contain_text("is now No-show.")
    assert site.booking(past["id"])["status"] == "no_show"

    await tab_to("#tab-schedule")
    await page.keyboard.press("Enter")
    await expect(page.locator("#preview li")).to_have_count(14)
    await tab_to("#hours-form button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(status).to_have_text("Hours saved.")
    await tab_to("#check-form button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(status).to_have_text("Check a time: a date and a time.")  # the time was left empty


def bookings(site: Site) -> list[dict[str, Any]]:
    with httpx.Client(base_url=site.base, timeout=10) as client:
        response = client.get(
            "/api/bookings",
            params={"brand_id": site.brand_id},
            headers={"Authorization": f"Bearer {site.admin_token}"},
        )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["bookings"]
    return found
