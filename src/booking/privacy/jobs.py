"""Retention (RETENTION_DAYS): the worker erases the student's personal details of bookings that ended
that many days ago, as an erasure on request would, without cancelling anything (they are over).

Hourly, in batches of `BATCH` bookings, each in its own transaction (its rows taken with SKIP LOCKED, so
that several workers share the work), up to `BATCHES_PER_RUN` a run. Each booking erased is an audit
entry `booking.erased` by `system`. Stored idempotent answers of the callers who made those bookings
that are past their lifetime (the only ones that can name a booking ended a day ago) are deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from booking.audit import Audit, Entry
from booking.bookings.idempotency import KEY_LIFETIME
from booking.bookings.messages import unit_of_work
from booking.db import Database
from booking.models.bookings import Booking
from booking.notifications.notifier import Notifier
from booking.privacy import erasure, repository
from booking.unit_of_work import UnitOfWork
from booking.worker import Job

BATCH = 200
BATCHES_PER_RUN = 25
EVERY = timedelta(hours=1)
ERASED = {"student_erased": {"before": False, "after": True}}


async def erase_ended(db: Database, notifier: Notifier, days: int, now: datetime) -> int:
    """One run: batches until one comes back short (or the run's share is done); answers how many
    bookings were erased."""
    total = 0
    for _ in range(BATCHES_PER_RUN):
        done = await unit_of_work(db, notifier, now).run(
            lambda work: _erase_batch(work, now - timedelta(days=days))
        )
        total += done
        if done < BATCH:
            break
    return total


async def _erase_batch(work: UnitOfWork, cutoff: datetime) -> int:
    session = work.session
    ids = await repository.ended_with_details(session, cutoff, BATCH)
    if not ids:
        return 0
    which = Booking.id.in_(ids)
    callers = await repository.callers_of(session, which)
    erased: list[Any] = await erasure.erase_details(session, which, work.now)
    await repository.delete_expired_answers(session, callers, work.now - KEY_LIFETIME)
    await erasure.erase_audit(session, repository.audit_of({row.brand_id for row in erased}, ids))
    audit = work.effect(Audit)
    for row in erased:
        audit.record(
            Entry(row.brand_id, audit.actor, "booking.erased", "booking", row.id, ERASED, row.student_id)
        )
    return len(ids)


def retention_jobs(db: Database, notifier: Notifier, days: int | None) -> list[Job]:
    """The retention job, when RETENTION_DAYS is set."""
    if days is None:
        return []
    return [Job("retention", lambda now: erase_ended(db, notifier, days, now), every=EVERY)]
