from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from booking.brands.repository import brand_by_slug
from booking.config import origin_list
from booking.deps import PUBLIC, Context, CurrentPrincipal
from booking.http import conditional_response
from booking.i18n import DEFAULT_LOCALE, page_locale
from booking.web.assets import assets
from booking.web.console import ConsoleConfig, console_page, console_role
from booking.web.page import PageConfig, booking_page, not_found_page, page_headers

# The booking page, its assets and the console are public pages; the console's `/me` needs a token.
router = APIRouter(include_in_schema=False)

YEAR = 365 * 24 * 3600


@router.get("/book/assets/{name}", dependencies=[PUBLIC])
async def asset(
    name: str, v: str | None = None, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    found = assets().get(name)
    if found is None:
        return Response("not found", status_code=status.HTTP_404_NOT_FOUND, media_type="text/plain")
    # The versioned URL the page uses never changes content: cache it for a year.
    cache = f"public, max-age={YEAR}, immutable" if v == found.version else "no-cache"
    return conditional_response(found.body, found.media_type, found.etag, cache, if_none_match)


# `?lang=` on a page: one of the supported locales; any other value (of any length) is passed over, not
# refused: a page answers with a page.
Lang = Annotated[str | None, Query()]
AcceptLanguage = Annotated[str | None, Header()]


@router.get("/book/{brand_slug}", response_class=HTMLResponse, dependencies=[PUBLIC])
async def page(
    brand_slug: str,
    request: Request,
    ctx: Context,
    instructor: Annotated[UUID | None, Query()] = None,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """The booking page of a brand; `?instructor=` preselects one of its instructors, `?lang=` its
    language (else the browser's, else the brand's)."""
    origins = origin_list(ctx.settings.embed_origins)
    headers = page_headers(origins)
    async with ctx.db.transaction(write=False) as session:
        brand = await brand_by_slug(session, brand_slug)
    if brand is None:
        locale = page_locale(lang, accept_language, DEFAULT_LOCALE)
        return HTMLResponse(
            not_found_page(brand_slug, locale), status_code=status.HTTP_404_NOT_FOUND, headers=headers
        )
    config = PageConfig(
        brand_id=str(brand.id),
        brand_name=brand.name,
        brand_slug=brand.slug,
        currency=brand.currency,
        instructor_id=None if instructor is None else str(instructor),
        sign_in_url=ctx.settings.sign_in_url,
        embed_origins=origins,
        demo_token=getattr(request.app.state, "demo_student_token", None),
        locale=page_locale(lang, accept_language, brand.locale),
        payments=ctx.payments is not None,
    )
    return HTMLResponse(booking_page(config), headers=headers)


@router.get("/console/{brand_slug}", response_class=HTMLResponse, dependencies=[PUBLIC])
async def console(
    brand_slug: str,
    request: Request,
    ctx: Context,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """The coach console of a brand: its instructors' and admins' page (they sign in on it)."""
    origins = origin_list(ctx.settings.embed_origins)
    headers = page_headers(origins)
    async with ctx.db.transaction(write=False) as session:
        brand = await brand_by_slug(session, brand_slug)
    if brand is None:
        locale = page_locale(lang, accept_language, DEFAULT_LOCALE)
        return HTMLResponse(
            not_found_page(brand_slug, locale), status_code=status.HTTP_404_NOT_FOUND, headers=headers
        )
    demo = getattr(request.app.state, "demo_console_tokens", None) or {}
    config = ConsoleConfig(
        brand_id=str(brand.id),
        brand_name=brand.name,
        brand_slug=brand.slug,
        currency=brand.currency,
        sign_in_url=ctx.settings.sign_in_url,
        embed_origins=origins,
        demo_instructor_token=demo.get("instructor"),
        demo_brand_admin_token=demo.get("brand_admin"),
        locale=page_locale(lang, accept_language, brand.locale),
    )
    return HTMLResponse(console_page(config), headers=headers)


@router.get("/console/{brand_slug}/me")
async def console_me(brand_slug: str, ctx: Context, principal: CurrentPrincipal) -> dict[str, Any]:
    """Who the token's holder is in this brand: its admin, and/or which of its instructors (403:
    neither). The console asks it once signed in, to choose its views."""
    async with ctx.db.transaction(write=False) as session:
        role = await console_role(session, principal, brand_slug)
    return role.as_json()
