"""The booking page in each of its seven languages (SPEC §19), in Debian's Chromium through Playwright.

For each locale a browser of that language opens the page once, signed in, and goes through what a student
sees: the price, an empty day and the next free date, the slots, a weekly preview, booking it, My bookings
and a package. Its visible text must hold no English text of the catalogues (each English text, cut at its
placeholders, is looked for as whole words; people's names and the Language select's own names of the
languages are left out), its weekdays and months are the ones the browser's `Intl` writes in that locale,
its prices `Intl`'s money, and its times `HH:MM` in ASCII digits, Arabic included. Then: `?lang=` over the
browser's languages over the brand's, `pt` for pt-BR, and the Language select switching in place.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from booking.i18n import Entry, catalogue, translate
from booking.types import LOCALES
from tests.support import SERVICE
from tests.test_booking_page import (
    TOKYO,
    Site,
    a_monday_ahead,
    browser,
    contexts_in,
    local_hhmm,
    open_page,
    outcome,
    page_server,
    site,
    slot_button,
)

__all__ = ["browser", "page_server", "site"]  # fixtures of tests/test_booking_page.py, used here

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
PASS_NAME = "Yoga 10"
NAMES = ("Maya Keller", "Acme Coaching", PASS_NAME)  # people's and brands' names: never translated
PLACEHOLDER = re.compile(r"\{\w+\}")
# The sections whose texts the booking page shows (common: the Language label, Sign in).
SECTIONS = ("page", "error", "common")


def texts(entry: Entry) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry.values())


def fragments(entry: Entry) -> set[str]:
    """The literal runs of an English text between its placeholders that hold a word ("Price",
    "for a", "minute session" of "Price: {price} for a {count}-minute session")."""
    found = set()
    for text in texts(entry):
        for run in PLACEHOLDER.split(text):
            run = run.strip(" .,:;()—-")
            if re.search(r"[A-Za-z]{2}", run):
                found.add(run)
    return found


def english_keys() -> dict[str, set[str]]:
    return {
        key: fragments(entry)
        for key, entry in catalogue("en").items()
        if key.split(".")[0] in SECTIONS and fragments(entry)
    }


def contains(text: str, fragment: str) -> bool:
    """`fragment` in `text` as whole words (so "to" is not found in "Tokyo")."""
    return re.search(rf"(?<!\w){re.escape(fragment)}(?!\w)", text) is not None


# What the English page shows in the scenario below, keys of its texts: the test of "no English left"
# looks for every English text, and this makes sure the scenario really shows these.
SHOWN = (
    "common.language",
    "page.heading",
    "page.instructor",
    "page.when",
    "page.date",
    "page.time_zone",
    "page.you",
    "page.name",
    "page.email",
    "page.phone",
    "page.weekly",
    "page.sessions",
    "page.pay_with",
    "page.book",
    "page.my_bookings",
    "page.price",
    "page.no_free_times",
    "page.next_free_date",
    "page.slot",
    "page.chosen",
    "page.series_heading",
    "page.verdict_free",
    "page.book_all",
    "page.not_now",
    "page.pay_per_session",
    "page.sessions_left",
    "page.pass_option_until",
    "page.series_booked",
    "page.status_pending",
    "page.my_booking",
    "page.my_booking_weekly",
    "page.cancel",
    "page.reschedule",
)


def moment(instant: str) -> datetime:
    return datetime.fromisoformat(instant)


def intl_locale(locale: str) -> str:
    """The Intl locale of the page's dates: English ones are written the British way ("Mon 14 Dec")."""
    return "en-GB" if locale == "en" else locale


async def visible_text(page: Any) -> str:
    """`document.body.innerText` without the Language select's names of languages (each in itself) and the
    zone choices (IANA names), nor people's and brands' names."""
    text: str = await page.evaluate(
        """() => {
          let text = document.body.innerText;
          for (const option of document.querySelectorAll("#language option, #timezone option")) {
            text = text.split(option.textContent).join("\\n");
          }
          return text;
        }"""
    )
    for name in NAMES:
        text = text.replace(name, "")
    return text


async def intl_parts(page: Any, instant: str, locale: str, options: dict[str, str]) -> dict[str, str]:
    """The parts (weekday, day, month, …) of an instant in Tokyo as the browser's Intl writes them."""
    parts: list[dict[str, str]] = await page.evaluate(
        """([instant, locale, options]) =>
          new Intl.DateTimeFormat(locale, { timeZone: "Asia/Tokyo", ...options })
            .formatToParts(new Date(instant))""",
        [instant, locale, options],
    )
    return {part["type"]: part["value"] for part in parts if part["type"] != "literal"}


async def intl_text(page: Any, script: str, *arguments: Any) -> str:
    found: str = await page.evaluate(script, list(arguments))
    return found


@pytest.fixture
async def contexts(browser: Any) -> AsyncIterator[Any]:
    """New browser contexts in Tokyo, in a language of the test's choosing."""
    async with contexts_in(browser, "Asia/Tokyo") as new:
        yield new


def price_and_pass(site: Site, student: uuid.UUID) -> dict[str, Any]:
    """Euros, Maya at €50.00, and a package of ten sessions sold to the student."""
    with httpx.Client(base_url=site.base, headers=SERVICE, timeout=10) as client:
        changed = client.patch(f"/api/brands/{site.brand_id}", json={"settings": {"currency": "eur"}})
        assert changed.status_code == 200, changed.text
        priced = client.put(
            f"/api/instructors/{site.instructor_id}/availability",
            json={"brand_id": site.brand_id, "settings": {"price_amount": PRICE}},
        )
        assert priced.status_code == 200, priced.text
    return site.sell_pass(student, PASS_NAME, 10)


# --- each locale -----------------------------------------------------------------------------------


@pytest.mark.spread_over_backends("locale")
@pytest.mark.parametrize("locale", LOCALES)
async def test_the_booking_page_in_each_language(site: Site, contexts: Any, locale: str) -> None:
    student = uuid.uuid4()
    sold = price_and_pass(site, student)
    token = site.token(student_id=student)
    monday = a_monday_ahead()
    starts = site.slots(monday, "Asia/Tokyo")
    assert site.book(starts[0], token).status_code == 201  # in My bookings from the start
    errors: list[str] = []
    context = await contexts(BROWSER_LOCALE[locale])
    context.on("weberror", lambda error: errors.append(str(error.error)))
    page = await open_page(context, site, token)
    here = intl_locale(locale)

    def text(key: str, **values: Any) -> str:
        return translate(locale, key, **values)

    html = page.locator("html")
    await expect(html).to_have_attribute("lang", locale)
    await expect(html).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
    assert await page.title() == text("page.title", brand="Acme Coaching")
    await expect(page.locator("#phone")).to_have_attribute("placeholder", text("page.optional"))

    # The price, as the locale writes money.
    euros = await intl_text(
        page, "([l]) => new Intl.NumberFormat(l, {style: 'currency', currency: 'EUR'}).format(50)", locale
    )
    await expect(page.locator("#price")).to_have_text(text("page.price", count=60, price=euros))

    # A Sunday: no times, and the next free date, its weekday and month as Intl writes them.
    await page.locator("#date").fill(str(monday - timedelta(days=1)))
    next_free = page.locator("#slots button")
    await expect(page.locator("#slots p")).to_have_text(text("page.no_free_times"))
    day = await intl_text(
        page,
        """([l, instant]) => new Intl.DateTimeFormat(l, {timeZone: "Asia/Tokyo", weekday: "short",
             day: "numeric", month: "short"}).format(new Date(instant))""",
        here,
        starts[1],
    )
    await expect(next_free).to_have_text(text("page.next_free_date", day=day))
    seen = await visible_text(page)
    await next_free.click()

    # The slots: HH:MM in ASCII digits, whatever the language (the first is the student's already).
    slots = page.locator("#slots button.slot")
    hour = timedelta(minutes=60)  # Maya's sessions
    expected = [
        text("page.slot", start=local_hhmm(start, TOKYO), end=local_hhmm(str(moment(start) + hour), TOKYO))
        for start in starts[1:]
    ]
    await expect(slots).to_have_text(expected)
    for label in await slots.all_inner_texts():
        assert re.match(r"^[0-2][0-9]:[0-5][0-9]\D", label), label  # ASCII digits: no other numerals
    await slots.first.click()
    await expect(page.locator("#chosen")).to_contain_text(text("page.chosen", when="").strip())

    # The package's option: the last day it covers, as Intl writes a date.
    last = await intl_text(
        page,
        """([l, instant]) => new Intl.DateTimeFormat(l, {timeZone: "Asia/Tokyo", day: "numeric",
             month: "short", year: "numeric"}).format(new Date(Date.parse(instant) - 1))""",
        here,
        sold["valid_until"],
    )
    left = text("page.sessions_left", count=10)
    await expect(page.locator("#pay-with option")).to_have_text(
        [text("page.pay_per_session"), text("page.pass_option_until", name=PASS_NAME, left=left, date=last)]
    )

    # A weekly preview of four.
    await page.locator("#weekly").check()
    await page.locator("#book").click()
    await expect(page.locator("#occurrences li")).to_have_count(4)
    await expect(page.locator("#series button.confirm")).to_have_text(text("page.book_all", count=4))
    seen += "\n" + await visible_text(page)

    await page.locator("#series button.confirm").click()
    await expect(page.locator("#occurrences li")).to_have_count(0)
    await expect(page.locator("#my-bookings li")).to_have_count(5)
    await expect(outcome(page)).to_contain_text(text("page.status_pending"))
    seen += "\n" + await visible_text(page)

    # Weekdays and months of My bookings, as Intl writes them in the locale; times HH:MM.
    mine = sorted(site.bookings(), key=lambda b: b["starts_at"])
    items = await page.locator("#my-bookings li span").all_inner_texts()
    for booking, item in zip(mine, items, strict=True):
        options = {"weekday": "short", "day": "numeric", "month": "short"}
        parts = await intl_parts(page, booking["starts_at"], here, options)
        assert parts["weekday"] in item and parts["month"] in item, (parts, item)
        assert local_hhmm(booking["starts_at"], TOKYO) in item
    names = {"weekday": "short", "month": "short"}
    english_names = await intl_parts(page, mine[0]["starts_at"], "en-GB", names)
    own_names = await intl_parts(page, mine[0]["starts_at"], here, names)
    for name in english_names.values():
        if not any(name in own for own in own_names.values()):  # "Nov" is German's "Nov." too
            assert not contains("\n".join(items), name), f"{locale}: the English {name!r} in My bookings"

    # No English left: every English text of the catalogues is absent, unless the locale's is the same.
    own, english_catalogue = catalogue(locale), catalogue("en")
    english = english_keys()
    if locale == "en":
        missing = [key for key in SHOWN if not any(contains(seen, f) for f in english[key])]
        assert missing == [], f"the scenario does not show {missing}"
    else:
        left_over = [
            (key, fragment)
            for key, found in english.items()
            for fragment in found
            if contains(seen, fragment) and own[key] != english_catalogue[key]
        ]
        assert left_over == [], f"{locale}: English left on the page: {left_over}\n{seen}"
    assert errors == []


# --- choosing the language -------------------------------------------------------------------------


async def test_lang_then_the_browsers_languages_then_the_brands(site: Site, contexts: Any) -> None:
    async with httpx.AsyncClient(base_url=site.base, headers=SERVICE, timeout=10) as client:
        changed = await client.patch(f"/api/brands/{site.brand_id}", json={"settings": {"locale": "fr"}})
        assert changed.status_code == 200, changed.text
    cases = [
        ("de-DE", "?lang=ja", "ja"),  # ?lang= beats the browser's language
        ("pt", "", "pt-BR"),
        ("pt-PT", "", "pt-BR"),
        ("ko-KR", "", "fr"),  # a language not offered: the brand's
    ]
    for browser_locale, query, locale in cases:
        page = await open_page(await contexts(browser_locale), site, query=query)
        await expect(page.locator("html")).to_have_attribute("lang", locale)
        await expect(page.locator("h1")).to_have_text(
            translate(locale, "page.heading", brand="Acme Coaching")
        )
        await expect(page.locator("#language")).to_have_value(locale)

    # Signed out, in Japanese: Book explains signing in in Japanese.
    page = await open_page(await contexts("de-DE"), site, query="?lang=ja")
    await page.locator("#date").fill(str(a_monday_ahead()))
    await page.locator("#slots button.slot").first.click()
    await page.locator("#book").click()
    await expect(outcome(page)).to_have_text(translate("ja", "page.sign_in_to_book"))
    await expect(page.locator("#sign-in p")).to_have_text(translate("ja", "page.sign_in_explained"))
    await expect(page.locator("#sign-in a")).to_have_text(translate("ja", "common.sign_in"))


async def test_the_language_select_switches_in_place_and_booking_still_works(
    site: Site, contexts: Any
) -> None:
    student = uuid.uuid4()
    token = site.token(student_id=student)
    monday = a_monday_ahead()
    starts = site.slots(monday, "Asia/Tokyo")
    page = await open_page(await contexts("en-US"), site, token)
    await page.locator("#date").fill(str(monday))
    chosen = local_hhmm(starts[1], TOKYO)
    await slot_button(page, chosen).click()
    await expect(page.locator("#chosen")).to_contain_text("Chosen: ")
    html = page.locator("html")

    await page.locator("#language").select_option("de")
    await expect(html).to_have_attribute("lang", "de")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.locator("h1")).to_have_text(translate("de", "page.heading", brand="Acme Coaching"))
    await expect(page.locator("#chosen")).to_contain_text(translate("de", "page.chosen", when=""))
    await expect(page.locator("#book")).to_have_text(translate("de", "page.book"))
    await expect(page.locator("#my-bookings li")).to_have_text(translate("de", "page.no_upcoming"))
    assert page.url.endswith("?lang=de")

    await page.locator("#language").select_option("ar")
    await expect(html).to_have_attribute("lang", "ar")
    await expect(html).to_have_attribute("dir", "rtl")
    assert await page.title() == translate("ar", "page.title", brand="Acme Coaching")
    await expect(page.get_by_label(translate("ar", "page.date"), exact=True)).to_have_value(str(monday))
    await expect(slot_button(page, chosen)).to_have_attribute("aria-pressed", "true")  # still chosen
    await expect(page.locator("#chosen")).to_contain_text(f"{chosen} ({TOKYO.key})")
    assert page.url.endswith("?lang=ar")

    # Taken meanwhile: the error in Arabic; then another time is booked.
    assert site.book(starts[1], site.token("other@example.com")).status_code == 201
    await page.get_by_role("button", name=translate("ar", "page.book"), exact=True).click()
    await expect(outcome(page)).to_have_text(translate("ar", "error.slot_unavailable"))
    other = local_hhmm(starts[2], TOKYO)
    await slot_button(page, other).click()
    await page.get_by_role("button", name=translate("ar", "page.book"), exact=True).click()
    booked = translate("ar", "page.booked_held", time=other, when="", zone="", until="")
    await expect(outcome(page)).to_contain_text(booked.split("(")[0].strip())
    mine = [b for b in site.bookings() if b["student_id"] == str(student)]
    assert [local_hhmm(b["starts_at"], TOKYO) for b in mine] == [other]
    await expect(page.locator("#my-bookings li span")).to_contain_text(translate("ar", "page.status_pending"))
