"""The coach console: one page for a brand's instructors and admins (Bookings, Schedule, Insights).

Served like the booking page: static HTML and one JSON block of configuration, the booking page's
headers and policy. The page never sees a token on the server (it lives in the browser's memory), so
who the caller is — an admin of the brand, or which of its instructors — is asked with the token by
the page itself (`GET /console/{brand_slug}/me`, answered by `console_role`).
"""

from __future__ import annotations

import html
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

    def as_json(self) -> dict[str, Any]:
        own = None if self.instructor_id is None else str(self.instructor_id)
        return {"brand_admin": self.brand_admin, "instructor_id": own}


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
    return ConsoleRole(admin, own)


VIEWS = (("bookings", "Bookings"), ("schedule", "Schedule"), ("insights", "Insights"))
LISTS = (
    ("upcoming", "Upcoming"),
    ("awaiting", "Awaiting payment"),
    ("past", "Past"),
    ("cancelled", "Cancelled"),
)


def _view_tabs() -> str:
    return "\n".join(
        f'<button type="button" role="tab" id="tab-{key}" aria-controls="panel-{key}" '
        f'aria-selected="{str(index == 0).lower()}">{label}</button>'
        for index, (key, label) in enumerate(VIEWS)
    )


def _list_tabs() -> str:
    return "\n".join(
        f'<button type="button" role="tab" data-list="{key}" aria-controls="booking-list" '
        f'aria-selected="{str(index == 0).lower()}">{label}</button>'
        for index, (key, label) in enumerate(LISTS)
    )


def console_page(config: ConsoleConfig) -> str:
    name = html.escape(config.brand_name)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coach console: {name}</title>
<link rel="stylesheet" href="{asset_url("style.css")}">
<link rel="stylesheet" href="{asset_url("console.css")}">
<script type="module" src="{asset_url("console.js")}"></script>
</head>
<body>
<main class="console">
<h1>Coach console: {name}</h1>
<div id="sign-in" hidden></div>
<p id="who"></p>
<div id="status" role="status"></div>
<div class="fields" id="instructor-field" hidden>
<div class="field"><label for="instructor">Instructor</label>
<select id="instructor" name="instructor"></select></div>
</div>
<div role="tablist" aria-label="Views" id="views" hidden>
{_view_tabs()}
</div>

<section role="tabpanel" id="panel-bookings" aria-labelledby="tab-bookings" hidden>
<h2>Bookings</h2>
<div role="tablist" aria-label="Which bookings" id="lists">
{_list_tabs()}
</div>
<form id="search-form" class="fields" role="search">
<div class="field"><label for="search">Search</label>
<input type="search" id="search" name="q" placeholder="student name or email"></div>
<button type="submit" class="align-end">Search</button>
</form>
<div id="booking-list" role="region" aria-label="Bookings list" aria-live="polite"></div>
</section>

<section role="tabpanel" id="panel-schedule" aria-labelledby="tab-schedule" hidden>
<h2>Schedule</h2>
<p id="schedule-zone"></p>
<form id="hours-form" novalidate>
<h3>Weekly hours</h3>
<div id="weekly"></div>
<button type="submit">Save hours</button>
</form>
<form id="time-off-form" novalidate>
<h3>Time off</h3>
<div class="fields">
<div class="field"><label for="off-from">From</label><input type="date" id="off-from"></div>
<div class="field"><label for="off-to">To</label><input type="date" id="off-to"></div>
<button type="submit" class="align-end">Block dates</button>
</div>
<ul id="overrides" aria-label="Dates off and custom hours"></ul>
</form>
<form id="settings-form" novalidate>
<h3>Settings</h3>
<div class="fields" id="settings"></div>
<button type="submit">Save settings</button>
</form>
<h3 id="preview-heading">Next 14 days</h3>
<ul id="preview" aria-labelledby="preview-heading" aria-live="polite"></ul>
<form id="check-form" novalidate>
<h3>Check a time</h3>
<div class="fields">
<div class="field"><label for="check-date">Date</label><input type="date" id="check-date"></div>
<div class="field"><label for="check-time">Time</label><input type="time" id="check-time"></div>
<button type="submit" class="align-end">Check a time</button>
</div>
<div id="explanation" aria-live="polite"></div>
</form>
</section>

<section role="tabpanel" id="panel-insights" aria-labelledby="tab-insights" hidden>
<h2>Insights</h2>
<form id="insights-form" class="fields" novalidate>
<div class="field"><label for="insights-from">From</label><input type="date" id="insights-from"></div>
<div class="field"><label for="insights-to">To</label><input type="date" id="insights-to"></div>
<button type="submit" class="align-end">Show</button>
</form>
<div id="insights"></div>
</section>
</main>
<script type="application/json" id="config">{config.as_json()}</script>
</body>
</html>
"""
