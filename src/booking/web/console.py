"""The coach console: one page for a brand's instructors and admins (Bookings, Schedule, Insights, and
for its admins Activity, the brand's audit log).

Served like the booking page: static HTML and one JSON block of configuration, the booking page's
headers and policy. The page never sees a token on the server (it lives in the browser's memory), so
who the caller is — an admin of the brand, or which of its instructors — is asked with the token by
the page itself (`GET /console/{brand_slug}/me`, answered by `console_role`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, own_instructor_id, require_authenticated
from booking.auth import Principal
from booking.brands.repository import brand_by_slug
from booking.errors import Forbidden, NotFound
from booking.instructors.repository import link_of
from booking.web.assets import asset_url
from booking.web.texts import fill_texts, html_attributes, i18n_values, language_config, language_select


@dataclass(frozen=True)
class ConsoleConfig:
    brand_id: str
    brand_name: str
    brand_slug: str
    currency: str
    sign_in_url: str | None
    embed_origins: list[str]
    demo_instructor_token: str | None  # only `booking demo` sets them: its two sign-in buttons
    demo_brand_admin_token: str | None
    locale: str  # the page's language, as `page_locale` chose it

    def as_json(self) -> str:
        data: dict[str, Any] = {
            "brandId": self.brand_id,
            "brandName": self.brand_name,
            "brandSlug": self.brand_slug,
            "currency": self.currency,
            "signInUrl": self.sign_in_url,
            "embedOrigins": self.embed_origins,
            "demoInstructorToken": self.demo_instructor_token,
            "demoBrandAdminToken": self.demo_brand_admin_token,
            **language_config(self.locale, "common", "error", "console"),
        }
        return json.dumps(data).replace("<", "\\u003c")


@dataclass(frozen=True)
class ConsoleRole:
    brand_admin: bool
    instructor_id: UUID | None  # the caller's own instructor record, when it is linked to the brand
    user_id: UUID | None = None  # the token's user (none for the service): "You" in the Activity view

    def as_json(self) -> dict[str, Any]:
        own = None if self.instructor_id is None else str(self.instructor_id)
        user = None if self.user_id is None else str(self.user_id)
        return {"brand_admin": self.brand_admin, "instructor_id": own, "user_id": user}


async def console_role(session: AsyncSession, principal: Principal, brand_slug: str) -> ConsoleRole:
    """An admin of the brand (or the service), or one of its instructors; 403 for anyone else."""
    require_authenticated(principal)
    brand = await brand_by_slug(session, brand_slug)
    if brand is None:
        raise NotFound("brand not found")
    admin = await is_brand_admin(session, principal, brand.id)
    own = await own_instructor_id(session, principal)
    if own is not None:
        link = await link_of(session, own, brand.id)
        if link is None or link.unlinked_at is not None:
            own = None
    if not admin and own is None:
        raise Forbidden("only an instructor or an admin of this brand may use its console")
    return ConsoleRole(admin, own, principal.user_id)


VIEWS = ("bookings", "schedule", "insights", "activity")  # each tab's text is `console.<view>`
ADMIN_VIEWS = ("activity",)  # their tabs hidden until the page knows the caller is a brand admin
LISTS = ("upcoming", "awaiting", "past", "cancelled")  # each tab's text is `console.list_<list>`


def _view_tabs() -> str:
    return "\n".join(
        f'<button type="button" role="tab" id="tab-{key}" aria-controls="panel-{key}" '
        f'aria-selected="{str(index == 0).lower()}" data-i18n="console.{key}"'
        f"{' hidden' if key in ADMIN_VIEWS else ''}></button>"
        for index, key in enumerate(VIEWS)
    )


def _list_tabs() -> str:
    return "\n".join(
        f'<button type="button" role="tab" data-list="{key}" aria-controls="booking-list" '
        f'aria-selected="{str(index == 0).lower()}" data-i18n="console.list_{key}"></button>'
        for index, key in enumerate(LISTS)
    )


PREVIEW_DAYS = 14  # console.js previews as many days


def console_page(config: ConsoleConfig) -> str:
    """The page in its language: the template holds keys (`data-i18n…`), `fill_texts` writes them."""
    brand = i18n_values(brand=config.brand_name)
    template = f"""<!doctype html>
<html {html_attributes(config.locale)}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title data-i18n="console.title"{brand}></title>
<link rel="stylesheet" href="{asset_url("style.css")}">
<link rel="stylesheet" href="{asset_url("console.css")}">
<script type="module" src="{asset_url("console.js")}"></script>
</head>
<body>
<main class="console">
<header class="top">
<h1 data-i18n="console.title"{brand}></h1>
{language_select(config.locale)}
</header>
<div id="sign-in" hidden></div>
<p id="who"></p>
<div id="status" role="status"></div>
<div class="fields" id="instructor-field" hidden>
<div class="field"><label for="instructor" data-i18n="console.instructor"></label>
<select id="instructor" name="instructor"></select></div>
</div>
<div role="tablist" data-i18n-aria-label="console.views" id="views" hidden>
{_view_tabs()}
</div>

<section role="tabpanel" id="panel-bookings" aria-labelledby="tab-bookings" hidden>
<h2 data-i18n="console.bookings"></h2>
<div role="tablist" data-i18n-aria-label="console.which_bookings" id="lists">
{_list_tabs()}
</div>
<form id="search-form" class="fields" role="search">
<div class="field"><label for="search" data-i18n="console.search"></label>
<input type="search" id="search" name="q" data-i18n-placeholder="console.search_placeholder"></div>
<button type="submit" class="align-end" data-i18n="console.search"></button>
</form>
<div id="booking-list" role="region" data-i18n-aria-label="console.bookings_list" aria-live="polite"></div>
</section>

<section role="tabpanel" id="panel-schedule" aria-labelledby="tab-schedule" hidden>
<h2 data-i18n="console.schedule"></h2>
<p id="schedule-zone"></p>
<form id="hours-form" novalidate>
<h3 data-i18n="console.weekly_hours"></h3>
<div id="weekly"></div>
<button type="submit" data-i18n="console.save_hours"></button>
</form>
<form id="time-off-form" novalidate>
<h3 data-i18n="console.time_off"></h3>
<div class="fields">
<div class="field"><label for="off-from" data-i18n="console.from"></label>
<input type="date" id="off-from"></div>
<div class="field"><label for="off-to" data-i18n="console.to"></label>
<input type="date" id="off-to"></div>
<button type="submit" class="align-end" data-i18n="console.block_dates"></button>
</div>
<ul id="overrides" data-i18n-aria-label="console.overrides"></ul>
</form>
<form id="settings-form" novalidate>
<h3 data-i18n="console.settings"></h3>
<div class="fields" id="settings"></div>
<button type="submit" data-i18n="console.save_settings"></button>
</form>
<h3 id="preview-heading" data-i18n="console.next_days"{i18n_values(count=str(PREVIEW_DAYS))}></h3>
<ul id="preview" aria-labelledby="preview-heading" aria-live="polite"></ul>
<form id="check-form" novalidate>
<h3 data-i18n="console.check_time"></h3>
<div class="fields">
<div class="field"><label for="check-date" data-i18n="console.date"></label>
<input type="date" id="check-date"></div>
<div class="field"><label for="check-time" data-i18n="console.time"></label>
<input type="text" id="check-time" class="clock" inputmode="numeric" autocomplete="off" maxlength="5"
 pattern="[0-2][0-9]:[0-5][0-9]" data-i18n-title="console.time_format"></div>
<button type="submit" class="align-end" data-i18n="console.check_time"></button>
</div>
<div id="explanation" aria-live="polite"></div>
</form>
</section>

<section role="tabpanel" id="panel-insights" aria-labelledby="tab-insights" hidden>
<h2 data-i18n="console.insights"></h2>
<form id="insights-form" class="fields" novalidate>
<div class="field"><label for="insights-from" data-i18n="console.from"></label>
<input type="date" id="insights-from"></div>
<div class="field"><label for="insights-to" data-i18n="console.to"></label>
<input type="date" id="insights-to"></div>
<button type="submit" class="align-end" data-i18n="console.show"></button>
</form>
<div id="insights"></div>
</section>

<section role="tabpanel" id="panel-activity" aria-labelledby="tab-activity" hidden>
<h2 data-i18n="console.activity"></h2>
<form id="activity-form" class="fields" novalidate>
<div class="field"><label for="activity-from" data-i18n="console.from"></label>
<input type="date" id="activity-from"></div>
<div class="field"><label for="activity-to" data-i18n="console.to"></label>
<input type="date" id="activity-to"></div>
<button type="submit" class="align-end" data-i18n="console.show"></button>
</form>
<div id="activity-filter" class="actions" hidden>
<span id="activity-filtered"></span>
<button type="button" id="activity-all" data-i18n="console.show_all"></button>
</div>
<p id="activity-count" class="count" aria-live="polite"></p>
<div id="activity"></div>
<button type="button" id="activity-more" data-i18n="console.show_more" hidden></button>
</section>
</main>
<script type="application/json" id="config">{config.as_json()}</script>
</body>
</html>
"""
    return fill_texts(template, config.locale)
