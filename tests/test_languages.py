"""Languages: the catalogues are complete and consistent; the page's language is negotiated as the
contract says; each message is in its recipient's language and zone (the student's from the booking,
the instructor's from the instructor), its SMS within the documented budget; locale fields refuse
anything but the seven supported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from booking.clock import FixedClock
from booking.i18n import PLACEHOLDER, catalogue, page_locale, plural_categories, translate
from booking.notifications import messages
from booking.notifications.facts import BookedSession, Parties
from booking.scheduling import Interval
from booking.types import LOCALES
from tests.booking_world import MONDAY, World, make_world
from tests.fake_providers import Providers
from tests.support import SERVICE, Api

# --- the catalogues -----------------------------------------------------------------------------------


def _texts(entry: Any) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry.values())


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("locale", LOCALES)
def test_a_catalogue_has_every_key_no_other_and_the_same_placeholders(locale: str) -> None:
    english, own = catalogue("en"), catalogue(locale)
    assert sorted(set(english) - set(own)) == [], "keys missing"
    assert sorted(set(own) - set(english)) == [], "keys English does not have"
    for key, entry in own.items():
        wanted = _placeholders(_texts(english[key])[-1])
        for text in _texts(entry):
            assert _placeholders(text) == wanted, f"{locale} {key}: {text!r} breaks its placeholders"
            assert text.strip(), f"{locale} {key} is empty"
        if not isinstance(entry, str):
            assert set(entry) == plural_categories(locale), f"{locale} {key}: CLDR's plural categories"


def test_counted_texts_choose_by_cldr_plural_rules() -> None:
    # Arabic has six categories: 0 zero, 1 one, 2 two, 3-10 few, 11-99 many, 100 other.
    texts = {
        n: translate("ar", "message.series_booked_subject", count=n, instructor="X", when="W")
        for n in (0, 1, 2, 3, 11, 100)
    }
    assert len(set(texts.values())) == 6
    assert translate("en", "message.series_booked_subject", count=1, instructor="X", when="W").startswith(
        "1 session booked"
    )
    assert "1 sessions" not in translate(
        "de", "message.series_booked_sms", count=1, instructor="X", when="W", reference="r"
    )


# --- the page's language -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "accept", "brand", "chosen"),
    [
        ("ja", "de-DE,de;q=0.9", "fr", "ja"),  # ?lang= first
        (None, "de-DE,de;q=0.9,en;q=0.5", "fr", "de"),  # the browser's first supported
        (None, "pt-PT", "en", "pt-BR"),  # every pt-… is pt-BR
        (None, "pt", "en", "pt-BR"),
        (None, "sv-SE, ar;q=0.4, fr;q=0.6", "en", "fr"),  # by weight, the unsupported passed over
        (None, "sv-SE, fi", "es", "es"),  # none supported: the brand's
        ("xx", None, "ar", "ar"),  # an unknown ?lang= is passed over
        (None, "de;q=0, ja", "en", "ja"),  # q=0: not this one
        (None, None, "en", "en"),
    ],
)
def test_a_page_speaks_lang_else_the_browsers_language_else_the_brands(
    lang: str | None, accept: str | None, brand: str, chosen: str
) -> None:
    assert page_locale(lang, accept, brand) == chosen


# --- a text message's budget ---------------------------------------------------------------------------

# GSM 03.38's default alphabet (one septet each) and its extension table (two each).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€")
BUDGET_SEGMENTS = 2  # README "Languages": two segments for names up to 25 characters, zones up to 20


def segments(text: str) -> int:
    """How many segments a carrier bills: GSM-7 (160 septets, 153 each when split) when every
    character is in the GSM alphabet, else UCS-2 (70 UTF-16 units, 67 each when split)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        size, single, part = sum(2 if c in GSM_EXTENDED else 1 for c in text), 160, 153
    else:
        size, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if size <= single else -(-size // part)


def session_at(start: datetime, locale: str) -> BookedSession:
    return BookedSession(
        id=uuid.uuid4(),
        student_id=uuid.uuid4(),
        status="confirmed",  # type: ignore[arg-type]
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        student_timezone="America/Los_Angeles",  # 19 characters
        instructor_timezone="UTC",
        locale=locale,
        student_name="Sam",
        student_email="sam@example.com",
        student_phone="+15551234567",
        cancellation_reason=None,
        reschedule_count=1,
        calendar_sequence=1,
        calendar_status="CONFIRMED",
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_message_fits_two_segments_on_every_day_of_a_year(locale: str) -> None:
    parties = Parties("Maximiliane Schmidt-Berg", "coach@example.com", "Acme", "en")  # 24 characters
    worst = 0
    for day in range(365):  # every weekday and month name of the locale, single and two digits
        session = session_at(datetime(2027, 1, 1, 17, tzinfo=UTC) + timedelta(days=day), locale)
        twelve = [session] * 12
        texts = [
            messages.booking_created_sms(session, parties),
            messages.booking_moved_sms(session, Interval(session.starts_at, session.ends_at), parties),
            messages.cancellation_sms(session, parties),
            messages.reminder_sms(session, parties),
            messages.series_created_sms(twelve, parties),
        ]
        worst = max(worst, *(segments(sms.body) for sms in texts))
    assert worst <= BUDGET_SEGMENTS


# --- messages through the API --------------------------------------------------------------------------


@pytest.fixture
async def tokyo_world(notifying_api: Api, clock: FixedClock) -> World:
    """A Japanese-speaking instructor in Tokyo, Monday to Friday 9:00-17:00 Tokyo time."""
    clock.set(MONDAY)
    world = await make_world(notifying_api, timezone="Asia/Tokyo")
    url = f"/api/instructors/{world.instructor['id']}"
    response = await world.client.patch(url, json={"locale": "ja"}, headers=SERVICE)
    assert response.status_code == 200 and response.json()["instructor"]["locale"] == "ja"
    return world


def _summary(providers: Providers, email: dict[str, Any]) -> str:
    [event] = icalendar.Calendar.from_ical(providers.resend.calendar(email)).walk("VEVENT")
    return str(event["SUMMARY"])


async def test_a_german_student_and_a_japanese_instructor_each_read_their_own_language_and_zone(
    tokyo_world: World, providers: Providers
) -> None:
    world = tokyo_world
    # Tuesday 1 December 2026, 10:00 in Tokyo: 02:00 the same day in Berlin.
    booking = await world.booked(
        "2026-12-01T10:00:00+09:00", student_timezone="Europe/Berlin", locale="de", student_name="Lena"
    )
    assert booking["locale"] == "de"
    emails = {email["to"][0]: email for email in providers.resend.emails()}
    student, instructor = emails["student@example.com"], emails["ada@example.com"]

    assert "Dienstag, 1. Dezember 2026, 02:00-03:00 Europe/Berlin (CET, UTC+01:00)" in student["text"]
    assert student["text"].startswith("Hallo Lena,")
    assert "Dienstag, 1. Dezember 2026" in student["subject"]
    assert 'lang="de"' in student["html"]
    for english in ("your session", "Booking reference", "Hello", "Tuesday", "December"):
        assert english not in student["text"] and english not in student["subject"]
    summary = _summary(providers, student)
    assert summary == translate(
        "de", "message.calendar_summary", instructor="Ada Coach", brand="Acme Coaching"
    )
    assert summary.startswith("Coaching-Sitzung")

    assert (
        "2026年12月1日火曜日" in instructor["text"]
        and "10:00-11:00 Asia/Tokyo (JST, UTC+09:00)" in instructor["text"]
    )
    assert all(mark in instructor["subject"] for mark in "年月日")
    assert "Europe/Berlin" not in instructor["text"] and "Tuesday" not in instructor["text"]

    [sms] = providers.twilio.messages()
    assert "Dienstag, 1. Dezember 2026, 02:00-03:00 Europe/Berlin" in sms["Body"]
    assert sms["Body"].startswith("Gebucht:") and segments(sms["Body"]) <= BUDGET_SEGMENTS


async def test_an_arabic_student_reads_right_to_left_and_a_cancellation_in_arabic(
    tokyo_world: World, providers: Providers
) -> None:
    world = tokyo_world
    booking = await world.booked("2026-12-02T10:00:00+09:00", locale="ar")  # beyond the 24 h cutoff
    response = await world.patch(booking["id"], {"status": "cancelled"}, world.student_headers)
    assert response.status_code == 200
    to_student = [e for e in providers.resend.emails() if e["to"] == ["student@example.com"]]
    assert [e["html"].startswith('<div lang="ar" dir="rtl">') for e in to_student] == [True, True]
    assert "الثلاثاء، 1 ديسمبر 2026" in to_student[1]["text"]  # 20:00 on Tuesday in New York
    assert to_student[1]["subject"] == translate(
        "ar",
        "message.cancelled_subject",
        when=messages.local_time_span(
            datetime(2026, 12, 2, 1, tzinfo=UTC),
            datetime(2026, 12, 2, 2, tzinfo=UTC),
            "America/New_York",
            "ar",
        ),
    )


async def test_the_instructors_calendar_feed_speaks_their_language(tokyo_world: World) -> None:
    world = tokyo_world
    booking = await world.booked("2026-12-01T10:00:00+09:00", student_name="Lena")
    url = f"/api/instructors/{world.instructor['id']}/calendar-feed"
    created = await world.client.post(url, headers=world.instructor_headers)
    assert created.status_code == 201, created.text
    feed = await world.client.get("/api/" + created.json()["url"].split("/api/", 1)[1])
    calendar = icalendar.Calendar.from_ical(feed.content)
    assert str(calendar["X-WR-CALNAME"]) == translate("ja", "message.feed_name", instructor="Ada Coach")
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == translate(
        "ja", "message.feed_summary", student="Lena", brand="Acme Coaching"
    )
    assert str(event["SUMMARY"]) != translate(
        "en", "message.feed_summary", student="Lena", brand="Acme Coaching"
    )
    assert booking["id"] in str(event["DESCRIPTION"])


# --- locale fields -------------------------------------------------------------------------------------


@pytest.fixture
async def world(notifying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(notifying_api)


async def test_a_booking_speaks_its_brands_language_unless_its_body_names_one(world: World) -> None:
    await world.set_brand_settings(locale="fr")
    assert (await world.booked("2026-12-01T10:00:00+01:00"))["locale"] == "fr"
    assert (await world.booked("2026-12-01T12:00:00+01:00", locale="pt-BR"))["locale"] == "pt-BR"
    series = await world.client.post(
        "/api/series",
        json=world.body("2026-12-02T10:00:00+01:00", count=2, locale="ja"),
        headers=world.student_headers,
    )
    assert series.status_code == 201, series.text
    assert {b["locale"] for b in series.json()["series"]["bookings"]} == {"ja"}


@pytest.mark.parametrize("bad", ["xx", "de-DE", "pt", "EN", "", None, 7])
async def test_a_locale_other_than_the_seven_is_422_and_changes_nothing(world: World, bad: Any) -> None:
    body = world.body("2026-12-01T10:00:00+01:00", locale=bad)
    if bad is not None:  # null is "the brand's" for a booking
        booked = await world.client.post("/api/bookings", json=body, headers=world.student_headers)
        assert booked.status_code == 422 and booked.json()["error"]["code"] == "validation_error"
        series = await world.client.post(
            "/api/series", json=body | {"count": 2}, headers=world.student_headers
        )
        assert series.status_code == 422
        assert await world.all_bookings() == []
    url = f"/api/instructors/{world.instructor['id']}"
    patched = await world.client.patch(url, json={"locale": bad}, headers=SERVICE)
    if bad is None:  # null: the brand's language again
        assert patched.status_code == 200 and patched.json()["instructor"]["locale"] is None
    else:
        assert patched.status_code == 422
        unchanged = await world.client.patch(url, json={}, headers=SERVICE)  # an empty PATCH reads it back
        assert unchanged.json()["instructor"]["locale"] is None


async def test_a_page_answers_any_lang_with_a_page_in_a_supported_language(world: World) -> None:
    await world.set_brand_settings(locale="de")
    slug = world.brand["slug"]
    for query, accept, lang in (
        ({"lang": "x" * 500}, "ja", "ja"),  # passed over, however long
        ({"lang": "fr"}, "ja", "fr"),
        ({}, "sv;q=0.9, " * 400, "de"),  # an absurd header: read as far as a real one goes
    ):
        page = await world.client.get(f"/book/{slug}", params=query, headers={"Accept-Language": accept})
        assert page.status_code == 200
        assert f'<html lang="{lang}"' in page.text
        assert page.headers["vary"] == "Accept-Language"
    console = await world.client.get(f"/console/{slug}", params={"lang": "ar"})
    assert '<html lang="ar" dir="rtl"' in console.text
