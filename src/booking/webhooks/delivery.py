"""Events into webhook deliveries, and deliveries to their endpoints (SPEC §12, Standard Webhooks).

The worker calls, each pass, with its clock's `now`:

- `dispatch_events`: events not yet fanned out become one `pending` delivery per endpoint of the event's
  brand subscribed to its type (or to `"*"`), disabled endpoints included (theirs wait until enabled);
- `deliver_due`: due deliveries to enabled endpoints are claimed with a lease, sent in parallel through
  the outbound client, and their outcomes recorded: delivered, due again after the next wait of
  `SCHEDULE`, or `failed` when the schedule is used up.

Any number of workers may share a database: claims skip rows another worker holds (PostgreSQL) or wait
for the write lock (SQLite), and a lease keeps a claimed delivery from a second claim until its outcome
is recorded. A worker that dies mid-attempt leaves a lease that runs out, and the attempt is made again:
at least once, as the specification says; consumers dedupe by `webhook-id`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from standardwebhooks.webhooks import Webhook

from booking import metrics
from booking.db import Database, retrying
from booking.enums import WebhookDeliveryStatus
from booking.models.webhooks import WebhookEndpoint
from booking.outbound import OutboundClient, OutboundError, ResponseTooLarge
from booking.webhooks import repository
from booking.webhooks.repository import AttemptRecord, Backlog, Claimed, Undispatched
from booking.webhooks.schemas import ALL_EVENTS
from booking.worker import Job

log = logging.getLogger(__name__)

# The waits after the 1st, 2nd, … failed attempt; a failure after the last one makes the delivery failed.
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
TIMEOUT_SECONDS = 15.0
# Longer than an attempt can take, so a lease only runs out when its worker died.
LEASE = timedelta(seconds=60)
# A consumer's answer is not read for anything but its status: no need to hold much of it.
MAX_ANSWER_BYTES = 64 * 1024
DISPATCH_LIMIT = 100
DELIVERY_LIMIT = 100
# Delivery batches attempted at once by one worker (each holds its deliveries' leases).
ATTEMPTS_IN_FLIGHT = 4


def new_delivery_id() -> str:
    return f"msg_{uuid4().hex}"


def subscribed(endpoint: WebhookEndpoint, event: Undispatched) -> bool:
    events = json.loads(endpoint.events)
    return ALL_EVENTS in events or event.type in events


async def dispatch_events(db: Database, now: datetime, limit: int = DISPATCH_LIMIT) -> int:
    """Fan out up to `limit` undispatched events, oldest first, in one transaction; answers how many."""

    async def attempt() -> int:
        async with db.transaction(write=True) as session:
            events = await repository.undispatched_events(session, limit)
            if not events:
                return 0
            endpoints = await repository.endpoints_of_brands(session, {event.brand_id for event in events})
            rows = [
                _delivery_row(endpoint, event, now)
                for event in events
                for endpoint in endpoints
                if endpoint.brand_id == event.brand_id and subscribed(endpoint, event)
            ]
            await repository.add_deliveries(session, rows)
            await repository.mark_dispatched(session, [event.id for event in events], now)
            return len(events)

    return await retrying(attempt)


def _delivery_row(endpoint: WebhookEndpoint, event: Undispatched, now: datetime) -> dict[str, Any]:
    return {
        "id": new_delivery_id(),
        "endpoint_id": endpoint.id,
        "event_id": event.id,
        "event_type": event.type,
        "booking_id": event.booking_id,
        "status": WebhookDeliveryStatus.PENDING,
        "attempts": 0,
        "last_status_code": None,
        "last_error": None,
        "next_attempt_at": now,
        "locked_until": None,
        "created_at": now,
        "delivered_at": None,
    }


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    status_code: int | None  # None: no HTTP answer at all
    error: str | None  # None: delivered

    @property
    def delivered(self) -> bool:
        return self.error is None


async def deliver_due(
    db: Database,
    client: OutboundClient,
    now: datetime,
    limit: int = DELIVERY_LIMIT,
    *,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> int:
    """Attempt up to `limit` due deliveries in parallel, record the outcomes; answers how many attempts."""
    async with db.transaction(write=True) as session:
        claimed = await repository.claim_due(session, now, now + LEASE, limit)
    if not claimed:
        return 0
    outcomes = await asyncio.gather(*(_attempt(client, item, now, timeout_seconds) for item in claimed))

    async def record() -> None:
        async with db.transaction(write=True) as session:
            await repository.record_attempts(session, [_recorded(outcome, now) for outcome in outcomes])

    await retrying(record)
    for outcome in outcomes:
        metrics.delivery_attempt(_outcome_name(outcome))
    return len(claimed)


def _outcome_name(outcome: Outcome) -> str:
    if outcome.delivered:
        return "delivered"
    return "failed" if outcome.delivery.attempts + 1 > len(SCHEDULE) else "retry"


def payload(item: Claimed) -> str:
    """The body: the event's type, when it happened (UTC, `Z`), and its data as stored."""
    happened = item.event_created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    body = {"type": str(item.event_type), "timestamp": happened, "data": json.loads(item.data)}
    return json.dumps(body, separators=(",", ":"))


def signed_headers(item: Claimed, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt at `now`."""
    # Whole seconds, as the header carries them: the signature covers exactly the header's value.
    sent_at = datetime.fromtimestamp(math.floor(now.timestamp()), UTC)
    return {
        "webhook-id": item.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(item.secret).sign(item.id, sent_at, body),
        "content-type": "application/json",
    }


async def _attempt(client: OutboundClient, item: Claimed, now: datetime, timeout_seconds: float) -> Outcome:
    body = payload(item)
    try:
        answer = await client.post(
            item.url,
            content=body.encode(),
            headers=signed_headers(item, body, now),
            timeout_seconds=timeout_seconds,
            max_bytes=MAX_ANSWER_BYTES,
        )
        status_code = answer.status_code
    except ResponseTooLarge as exc:
        # The status came in full; only the body we do not need was cut off.
        status_code = exc.status_code
    except OutboundError as exc:
        return Outcome(item, None, str(exc))
    except Exception as exc:  # one broken attempt must not lose the outcomes of the others
        log.exception("webhook delivery %s failed unexpectedly", item.id)
        return Outcome(item, None, f"internal error: {type(exc).__name__}")
    if 200 <= status_code < 300:
        return Outcome(item, status_code, None)
    if 300 <= status_code < 400:
        return Outcome(item, status_code, f"answered HTTP {status_code}: redirects are not followed")
    return Outcome(item, status_code, f"answered HTTP {status_code}")


def _recorded(outcome: Outcome, now: datetime) -> AttemptRecord:
    """What one attempt's outcome sets (besides `attempts + 1` and the released lease)."""
    attempts = outcome.delivery.attempts + 1
    status, next_at = WebhookDeliveryStatus.DELIVERED, None
    if not outcome.delivered and attempts > len(SCHEDULE):
        status = WebhookDeliveryStatus.FAILED
    elif not outcome.delivered:
        status, next_at = WebhookDeliveryStatus.PENDING, now + SCHEDULE[attempts - 1]
    delivered_at = now if outcome.delivered else None
    return AttemptRecord(
        outcome.delivery.id, status, outcome.status_code, outcome.error, next_at, delivered_at
    )


async def backlog(db: Database, now: datetime) -> Backlog:
    """Pending deliveries and the oldest due one, for the worker's metrics."""
    async with db.transaction(write=False) as session:
        return await repository.backlog(session, now)


def webhook_jobs(
    db: Database, outbound: OutboundClient, *, timeout_seconds: float = TIMEOUT_SECONDS
) -> list[Job]:
    """The worker's webhook work: events fanned out to deliveries, then the deliveries attempted (in the
    background, ATTEMPTS_IN_FLIGHT batches at once, so that a receiver that hangs delays no other)."""

    async def deliver(now: datetime) -> int:
        return await deliver_due(db, outbound, now, timeout_seconds=timeout_seconds)

    return [
        Job(
            "events",
            lambda now: dispatch_events(db, now),
            repository.any_event_undispatched,
            batch=DISPATCH_LIMIT,
            after_work=True,
        ),
        Job(
            "deliveries",
            deliver,
            repository.any_delivery_due,
            batch=DELIVERY_LIMIT,
            after_work=True,
            in_flight=ATTEMPTS_IN_FLIGHT,
        ),
    ]
