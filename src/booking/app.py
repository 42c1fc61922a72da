"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import text

from booking.api_docs import add_api_docs
from booking.availability.routes import router as availability_router
from booking.bookings.routes import calendar_router, insights_router, series_router
from booking.bookings.routes import router as bookings_router
from booking.brands.routes import router as brands_router
from booking.calendars.routes import feed_router as calendar_feed_router
from booking.calendars.routes import router as calendars_router
from booking.checkout.routes import router as checkout_router
from booking.clock import Clock
from booking.config import Settings
from booking.context import AppContext
from booking.deps import PUBLIC, Context, authenticate, get_principal
from booking.enums import ErrorCode
from booking.errors import Conflict, Unauthorized
from booking.hot_paths import HotPaths
from booking.http import BodyLimitMiddleware, SecurityHeadersMiddleware, install_error_handlers
from booking.instructors.routes import router as instructors_router
from booking.jobs import background_jobs
from booking.metrics_endpoint import install_metrics
from booking.openapi import AppWideErrors, document
from booking.packages.routes import packages_router, passes_router
from booking.privacy.routes import router as privacy_router
from booking.web.routes import router as web_router
from booking.webhooks.routes import router as webhooks_router

log = logging.getLogger("booking")

DESCRIPTION = """Scheduling API for 1:1 coaching sessions sold by several brands that share instructors.

Errors always have the body `{"error": {"code", "message", "details"}}`; each operation lists the codes
it can answer, per status. Instants are UTC (`Z`)."""

# What any operation can answer, whatever it does: a bad token (or none where one is needed), an
# oversized body, the database away; and on writes, a transaction PostgreSQL aborted for a concurrent
# one (after the retries) or a conflict with data no service check foresaw.
APP_WIDE_ERRORS = AppWideErrors(
    every=(Unauthorized, ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.DATABASE_UNAVAILABLE),
    writes=(Conflict,),
)


class BookingApp(FastAPI):
    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = document(super().openapi(), self.routes, APP_WIDE_ERRORS)
        return self.openapi_schema


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, hot_paths: bool = True
) -> FastAPI:
    """The app; `hot_paths=False` leaves every request to FastAPI's routes (the tests compare the two)."""
    settings = settings or Settings()
    context = AppContext.from_settings(settings, clock=clock, jobs=background_jobs)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _log_startup(settings)
        async with context.background_worker():
            yield
        await context.aclose()

    app = BookingApp(
        title="Booking service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Every call with a token has it checked, public reads too: a bad token is never anonymous.
        # No token at all is refused here too, unless the route is marked PUBLIC (booking.deps).
        dependencies=[Depends(get_principal)],
        # /metrics (prometheus-client) is this service's telemetry: FastAPI's own OpenTelemetry hooks
        # would only ask, on every request, whether a provider was configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,  # served from the package's own Swagger UI (booking.api_docs), not a CDN
        redoc_url=None,
    )
    add_api_docs(app)
    app.state.context = context
    install_error_handlers(app, authenticate)
    app.include_router(brands_router)
    app.include_router(instructors_router)
    app.include_router(availability_router)
    app.include_router(calendar_router)
    app.include_router(bookings_router)
    app.include_router(series_router)
    app.include_router(insights_router)
    app.include_router(packages_router)
    app.include_router(passes_router)
    app.include_router(checkout_router)
    app.include_router(privacy_router)
    app.include_router(webhooks_router)
    app.include_router(calendars_router)
    app.include_router(calendar_feed_router)
    app.include_router(web_router)
    app.add_api_route("/health", health, methods=["GET"], tags=["operations"], dependencies=[PUBLIC])

    if hot_paths:
        app.add_middleware(HotPaths, fastapi=app)  # innermost: the layers below apply to it too
    # GET /metrics, and the timing of each request, only when METRICS_TOKEN is set.
    app.add_middleware(SecurityHeadersMiddleware, observe=install_metrics(app, settings))
    if settings.cors_origins.strip():
        origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "idempotency-key"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app


async def health(ctx: Context) -> dict[str, str]:
    """Liveness and database reachability, for load balancers."""
    async with ctx.db.transaction(write=False) as session:
        await session.execute(text("SELECT 1"))
    return {"status": "ok", "database": ctx.db.dialect}


def _log_startup(settings: Settings) -> None:
    if not settings.supabase_jwt_secret and not settings.supabase_url:
        log.warning("SUPABASE_JWT_SECRET and SUPABASE_URL are not set: user tokens will be refused (401)")
    if not settings.booking_reminder_api_key:
        log.warning("BOOKING_REMINDER_API_KEY is not set: POST /api/bookings/reminders refuses every call")
