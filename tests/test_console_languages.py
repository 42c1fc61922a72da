"""The coach console in each of its seven languages (SPEC §19), in Debian's Chromium through Playwright.

For each locale a browser of that language opens the console once, as Acme's brand admin, and goes
through the three views: Bookings (a paid and an unpaid booking of Maya Keller's, one of Sam Rivera's),
Schedule (Maya's: dates blocked, a taken time checked) and Insights. The visible text — with the
accessible names, placeholders and titles, and the chart's title and description — must hold no English
text of the catalogues (each English text, cut at its placeholders, is looked for as whole words, unless
the locale's own text for that key is the same; people's, brands' and the languages' own names are left
out); the weekdays and months are the ones the browser's `Intl` writes in that locale, and the times of
day `HH:MM` in ASCII digits, Arabic included. Then the Language select switches a console in place.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from booking.i18n import Entry, catalogue, translate
from booking.types import LOCALES
from tests.test_booking_page import browser, contexts_in
from tests.test_console import (
    Server,
    Site,
    berlin_hhmm,
    berlin_today,
    console_server,
    next_monday,
    open_console,
    seeded_site,
)

__all__ = ["browser", "console_server"]  # fixtures of tests/test_booking_page.py and test_console.py

async_api = pytest.importorskip("playwright.async_api")
expect = async_api.expect

# The browser's language (Playwright sets Accept-Language, navigator.languages and Intl's default from it).
BROWSER_LOCALE = {
    "en": "en-US",
    "de": "de-DE",
    "fr": "fr-FR",
    "es": "es-ES",
    "pt-BR": "pt-BR",
    "ja": "ja-JP",
    "ar": "ar-EG",
}
PRICE = 5000  # €50.00
STUDENTS = (
    ("Ana Lima", "ana@example.com"),
    ("Ben Okafor", "ben@example.org"),
    ("Chloé Martin", "chloe@example.net"),
)
# People's and brands' names and the students' addresses: never translated.
NAMES = ("Maya Keller", "Sam Rivera", "Acme Coaching", *(part for student in STUDENTS for part in student))
SECTIONS = ("console", "common", "error")  # the catalogue sections the console shows
PLACEHOLDER = re.compile(r"\{\w+\}")
ARABIC_DIGITS = re.compile(r"[\u0660-\u0669\u06f0-\u06f9]")
CLOCK = re.compile(r"^[0-9]{2}:[0-9]{2}$")

# What the English console shows in the scenario below, keys of its texts: the test of "no English left"
# looks for every English text, and this makes sure that the scenario really shows these.
SHOWN = (
    "common.language",
    "console.title",
    "console.views",
    "console.bookings",
    "console.schedule",
    "console.insights",
    "console.instructor",
    "console.all_instructors",
    "console.signed_in_admin",
    "console.which_bookings",
    "console.list_upcoming",
    "console.list_awaiting",
    "console.list_past",
    "console.list_cancelled",
    "console.search",
    "console.search_placeholder",
    "console.bookings_list",
    "console.bookings_shown",
    "console.summary_with",
    "console.status_pending",
    "console.status_confirmed",
    "console.paid_price",
    "console.unpaid_price",
    "console.mark_completed",
    "console.mark_no_show",
    "console.cancel",
    "console.notes",
    "console.save_notes",
    "console.schedule_of",
    "console.weekly_hours",
    "console.day_from",
    "console.day_to",
    "console.add_window",
    "console.remove",
    "console.remove_window",
    "console.save_hours",
    "console.time_format",
    "console.time_off",
    "console.from",
    "console.to",
    "console.block_dates",
    "console.overrides",
    "console.blocked_days",
    "console.override",
    "console.override_blocked",
    "console.clear",
    "console.settings",
    "console.setting_session_minutes",
    "console.setting_buffer_minutes",
    "console.setting_slot_interval_minutes",
    "console.setting_advance_booking_days",
    "console.setting_min_notice_minutes",
    "console.setting_cancellation_cutoff_hours",
    "console.setting_reschedule_cutoff_hours",
    "console.setting_payment_hold_minutes",
    "console.setting_max_bookings_per_day",
    "console.setting_max_bookings_per_week",
    "console.setting_price_amount",
    "console.setting_refund_percent",
    "console.setting_location",
    "console.save_settings",
    "console.next_days",
    "console.preview_day",
    "console.no_free_times",
    "console.check_time",
    "console.date",
    "console.time",
    "console.not_bookable",
    "console.reason_slot_unavailable",
    "console.blocker_booking",
    "console.show",
    "console.insights_region",
    "console.by_instructor",
    "console.column_sessions",
    "console.column_hours",
    "console.column_completed",
    "console.column_no_show",
    "console.column_cancelled_by_student",
    "console.column_cancelled_by_staff",
    "console.column_expired_holds",
    "console.column_no_show_rate",
    "console.column_revenue_paid",
    "console.column_revenue_refunded",
    "console.sessions_per_week",
    "console.chart_description",
    "console.chart_week",
    "console.chart_caption",
)


# The console's texts that are the same as the English ones, words and all (not only placeholders and
# punctuation): a key left untranslated would be missed by the test of "no English left".
SAME_AS_ENGLISH = {"fr": {"console.date", "console.notes"}, "es": {"console.instructor"}}


def texts(entry: Entry) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry.values())


def fragments(entry: Entry) -> set[str]:
    """The literal runs of an English text between its placeholders that hold a word ("Signed in as" of
    "Signed in as {name}.", "from" of "{day} from")."""
    found = set()
    for text in texts(entry):
        for run in PLACEHOLDER.split(text):
            run = run.strip(" .,:;()—-")
            if re.search(r"[A-Za-z]{2}", run):
                found.add(run)
    return found


def contains(text: str, fragment: str) -> bool:
    """`fragment` in `text` as whole words (so "to" is not found in "Tokyo")."""
    return re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", text) is not None


def english_left(text: str, locale: str) -> dict[str, str]:
    """Each English text of the console's sections found in `text`, by key: none may be, but for a key
    whose text is the same in `locale` ("Notes" in French)."""
    found = {}
    for key, entry in catalogue("en").items():
        if key.split(".")[0] not in SECTIONS or catalogue(locale)[key] == entry:
            continue
        for fragment in fragments(entry):
            if contains(text, fragment):
                found[key] = fragment
    return found


def intl_locale(locale: str) -> str:
    """The Intl locale of the console's dates: English ones are written the British way ("Mon 14 Dec")."""
    return "en-GB" if locale == "en" else locale


async def shown_text(page: Any) -> str:
    """What the console shows and says: `innerText` of the page, its title, the accessible names,
    placeholders and titles of what is not hidden, the chart's title and description — without the
    Language select's names of languages (each in itself), people's and brands' names."""
    text: str = await page.evaluate(
        """() => {
          const shown = [document.title, document.body.innerText];
          for (const node of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
            if (node.closest("[hidden]")) continue;
            for (const name of ["aria-label", "placeholder", "title"]) {
              shown.push(node.getAttribute(name) ?? "");
            }
          }
          for (const node of document.querySelectorAll("svg title, svg desc")) shown.push(node.textContent);
          let text = shown.join("\\n");
          for (const option of document.querySelectorAll("#language option")) {
            text = text.split(option.textContent).join("\\n");
          }
          return text;
        }"""
    )
    for name in NAMES:
        text = text.replace(name, "")
    return text


async def intl(page: Any, script: str, *arguments: Any) -> Any:
    return await page.evaluate(script, list(arguments))


# Monday to Sunday (1 January 2024 was a Monday).
WEEKDAYS = """([locale]) => [1, 2, 3, 4, 5, 6, 7].map((day) =>
  new Intl.DateTimeFormat(locale, { weekday: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(2024, 0, day))))"""
DAY = """([locale, day, options]) =>
  new Intl.DateTimeFormat(locale, { timeZone: "UTC", ...options }).format(new Date(`${day}T12:00:00Z`))"""
SHORT_DAY = {"weekday": "short", "day": "numeric", "month": "short"}
FULL_DAY = {**SHORT_DAY, "year": "numeric"}
MONEY = """([locale, amount]) =>
  new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" }).format(amount)"""


@pytest.fixture
def site(console_server: Server) -> Site:
    """The console tests' Acme in euros, Maya at €50.00: Ana's paid session and Ben's unpaid one with her
    next Monday (9:00 and 10:00 in Berlin), Chloé's with Sam."""
    found = seeded_site(console_server)
    with found.staff() as client:
        changed = client.patch(f"/api/brands/{found.brand_id}", json={"settings": {"currency": "eur"}})
        assert changed.status_code == 200, changed.text
        priced = client.put(
            f"/api/instructors/{found.maya}/availability",
            json={"brand_id": found.brand_id, "settings": {"price_amount": PRICE}},
        )
        assert priced.status_code == 200, priced.text
    monday = next_monday()
    maya = found.slots(found.maya, monday, monday)
    (ana, ana_email), (ben, ben_email), (chloe, chloe_email) = STUDENTS
    paid = found.book(found.maya, maya[0], ana, ana_email)
    found.book(found.maya, maya[1], ben, ben_email)
    found.book(found.sam, found.slots(found.sam, monday, monday)[0], chloe, chloe_email)
    with found.staff() as client:
        marked = client.patch(f"/api/bookings/{paid['id']}", json={"payment_status": "paid"})
        assert marked.status_code == 200, marked.text
    return found


@pytest.fixture
async def contexts(browser: Any) -> AsyncIterator[Any]:
    """New browser contexts in New York, in a language of the test's choosing."""
    async with contexts_in(browser, "America/New_York") as new:
        yield new


async def assert_language(page: Any, locale: str) -> None:
    await expect(page.locator("html")).to_have_attribute("lang", locale)
    await expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")


async def assert_weekly_hours_in(page: Any, locale: str) -> None:
    """The weekly hours: each weekday named as Intl names it, its inputs labelled with that name, times
    typed and shown as 24-hour HH:MM in ASCII digits."""
    names: list[str] = await intl(page, WEEKDAYS, locale)
    await expect(page.locator("#weekly legend")).to_have_text(names)
    monday = page.locator('#weekly fieldset[data-weekday="1"]')
    await expect(
        monday.get_by_label(translate(locale, "console.day_from", day=names[0]), exact=True)
    ).to_have_value("09:00")
    await expect(
        monday.get_by_label(translate(locale, "console.day_to", day=names[0]), exact=True)
    ).to_have_value("17:00")
    remove = translate(locale, "console.remove_window", day=names[0])
    await expect(monday.get_by_role("button", name=remove, exact=True)).to_have_count(1)
    for value in await page.locator("#weekly input").evaluate_all("inputs => inputs.map((i) => i.value)"):
        assert CLOCK.match(value), value


async def assert_preview_in(page: Any, locale: str, site: Site) -> None:
    """Each of the 14 days as Intl writes it in the locale (weekday and month), then its free times in
    Berlin as HH:MM in ASCII digits."""
    await expect(page.locator("#preview li")).to_have_count(14)
    monday = next_monday()
    for item in await page.locator("#preview li").all():
        day = await item.get_attribute("data-date")
        label: str = await intl(page, DAY, intl_locale(locale), day, SHORT_DAY)
        text = await item.inner_text()
        assert text.startswith(label), (text, label)
        times = text[len(label) :]
        assert not ARABIC_DIGITS.search(times), text
        if day == str(monday):
            free = [berlin_hhmm(s) for s in site.slots(site.maya, monday, monday)]
            assert free and re.findall(r"[0-9]{2}:[0-9]{2}", times) == free, (text, free)


@pytest.mark.spread_over_backends("locale", start=1)  # the booking page's test starts with SQLite
@pytest.mark.parametrize("locale", LOCALES)
async def test_the_console_in_each_language(site: Site, contexts: Any, locale: str) -> None:
    context = await contexts(BROWSER_LOCALE[locale])
    page = await open_console(context, site, site.admin_token)
    await assert_language(page, locale)
    await expect(page.locator("#who")).to_have_text(translate(locale, "console.signed_in_admin"))

    # Bookings: every row, money as Intl writes euros in the locale.
    rows = page.locator("#booking-list li.row")
    await expect(rows).to_have_count(3)
    await expect(page.locator("#booking-list .count")).to_have_text(
        translate(locale, "console.bookings_shown", count=3)
    )
    euros = await intl(page, MONEY, locale, PRICE / 100)
    await expect(rows.filter(has_text="Ben Okafor").locator(".summary")).to_contain_text(
        translate(locale, "console.unpaid_price", price=euros)
    )
    shown = await shown_text(page)

    # Schedule: Maya's; two dates blocked a month ahead; the taken Monday 10:00 checked.
    await page.locator("#tab-schedule").click()
    await page.locator("#instructor").select_option(label="Maya Keller")
    await assert_preview_in(page, locale, site)
    await assert_weekly_hours_in(page, locale)
    first, last = berlin_today() + timedelta(days=30), berlin_today() + timedelta(days=31)
    await page.locator("#off-from").fill(str(first))
    await page.locator("#off-to").fill(str(last))
    await page.locator("#time-off-form button[type=submit]").click()
    await expect(page.locator("#overrides li")).to_have_count(2)
    for day in (first, last):
        written = await intl(page, DAY, intl_locale(locale), str(day), FULL_DAY)
        await expect(page.locator(f'#overrides li[data-date="{day}"]')).to_contain_text(written)
    froms = [await intl(page, DAY, intl_locale(locale), str(day), FULL_DAY) for day in (first, last)]
    await expect(page.get_by_role("status")).to_have_text(
        translate(locale, "console.blocked_days", **{"from": froms[0], "to": froms[1]})
    )
    await page.locator("#check-date").fill(str(next_monday()))
    await page.locator("#check-time").fill("10:00")
    await page.locator("#check-form button[type=submit]").click()
    reason = page.locator('#explanation li[data-code="slot_unavailable"]')
    await expect(reason).to_contain_text(translate(locale, "console.reason_slot_unavailable"))
    await expect(reason.locator("li")).to_contain_text("11:00")  # blocking until, in ASCII digits
    assert not ARABIC_DIGITS.search(await page.locator("#preview").inner_text())
    shown += "\n" + await shown_text(page)

    # Insights: a table by instructor and the weeks' chart (the brand's three sessions).
    await page.locator("#tab-insights").click()
    table = page.get_by_role("table", name=translate(locale, "console.by_instructor"))
    await expect(table.get_by_role("row")).to_have_count(2)  # the header and Maya's, still the one chosen
    chart = page.get_by_role("img", name=translate(locale, "console.sessions_per_week"))
    await expect(chart).to_be_visible()
    week = await intl(
        page, DAY, intl_locale(locale), str(next_monday()), {"day": "numeric", "month": "short"}
    )
    assert translate(locale, "console.chart_week", week=week, count=3) in (
        await chart.locator("desc").text_content() or ""
    )
    shown += "\n" + await shown_text(page)

    if locale == "en":  # the scenario shows what the test looks for
        # Each text in full; of a counted text, the one of some plural category.
        missing = [
            key
            for key in SHOWN
            if not any(
                all(contains(shown, f) for f in fragments(text)) for text in texts(catalogue("en")[key])
            )
        ]
        assert missing == [], "not shown in English"
    else:
        assert english_left(shown, locale) == {}, f"English left in {locale}"
        same = {
            key
            for key, entry in catalogue("en").items()
            if key.split(".")[0] in SECTIONS and fragments(entry) and catalogue(locale)[key] == entry
        }
        assert same == SAME_AS_ENGLISH.get(locale, set()), "English words kept in the catalogue"


async def test_the_language_select_switches_the_console_in_place(site: Site, contexts: Any) -> None:
    """An instructor's English console switched to Arabic, then German: the language, the direction and
    every text change, nothing is reloaded, the view stays and what was typed (and not saved) stays."""
    page = await open_console(await contexts("en-US"), site, site.maya_token)
    await expect(page.locator("#booking-list li.row")).to_have_count(2)
    await page.get_by_role("tab", name="Schedule").click()
    await expect(page.locator("#preview li")).to_have_count(14)
    await page.get_by_label("Monday from", exact=True).fill("08:00")  # not saved
    # The booked Monday, named: the field starts at today, which on a Monday in Berlin is the Monday
    # before the booked one.
    await page.locator("#check-date").fill(str(next_monday()))
    await page.get_by_label("Time", exact=True).fill("10:00")
    await page.get_by_role("button", name="Check a time").click()
    await expect(page.locator("#explanation .verdict")).to_contain_text("not bookable")
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.get_by_role("status")).to_have_text("Settings saved.")
    await page.evaluate("window.notReloaded = true")

    for locale in ("ar", "de"):
        await page.locator("#language").select_option(locale)
        await assert_language(page, locale)
        assert page.url.endswith(f"?lang={locale}")
        await expect(page.locator("#tab-schedule")).to_have_attribute("aria-selected", "true")
        await expect(page.locator("#tab-schedule")).to_have_text(translate(locale, "console.schedule"))
        await expect(page.locator("#panel-schedule")).to_be_visible()
        await expect(page.locator("h1")).to_have_text(
            translate(locale, "console.title", brand="Acme Coaching")
        )
        assert await page.title() == translate(locale, "console.title", brand="Acme Coaching")
        await expect(page.locator("#who")).to_have_text(
            translate(locale, "console.signed_in_as", name="Maya Keller")
        )
        await expect(page.get_by_role("status")).to_have_text(translate(locale, "console.settings_saved"))
        await expect(page.locator("#preview-heading")).to_have_text(
            translate(locale, "console.next_days", count=14)
        )
        names: list[str] = await intl(page, WEEKDAYS, locale)
        await expect(page.locator("#weekly legend")).to_have_text(names)
        from_label = translate(locale, "console.day_from", day=names[0])
        await expect(page.get_by_label(from_label, exact=True)).to_have_value("08:00")  # still as typed
        await assert_preview_in(page, locale, site)
        verdict = PLACEHOLDER.split(str(catalogue(locale)["console.not_bookable"]))[-1]  # "): not bookable."
        await expect(page.locator("#explanation .verdict")).to_contain_text(verdict)
        shown = await shown_text(page)
        # The Bookings list, hidden, was written again too.
        shown += "\n" + (await page.locator("#booking-list").text_content() or "")
        assert english_left(shown, locale) == {}, f"English left in {locale}"
        status = translate(locale, "console.status_pending")
        assert status in (await page.locator("#booking-list").text_content() or "")
    assert await page.evaluate("window.notReloaded === true"), "the page switched in place"

    await page.locator("#tab-bookings").click()
    await expect(page.locator("#booking-list li.row")).to_have_count(2)
    await expect(page.locator("#booking-list li.row").filter(has_text="Ben Okafor")).to_contain_text(
        translate("de", "console.status_pending")
    )
