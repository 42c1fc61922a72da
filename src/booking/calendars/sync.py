"""The worker's calendar job (SPEC §13): fetch each due busy calendar and store the busy time it holds.

Claimed with a lease like every queue of the worker, fetched through the one outbound client (the URL
rules at connection time, 10 s, 5 MB, no redirects) with a conditional GET, parsed off the event loop,
and stored in one transaction per calendar. A failure of any kind only records `last_error`: the busy
time of the last good fetch stays until a fetch succeeds again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.calendars import repository
from booking.calendars.parsing import FeedUnreadable, busy_time_of, pieces
from booking.calendars.repository import SyncClaim, SyncResult
from booking.db import Database
from booking.outbound import OutboundClient, OutboundError
from booking.scheduling import Interval
from booking.worker import Job

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_BYTES = 5 * 1024 * 1024
CALENDARS_PER_PASS = 8
LEASE = timedelta(seconds=60)  # longer than a fetch and a parse can take
# Busy time is read from a day back (a session under way) to the longest advance window plus a margin:
# while the stored time still covers the window, an unchanged feed is answered with a cheap 304.
LOOK_BACK = timedelta(days=1)
MARGIN = timedelta(days=1)


async def sync_due_calendars(
    db: Database,
    outbound: OutboundClient,
    now: datetime,
    every: timedelta,
    *,
    limit: int = CALENDARS_PER_PASS,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> int:
    """Fetch the calendars due by `now`; answers how many were fetched (successfully or not)."""
    async with db.transaction(write=True) as session:
        claims = await repository.claim_due_calendars(session, now, now + LEASE, limit)
    if not claims:
        return 0
    results = await asyncio.gather(*(fetch(outbound, claim, now, timeout_seconds) for claim in claims))
    async with db.transaction(write=True) as session:
        for claim, result in zip(claims, results, strict=True):
            await repository.record_sync(session, claim, result, now, now + every)
    return len(claims)


async def fetch(
    outbound: OutboundClient, claim: SyncClaim, now: datetime, timeout_seconds: float = TIMEOUT_SECONDS
) -> SyncResult:
    """One fetch and parse of one calendar; never raises for anything the feed or its server does."""
    window = Interval(now - LOOK_BACK, now + timedelta(days=claim.advance_days))
    headers = _conditional_headers(claim) if _still_covers(claim, window) else {}
    try:
        response = await outbound.get(
            claim.url, headers=headers, timeout_seconds=timeout_seconds, max_bytes=MAX_BYTES
        )
    except OutboundError as exc:
        return SyncResult(error=str(exc))
    if response.status_code == 304 and headers:
        return SyncResult()
    if not response.is_success:
        return SyncResult(error=f"the calendar's server answered HTTP {response.status_code}")
    expanded = Interval(window.start, window.end + MARGIN)
    zone = ZoneInfo(claim.timezone)
    try:
        busy = await asyncio.to_thread(busy_time_of, response.body, expanded, zone)
    except FeedUnreadable as exc:
        return SyncResult(error=str(exc))
    except Exception as exc:  # the parsers meet any bytes a stranger serves: no failure may stop the pass
        log.warning("busy calendar %s could not be read", claim.id, exc_info=True)
        return SyncResult(error=f"the calendar could not be read ({type(exc).__name__})")
    return SyncResult(
        pieces=pieces(busy),
        busy_count=len(busy),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
        expanded_until=expanded.end,
    )


def _still_covers(claim: SyncClaim, window: Interval) -> bool:
    return claim.expanded_until is not None and claim.expanded_until >= window.end


def _conditional_headers(claim: SyncClaim) -> dict[str, str]:
    headers = {}
    if claim.etag:
        headers["if-none-match"] = claim.etag
    if claim.last_modified:
        headers["if-modified-since"] = claim.last_modified
    return headers


def calendar_jobs(
    db: Database, outbound: OutboundClient, every: timedelta, *, timeout_seconds: float = TIMEOUT_SECONDS
) -> list[Job]:
    """The worker's calendar work: the busy calendars due fetched, one sync at a time, in the background
    (a feed's server may take its 10 s)."""

    async def sync(now: datetime) -> int:
        return await sync_due_calendars(db, outbound, now, every, timeout_seconds=timeout_seconds)

    return [Job("calendars", sync, repository.any_calendar_due, in_flight=1)]
