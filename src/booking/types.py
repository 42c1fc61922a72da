"""Validated value types shared by the request schemas."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import date, datetime, timedelta
from functools import cache
from typing import Annotated

from babel.numbers import list_currencies
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, EmailStr, StringConstraints
from pydantic_core import PydanticCustomError

# Bounds of a session and of a buffer: also what lets a query bound a search for overlapping bookings.
MAX_SESSION_MINUTES = 480
MAX_BUFFER_MINUTES = 240
# No booking blocks more than this after its start: a booking that reaches into [since, …) started
# after `since` minus it, a lower bound that keeps a search's index range independent of history.
LONGEST_BLOCK = timedelta(minutes=MAX_SESSION_MINUTES + MAX_BUFFER_MINUTES)

# A price, in the smallest unit of its currency (cents; yen): at most a million euros or dollars.
MAX_PRICE_AMOUNT = 100_000_000

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str:
    if name not in known_timezones():
        raise ValueError(f"unknown IANA timezone {name!r}")
    return name


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes in lower case, as Stripe writes them (CLDR's list, through Babel)."""
    return frozenset(code.lower() for code in list_currencies())


def check_currency(code: str) -> str:
    if code not in known_currencies():
        raise ValueError(f"not an ISO 4217 currency code in lower case: {code!r}")
    return code


# The languages the service speaks (its pages and messages); a locale field takes only these.
LOCALES = ("en", "de", "fr", "es", "pt-BR", "ja", "ar")


def check_locale(code: str) -> str:
    if code not in LOCALES:
        raise ValueError(f"not a supported locale: {code!r} (one of {', '.join(LOCALES)})")
    return code


def check_e164(phone: str) -> str:
    if not E164.match(phone):
        raise ValueError("phone must be an E.164 number: '+' and 7 to 15 digits")
    return phone


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise ValueError("slug must be lowercase letters and digits, separated by single hyphens")
    return slug


# Control characters end up in emails, SMS and calendar files, and lone surrogates cannot be stored as
# UTF-8 at all: both are refused at the door. Every other character is stored as it came.
REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def check_printable(text: str) -> str:
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in text):
        raise ValueError("control characters and lone surrogates are not allowed")
    return text


def check_note(text: str) -> str:
    if any(unicodedata.category(char) in REFUSED_CATEGORIES and char not in "\n\t" for char in text):
        raise ValueError(
            "control characters (other than newline and tab) and lone surrogates are not allowed"
        )
    return text


# Dates and instants far from now are refused: local-time arithmetic near year 1 or 9999 overflows.
EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)


def check_date(day: date) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return day


def check_instant(instant: datetime) -> datetime:
    check_date(instant.date())
    return instant


# Only ISO 8601 text: pydantic's lax parsing would also take numbers (and digit strings, which is what
# every query parameter is) as Unix times, and `from=0.0` is not a date anyone meant. The offset is left
# to AwareDatetime, whose error says what is missing.
ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_instant_text(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_INSTANT.fullmatch(value)):
        return value
    raise PydanticCustomError(
        "iso_datetime", "must be an ISO 8601 date-time with an offset, like 2026-12-01T09:00:00+01:00"
    )


def iso_date_text(value: object) -> object:
    if (isinstance(value, date) and not isinstance(value, datetime)) or (
        isinstance(value, str) and ISO_DATE.fullmatch(value)
    ):
        return value
    raise PydanticCustomError("iso_date", "must be a date as YYYY-MM-DD")


TimezoneName = Annotated[str, StringConstraints(max_length=64), AfterValidator(check_timezone)]
Currency = Annotated[str, StringConstraints(max_length=3), AfterValidator(check_currency)]
Locale = Annotated[str, StringConstraints(max_length=8), AfterValidator(check_locale)]
Phone = Annotated[str, StringConstraints(max_length=16), AfterValidator(check_e164)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_slug)]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(check_printable),
]
# A search of the bookings list: what a client types, never a control character (PostgreSQL refuses NUL).
SearchText = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(check_printable)]
Location = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(check_printable),
]
Note = Annotated[str, StringConstraints(max_length=5000), AfterValidator(check_note)]
Email = Annotated[EmailStr, StringConstraints(max_length=320)]
# Python values (datetime, date) pass too: the models are also built in code, not only from requests.
ApiDate = Annotated[date, BeforeValidator(iso_date_text), AfterValidator(check_date)]
Instant = Annotated[AwareDatetime, BeforeValidator(iso_instant_text), AfterValidator(check_instant)]
