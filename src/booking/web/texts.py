"""The pages' texts, written by the server in the page's language: each element marked `data-i18n="key"`
gets its text, `data-i18n-placeholder` / `-aria-label` / `-title` their attribute, exactly as the page's
`applyTexts()` does again when the Language select switches. The templates hold keys, never words."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from booking.i18n import babel_locale, sections, text_direction, translate
from booking.types import LOCALES
from booking.web.assets import asset_url

# An element whose text is a key: `<tag … data-i18n="key" …></tag>`, written empty in the template.
MARKED = re.compile(r'<(\w+)((?:[^>"]|"[^"]*")*?\sdata-i18n="([\w.]+)"(?:[^>"]|"[^"]*")*)></\1>')
ATTRIBUTE = re.compile(r'\sdata-i18n-(placeholder|aria-label|title)="([\w.]+)"')
VALUES = re.compile(r"\sdata-i18n-values='([^']*)'")


def _values(attributes: str) -> dict[str, Any]:
    found = VALUES.search(attributes)
    return {} if found is None else dict(json.loads(html.unescape(found.group(1))))


def _attributes(attributes: str, locale: str) -> str:
    values = _values(attributes)

    def written(match: re.Match[str]) -> str:
        text = html.escape(translate(locale, match.group(2), **values))
        return f'{match.group(0)} {match.group(1)}="{text}"'

    return ATTRIBUTE.sub(written, attributes)


def fill_texts(template: str, locale: str) -> str:
    def element(match: re.Match[str]) -> str:
        tag, attributes, key = match.groups()
        text = html.escape(translate(locale, key, **_values(attributes)), quote=False)
        return f"<{tag}{attributes}>{text}</{tag}>"

    with_text = MARKED.sub(element, template)
    # Attributes of any element, marked with or without a text of its own.
    return re.sub(r"<\w+\s[^>]*>", lambda tag: _attributes(tag.group(0), locale), with_text)


def i18n_values(**values: str) -> str:
    """The `data-i18n-values` attribute of an element whose text has placeholders."""
    return f" data-i18n-values='{html.escape(json.dumps(values), quote=True)}'"


def html_attributes(locale: str) -> str:
    return f'lang="{locale}" dir="{text_direction(locale)}"'


def autonym(code: str) -> str:
    """A language named in itself ("Deutsch", "日本語"), as a Language select lists it."""
    name = babel_locale(code).get_display_name(babel_locale(code)) or code
    return name[:1].upper() + name[1:]


def language_select(locale: str) -> str:
    """Each language named in itself (so the option reads right whatever the page's language)."""
    options = "".join(
        f'<option value="{code}" lang="{code}"{" selected" if code == locale else ""}>'
        f"{html.escape(autonym(code))}</option>"
        for code in LOCALES
    )
    return (
        '<div class="field language"><label for="language" data-i18n="common.language"></label>'
        f'<select id="language" name="lang">{options}</select></div>'
    )


def language_config(locale: str, *names: str) -> dict[str, Any]:
    """What a page's config block says of its language: the locale, its catalogue's sections the page
    uses, and where each locale's catalogue is (to switch without a reload)."""
    catalogue = sections(locale)
    return {
        "locale": locale,
        "catalogue": {name: catalogue[name] for name in names},
        "catalogueUrls": {code: asset_url(f"locale-{code}.json") for code in LOCALES},
    }
