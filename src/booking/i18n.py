"""The service's languages: one catalogue per locale (`booking/locales/<locale>/`), shipped in the
package, with every text of the booking page, the console and the messages.

A catalogue is a folder of JSON files, one per section (`common`, `error`, `page`, `console`,
`message`: a translator works on one area at a time), each of keys, each a text with `{name}`
placeholders, or, for a text about a number (`{count}`), one text per CLDR plural category of that
locale (`{"one": ..., "other": ...}`; Arabic has six, Japanese one). Babel (CLDR) chooses the category and
writes dates; the pages use the browser's `Intl` with the same catalogues.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date

from booking.types import LOCALES

DEFAULT_LOCALE = "en"
RIGHT_TO_LEFT = frozenset({"ar"})

Entry = str | Mapping[str, str]  # a text, or one text per plural category

PLACEHOLDER = re.compile(r"\{(\w+)\}")
MAX_TAG, MAX_HEADER = 35, 1000  # a language tag's and an Accept-Language header's useful length


def babel_locale(code: str) -> Locale:
    """`pt-BR` is Babel's `pt_BR`."""
    return _babel_locale(code)


@cache
def _babel_locale(code: str) -> Locale:
    return Locale.parse(code.replace("-", "_"))


def text_direction(code: str) -> str:
    return "rtl" if code in RIGHT_TO_LEFT else "ltr"


SECTIONS = ("common", "error", "page", "console", "message")


@cache
def sections(code: str) -> dict[str, dict[str, Entry]]:
    folder = resources.files("booking") / "locales" / code
    return {name: json.loads((folder / f"{name}.json").read_bytes()) for name in SECTIONS}


def catalogue_json(code: str) -> bytes:
    """The whole catalogue as one JSON document (what a page fetches to switch to this locale)."""
    return json.dumps(sections(code), ensure_ascii=False, separators=(",", ":")).encode()


@cache
def catalogue(code: str) -> dict[str, Entry]:
    """Every key of a locale, flattened to `section.key`."""
    return {
        f"{section}.{key}": entry
        for section, entries in sections(code).items()
        for key, entry in entries.items()
    }


def plural_category(code: str, count: int) -> str:
    category: str = babel_locale(code).plural_form(count)
    return category


def plural_categories(code: str) -> frozenset[str]:
    """The CLDR plural categories a counted text of this locale must have, `other` always among them."""
    return frozenset(babel_locale(code).plural_form.tags | {"other"})


def translate(code: str, key: str, /, **values: Any) -> str:
    """The text of `key` in the locale, its placeholders filled; a counted text chooses by `count`."""
    entry = catalogue(code)[key]
    if not isinstance(entry, str):
        entry = entry.get(plural_category(code, int(values["count"])), entry["other"])
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), entry)


def full_date(day: date, code: str) -> str:
    """CLDR's full date: `Dienstag, 8. Dezember 2026`, `2026年12月8日火曜日`."""
    return format_date(day, "full", locale=babel_locale(code))


def supported_locale(tag: str) -> str | None:
    """The supported locale a language tag asks for: itself in any case, else its language alone
    (`de-AT` is `de`; `pt` and every `pt-…` are `pt-BR`)."""
    wanted = tag.strip().lower()
    for code in LOCALES:
        if code.lower() == wanted:
            return code
    language = wanted.split("-")[0]
    for code in LOCALES:
        if code.lower().split("-")[0] == language:
            return code
    return None


def preferred_languages(accept_language: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (equal weights keep their order); a
    weight of 0 means "not this one"."""
    weighted: list[tuple[float, str]] = []
    for item in accept_language.split(","):
        tag, _, parameters = item.strip().partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0:
            weighted.append((weight, tag))
    return [tag for _, tag in sorted(weighted, key=lambda pair: -pair[0])]


def page_locale(requested: str | None, accept_language: str | None, brand_locale: str) -> str:
    """A page's language: `?lang=`, else the first supported of the browser's languages, else the
    brand's."""
    candidates = [requested[:MAX_TAG]] if requested else []
    # A browser sends a few languages; an absurd header is read as far as a real one goes.
    candidates += preferred_languages((accept_language or "")[:MAX_HEADER])
    for tag in candidates:
        found = supported_locale(tag)
        if found is not None:
            return found
    return brand_locale if brand_locale in LOCALES else DEFAULT_LOCALE
