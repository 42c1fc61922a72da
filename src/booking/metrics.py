"""Prometheus metrics (SPEC §12, `GET /metrics`): what to count, and the scrape endpoint.

The rest of the code reports through the small functions below (`booking_created()`,
`delivery_attempt("retry")`, …); the HTTP layer times every request through `observe_asgi`, called by
`booking.http.SecurityHeadersMiddleware` once the app answered, with the route's template
(`/api/bookings/{booking_id}`), never the raw path, so the number of series stays bounded.

Registries. The counters and histograms are process-wide objects registered in no registry: a Prometheus
metric counts what one process did, and the code that reports (a service, the worker, the notifier) has
no app at hand. Each app builds its own `CollectorRegistry` that exposes them, plus the queue gauges read
from its own database at scrape time. Nothing goes into prometheus-client's global default registry, so
several apps in one process (the tests) never clash over names; they do share the counts, which tests
therefore compare before and after.

Several server processes (`booking serve --workers N`): each process counts on its own, and a scrape is
answered by whichever process the connection reached, so without more set-up the counters seem to jump
back and forth. prometheus-client's multiprocess mode is the remedy: with `PROMETHEUS_MULTIPROC_DIR` set
in the environment before the server starts, every process writes its counts to files in that directory
and the process that answers a scrape sums them all (`MultiProcessCollector`). `booking serve` should
empty the directory of earlier runs' files when it starts (`prepare_multiprocess_dir`). The queue gauges
need no files: they are read from the database by the process that answers. The per-process collectors
(memory, CPU, garbage collection) are left out in that mode, as their values cannot be summed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import Scope

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PATH = "/metrics"
# The route label of a request no route matched (a 404): the raw path would be unbounded.
UNMATCHED = "unmatched"
# Any other method (clients may send any token) is counted as OTHER, for the same reason.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"
DELIVERY_OUTCOMES = ("delivered", "failed", "retry")
STRIPE_EVENT_OUTCOMES = ("applied", "repeat", "ignored", "refused")
PAYMENT_TASK_KINDS = ("refund", "expire_session")
PAYMENT_TASK_OUTCOMES = ("done", "failed", "retry")

# A booking takes milliseconds: finer buckets at the low end than prometheus-client's defaults.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Provider calls are bounded by NOTIFICATION_TIMEOUT_SECONDS (at most 30).
PROVIDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)

if _directory := os.environ.get(MULTIPROCESS_DIR):
    # In multiprocess mode a metric opens its file when it is created, just below.
    Path(_directory).mkdir(parents=True, exist_ok=True)

_REQUESTS = Counter(
    "booking_http_requests",
    "HTTP requests answered, by route template, method and status",
    ("route", "method", "status"),
    registry=None,
)
_REQUEST_SECONDS = Histogram(
    "booking_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and method",
    ("route", "method"),
    buckets=REQUEST_BUCKETS,
    registry=None,
)
_BOOKINGS_CREATED = Counter("booking_bookings_created", "Bookings created", registry=None)
_BOOKINGS_REFUSED = Counter(
    "booking_bookings_refused", "Booking requests refused, by error code", ("code",), registry=None
)
_DELIVERY_ATTEMPTS = Counter(
    "booking_webhook_delivery_attempts",
    "Webhook delivery attempts, by outcome (delivered, failed for good, retry scheduled)",
    ("outcome",),
    registry=None,
)
_PROVIDER_SECONDS = Histogram(
    "booking_provider_call_duration_seconds",
    "Calls to the email and SMS providers, by provider and outcome",
    ("provider", "outcome"),
    buckets=PROVIDER_BUCKETS,
    registry=None,
)
_STRIPE_EVENTS = Counter(
    "booking_stripe_events",
    "Stripe webhook events, by outcome (applied, a repeat of an applied one, ignored, refused signature)",
    ("outcome",),
    registry=None,
)
_PAYMENT_TASK_ATTEMPTS = Counter(
    "booking_payment_task_attempts",
    "Refunds and session expiries asked of Stripe, by kind and outcome (done, failed for good, retry)",
    ("kind", "outcome"),
    registry=None,
)
PROCESS_METRICS: tuple[Collector, ...] = (
    _REQUESTS,
    _REQUEST_SECONDS,
    _BOOKINGS_CREATED,
    _BOOKINGS_REFUSED,
    _DELIVERY_ATTEMPTS,
    _PROVIDER_SECONDS,
    _STRIPE_EVENTS,
    _PAYMENT_TASK_ATTEMPTS,
)
# Exposed at 0 from the start, so that rate() sees the first one.
for _outcome in DELIVERY_OUTCOMES:
    _DELIVERY_ATTEMPTS.labels(_outcome)
for _outcome in STRIPE_EVENT_OUTCOMES:
    _STRIPE_EVENTS.labels(_outcome)
for _kind in PAYMENT_TASK_KINDS:
    for _outcome in PAYMENT_TASK_OUTCOMES:
        _PAYMENT_TASK_ATTEMPTS.labels(_kind, _outcome)

# The children of each (route, method, status): `labels()` validates and locks on every call, a dict
# lookup does not. Bounded like the labels themselves.
_request_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """One answered HTTP request; `route` is the template (`/api/bookings/{booking_id}`)."""
    if method not in KNOWN_METHODS:
        method = OTHER_METHOD
    key = (route, method, status)
    series = _request_series.get(key)
    if series is None:
        series = _request_series[key] = (
            _REQUESTS.labels(route, method, str(status)),
            _REQUEST_SECONDS.labels(route, method),
        )
    series[0].inc()
    series[1].observe(seconds)


def observe_asgi(scope: Scope, status: int, seconds: float) -> None:
    """`observe_request` for an ASGI request, once the app ran: routing put the matched route in scope."""
    route = scope.get("route")
    observe_request(getattr(route, "path", UNMATCHED), scope["method"], status, seconds)


def booking_created() -> None:
    _BOOKINGS_CREATED.inc()


def booking_refused(code: str) -> None:
    """A booking request refused; `code` is its `ErrorCode` (`slot_unavailable`, `too_soon`, …)."""
    _BOOKINGS_REFUSED.labels(code).inc()


def delivery_attempt(outcome: str) -> None:
    """One webhook delivery attempt: `delivered`, `failed` (given up) or `retry` (another one is due)."""
    _DELIVERY_ATTEMPTS.labels(outcome).inc()


def stripe_event(outcome: str) -> None:
    """One Stripe webhook call: `applied`, `repeat` (its id was applied before), `ignored` (a type or a
    booking we do not know) or `refused` (its signature)."""
    _STRIPE_EVENTS.labels(outcome).inc()


def payment_task_attempt(kind: str, outcome: str) -> None:
    """One refund or session expiry asked of Stripe: `done`, `failed` (given up) or `retry`."""
    _PAYMENT_TASK_ATTEMPTS.labels(kind, outcome).inc()


def provider_call(provider: str, outcome: str, seconds: float) -> None:
    """One call to an email or SMS provider (`resend`, `twilio`); `outcome` from a small fixed set."""
    _PROVIDER_SECONDS.labels(provider, outcome).observe(seconds)


def build_registry(multiprocess_dir: str | None = None) -> CollectorRegistry:
    """The registry an app exposes: this process's metrics, or every process's in multiprocess mode."""
    registry = CollectorRegistry()
    if multiprocess_dir:
        MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
        return registry
    for metric in PROCESS_METRICS:
        registry.register(metric)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def prepare_multiprocess_dir() -> None:
    """Before `booking serve` starts its processes: the files of earlier runs out of the directory.

    Does nothing without PROMETHEUS_MULTIPROC_DIR. Keeps this process's own files (with `--workers 1`
    it is the server). A `booking worker` already running with the same directory loses its files.
    """
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    own = f"_{os.getpid()}.db"
    for stale in path.glob("*.db"):
        if not stale.name.endswith(own):
            stale.unlink(missing_ok=True)
