"""The booking page's HTML and headers. The page is static but for one JSON block of configuration: no
inline script, so the Content-Security-Policy can forbid them all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from booking.web.assets import asset_url
from booking.web.texts import fill_texts, html_attributes, i18n_values, language_config, language_select


@dataclass(frozen=True)
class PageConfig:
    brand_id: str
    brand_name: str
    brand_slug: str
    currency: str  # the brand's, of every price shown
    instructor_id: str | None
    sign_in_url: str | None
    embed_origins: list[str]
    demo_token: str | None  # only `booking demo` sets it: "Continue as demo student"
    locale: str  # the page's language, as `page_locale` chose it
    payments: bool = False  # online payment (Stripe) is on: pending priced bookings show Pay

    def as_json(self) -> str:
        data: dict[str, Any] = {
            "brandId": self.brand_id,
            "brandName": self.brand_name,
            "brandSlug": self.brand_slug,
            "currency": self.currency,
            "instructorId": self.instructor_id,
            "signInUrl": self.sign_in_url,
            "embedOrigins": self.embed_origins,
            "demoToken": self.demo_token,
            "payments": self.payments,
            **language_config(self.locale, "common", "error", "page"),
        }
        # `<` escaped, so that no value can close the data block.
        return json.dumps(data).replace("<", "\\u003c")


def booking_page(config: PageConfig) -> str:
    brand = i18n_values(brand=config.brand_name)
    template = f"""<!doctype html>
<html {html_attributes(config.locale)}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title data-i18n="page.title"{brand}></title>
<link rel="stylesheet" href="{asset_url("style.css")}">
<script type="module" src="{asset_url("app.js")}"></script>
</head>
<body>
<main>
<header class="top">
<h1 data-i18n="page.heading"{brand}></h1>
{language_select(config.locale)}
</header>
<section aria-labelledby="instructors-heading">
<h2 id="instructors-heading" data-i18n="page.instructor"></h2>
<div id="instructors" class="choices"></div>
<p id="price" hidden></p>
</section>
<section aria-labelledby="when-heading">
<h2 id="when-heading" data-i18n="page.when"></h2>
<div class="fields">
<div class="field"><label for="date" data-i18n="page.date"></label>
<input type="date" id="date" name="date"></div>
<div class="field"><label for="timezone" data-i18n="page.time_zone"></label>
<select id="timezone" name="timezone"></select></div>
</div>
<div id="slots" class="choices" aria-live="polite"></div>
</section>
<section aria-labelledby="you-heading">
<h2 id="you-heading" data-i18n="page.you"></h2>
<form id="booking-form" novalidate>
<div class="fields">
<div class="field"><label for="name" data-i18n="page.name"></label>
<input type="text" id="name" name="name" autocomplete="name"></div>
<div class="field"><label for="email" data-i18n="page.email"></label>
<input type="email" id="email" name="email" autocomplete="email"></div>
<div class="field"><label for="phone" data-i18n="page.phone"></label>
<input type="tel" id="phone" name="phone" autocomplete="tel" data-i18n-placeholder="page.optional"></div>
</div>
<p id="chosen"></p>
<div id="weekly-box" class="fields">
<div class="check"><input type="checkbox" id="weekly" name="weekly">
<label for="weekly" data-i18n="page.weekly"></label></div>
<div class="field" id="sessions-field" hidden><label for="sessions" data-i18n="page.sessions"></label>
<input type="number" id="sessions" name="sessions" min="2" max="52" value="4" inputmode="numeric"></div>
</div>
<div class="field" id="pay-with-field" hidden><label for="pay-with" data-i18n="page.pay_with"></label>
<select id="pay-with" name="pay_with"></select></div>
<button type="submit" id="book" data-i18n="page.book"></button>
<button type="button" id="keep" data-i18n="page.keep_old_time" hidden></button>
<div id="sign-in" hidden></div>
</form>
<div id="series" aria-live="polite" hidden></div>
<div id="outcome" role="status"></div>
</section>
<section id="mine" aria-labelledby="mine-heading" hidden>
<h2 id="mine-heading" data-i18n="page.my_bookings"></h2>
<ul id="my-bookings"></ul>
</section>
</main>
<script type="application/json" id="config">{config.as_json()}</script>
</body>
</html>
"""
    return fill_texts(template, config.locale)


def not_found_page(slug: str, locale: str) -> str:
    template = f"""<!doctype html>
<html {html_attributes(locale)}>
<head><meta charset="utf-8"><title data-i18n="common.not_found"></title>
<link rel="stylesheet" href="{asset_url("style.css")}"></head>
<body><main><h1 data-i18n="common.not_found"></h1>
<p data-i18n="common.no_such_page"{i18n_values(slug=slug)}></p></main></body>
</html>
"""
    return fill_texts(template, locale)


def page_headers(embed_origins: list[str]) -> dict[str, str]:
    """A strict policy: everything from this origin only, no inline script, framed only by the origins
    of EMBED_ORIGINS (and this one)."""
    ancestors = " ".join(["'self'", *embed_origins])
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {ancestors}"
    )
    # X-Frame-Options cannot name other origins: SAMEORIGIN is for browsers that predate frame-ancestors,
    # which every browser that knows frame-ancestors ignores in its favour.
    return {
        "content-security-policy": policy,
        "x-frame-options": "SAMEORIGIN",
        "cache-control": "no-cache",
        "vary": "Accept-Language",  # the page is written in the browser's language when ?lang= is absent
    }
