"""`/docs`: Swagger UI from the package's own copy (docs_assets/), so that the interactive docs load
nothing from a third-party origin and work offline. Public, like FastAPI's own docs route."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = Path(__file__).parent / "docs_assets"
ASSETS_PATH = "/docs/assets"


def add_api_docs(app: FastAPI) -> None:
    """The docs page and its assets; call with `docs_url=None` given to the app (no CDN page)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - docs",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
        )

    app.add_route("/docs", docs, include_in_schema=False)
