"""The interactive API docs in a real browser with every other origin blocked: Swagger UI is served by
the service itself, so /docs renders the operations offline (Debian's Chromium, through Playwright)."""

from __future__ import annotations

from typing import Any

from tests.test_booking_page import Site, browser, page_server, site, tokyo

__all__ = ["browser", "page_server", "site", "tokyo"]  # fixtures of tests/test_booking_page.py, used here


async def test_docs_render_with_no_other_origin_reachable(site: Site, tokyo: Any) -> None:
    page = await tokyo.new_page()
    elsewhere: list[str] = []

    async def only_the_service(route: Any) -> None:
        if route.request.url.startswith(site.base):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    await page.route("**/*", only_the_service)
    await page.goto(f"{site.base}/docs")
    await page.locator(".swagger-ui .info .title").wait_for()
    assert "Booking service" in await page.locator(".swagger-ui .info .title").inner_text()
    assert await page.locator(".opblock-summary-path", has_text="/api/bookings").count() > 0
    assert elsewhere == []
