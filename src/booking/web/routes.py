from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from booking.brands.repository import brand_by_slug
from booking.config import origin_list
from booking.deps import PUBLIC, Context
from booking.http import conditional_response
from booking.web.assets import assets
from booking.web.page import PageConfig, booking_page, not_found_page, page_headers

router = APIRouter(prefix="/book", include_in_schema=False, dependencies=[PUBLIC])

YEAR = 365 * 24 * 3600


@router.get("/assets/{name}")
async def asset(
    name: str, v: str | None = None, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    found = assets().get(name)
    if found is None:
        return Response("not found", status_code=status.HTTP_404_NOT_FOUND, media_type="text/plain")
    # The versioned URL the page uses never changes content: cache it for a year.
    cache = f"public, max-age={YEAR}, immutable" if v == found.version else "no-cache"
    return conditional_response(found.body, found.media_type, found.etag, cache, if_none_match)


@router.get("/{brand_slug}", response_class=HTMLResponse)
async def page(
    brand_slug: str,
    request: Request,
    ctx: Context,
    instructor: Annotated[UUID | None, Query()] = None,
) -> HTMLResponse:
    """The booking page of a brand; `?instructor=` preselects one of its instructors."""
    origins = origin_list(ctx.settings.embed_origins)
    headers = page_headers(origins)
    async with ctx.db.transaction(write=False) as session:
        brand = await brand_by_slug(session, brand_slug)
    if brand is None:
        return HTMLResponse(
            not_found_page(brand_slug), status_code=status.HTTP_404_NOT_FOUND, headers=headers
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
        payments=ctx.payments is not None,
    )
    return HTMLResponse(booking_page(config), headers=headers)
