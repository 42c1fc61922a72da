"""`GET /metrics`: the scrape endpoint, with the queue gauges read from the database at scrape time.

The counters themselves live in `booking.metrics`, which every layer may report to; this module is
the app's wiring of them (it knows the context and the app).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from booking.config import Settings
from booking.context import AppContext
from booking.errors import Unauthorized
from booking.http import RequestObserver
from booking.metrics import METRICS_PATH, MULTIPROCESS_DIR, build_registry, observe_asgi
from booking.metrics_repository import Backlog, backlogs

log = logging.getLogger("booking.metrics")


class _Scrape(Collector):
    """One scrape: the registry's metrics and the queue gauges read for it."""

    def __init__(self, registry: Collector, found: Sequence[Backlog] | None, now: datetime) -> None:
        self.registry = registry
        self.found = found
        self.now = now

    def collect(self) -> Iterable[Metric]:
        yield from self.registry.collect()
        if self.found is None:
            return
        queued = GaugeMetricFamily("booking_jobs_queued", "Jobs due now, by queue", labels=["queue"])
        oldest = GaugeMetricFamily(
            "booking_jobs_oldest_age_seconds",
            "How long the longest-waiting due job has been due, by queue (0 when none is)",
            labels=["queue"],
        )
        for backlog in self.found:
            queued.add_metric([backlog.queue], backlog.queued)
            due_at = backlog.oldest_due_at
            age = (self.now - due_at).total_seconds() if due_at is not None else 0.0
            oldest.add_metric([backlog.queue], max(age, 0.0))
        yield queued
        yield oldest


async def exposition(registry: Collector, context: AppContext) -> bytes:
    """The Prometheus text of a scrape, with the queues read from the database now."""
    now = context.clock.now()
    found: list[Backlog] | None
    try:
        async with context.db.transaction(write=False) as session:
            found = await backlogs(session, now)
    except (SQLAlchemyError, OSError) as exc:
        # The request counters matter most when the database is away: answer them without the queues.
        log.warning("metrics: the queues could not be read: %s", exc)
        found = None
    return generate_latest(_Scrape(registry, found, now))


def bearer_matches(authorization: str | None, expected: str) -> bool:
    """Whether the Authorization header is `Bearer <expected>`, compared in constant time."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def install_metrics(app: FastAPI, settings: Settings) -> RequestObserver | None:
    """Adds GET /metrics when METRICS_TOKEN is set; the request observer for the middleware, else None.

    Without the token there is no route, so /metrics is the 404 of any unknown path, and requests are
    not timed at all (nobody could read the figures). The route is a plain Starlette one: FastAPI would
    put the app-wide `get_principal` in front of it, which takes the metrics token for a bad Supabase
    token (401). It is not an API operation, so it is not in the OpenAPI document either.
    """
    token = settings.metrics_token
    if not token:
        return None
    registry = build_registry(os.environ.get(MULTIPROCESS_DIR))
    route: Any = None

    async def scrape(request: Request) -> Response:
        # Starlette's router names the matched route in the scope; FastAPI's does so for its own routes
        # only. The request counter labels scrapes with it.
        request.scope["route"] = route
        if not bearer_matches(request.headers.get("authorization"), token):
            raise Unauthorized("GET /metrics needs Authorization: Bearer <METRICS_TOKEN>")
        context: AppContext = request.app.state.context
        return Response(await exposition(registry, context), media_type=CONTENT_TYPE_LATEST)

    app.add_route(METRICS_PATH, scrape, methods=["GET"], include_in_schema=False)
    route = next(r for r in app.router.routes if getattr(r, "endpoint", None) is scrape)
    return observe_asgi
