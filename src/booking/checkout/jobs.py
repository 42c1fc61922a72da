"""The worker's payment tasks: refunds and session expiries asked of Stripe until it answers.

A task is leased (its next attempt moved past the whole pass's calls) before Stripe is asked, so a
worker dying mid-call leaves it due again, and no other worker asks about it meanwhile. A refund is
retried on 409 (the same key still being answered), 429, 5xx, network errors and timeouts after 5 s,
5 min, 30 min, 2 h, 5 h, 10 h and 10 h: Stripe's Idempotency-Key (`refund-<booking id>`) makes a repeat
safe. Any other 4xx is final: `refund_status: failed` and `booking.refund_failed`. An expiry Stripe
refuses (the session is no longer open) has nothing left to do.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from booking import metrics
from booking.bookings.messages import unit_of_work
from booking.bookings.repository import booking_by_id
from booking.checkout.outcomes import refund_failed, refund_settled
from booking.db import Database
from booking.enums import CheckoutStatus, PaymentTaskKind
from booking.models.payments import PaymentTask
from booking.notifications.notifier import Notifier
from booking.payments import repository
from booking.payments.providers import PaymentError, PaymentProvider, ProviderRefund
from booking.unit_of_work import UnitOfWork
from booking.worker import Job

log = logging.getLogger(__name__)

RETRY_AFTER = tuple(timedelta(seconds=seconds) for seconds in (5, 300, 1800, 7200, 18000, 36000, 36000))
TASKS_PER_PASS = 20


def refund_key(task: PaymentTask, booking_intent: str | None) -> str:
    """`refund-<booking id>`; a second payment of the same booking (paid twice) gets its own key."""
    if booking_intent in (None, task.reference):
        return f"refund-{task.booking_id}"
    return f"refund-{task.booking_id}-{task.reference}"


class PaymentTasksRunner:
    def __init__(
        self, db: Database, notifier: Notifier, provider: PaymentProvider, call_seconds: float
    ) -> None:
        self.db = db
        self.notifier = notifier
        self.provider = provider
        # A pass asks Stripe for its tasks one after another: the lease outlasts every call of it, so
        # no other worker takes a task this one is still asking about.
        self.lease = timedelta(seconds=TASKS_PER_PASS * call_seconds * 2 + 60)

    async def run_due(self, now: datetime) -> int:
        """One pass: claim what is due, ask Stripe for each, record the outcomes. Answers how many."""
        async with self.db.transaction(write=True) as session:
            tasks = list(await repository.claim_due_tasks(session, now, now + self.lease, TASKS_PER_PASS))
            session.expunge_all()
        for task in tasks:
            await self._attempt(task, now)
        return len(tasks)

    async def _attempt(self, task: PaymentTask, now: datetime) -> None:
        outcome: ProviderRefund | PaymentError | None = None
        try:
            if task.kind == PaymentTaskKind.REFUND:
                outcome = await self._refund(task)
            else:
                await self.provider.expire_session(task.reference)
        except PaymentError as exc:
            outcome = exc

        async def record(work: UnitOfWork) -> None:
            await self._record(work, task, outcome)

        await unit_of_work(self.db, self.notifier, now).run(record)

    async def _refund(self, task: PaymentTask) -> ProviderRefund:
        async with self.db.transaction(write=False) as session:
            booking = await booking_by_id(session, task.booking_id)
            intent = booking.payment_intent if booking is not None else None
        assert task.amount is not None
        key = refund_key(task, intent)
        return await self.provider.refund(task.reference, task.amount, task.booking_id, key)

    async def _record(
        self, work: UnitOfWork, task: PaymentTask, outcome: ProviderRefund | PaymentError | None
    ) -> None:
        row = await repository.task_by_id(work.session, task.id)
        if row is None or row.done_at is not None:
            return  # its booking was deleted, or another attempt settled it
        row.attempts += 1
        if isinstance(outcome, PaymentError):
            row.last_error = outcome.reason
            if outcome.retryable and row.attempts <= len(RETRY_AFTER):
                row.next_attempt_at = work.now + RETRY_AFTER[row.attempts - 1]
                metrics.payment_task_attempt(row.kind, "retry")
                return
            log.warning("payment task %s (%s) failed: %s", row.id, row.kind, outcome.reason)
        metrics.payment_task_attempt(row.kind, "failed" if isinstance(outcome, PaymentError) else "done")
        row.done_at = work.now
        if row.kind == PaymentTaskKind.EXPIRE_SESSION:
            if outcome is None:
                await repository.set_session_status(work.session, row.reference, CheckoutStatus.EXPIRED)
            return
        booking = await booking_by_id(work.session, row.booking_id, for_update=True)
        if booking is None:
            return
        if isinstance(outcome, PaymentError):
            refund_failed(work, booking)
        elif outcome is not None:
            amount = booking.amount_refunded + outcome.amount
            await refund_settled(work, booking, outcome.status, amount)


def payment_jobs(
    db: Database, notifier: Notifier, provider: PaymentProvider | None, call_seconds: float
) -> list[Job]:
    """Refunds and session expiries; none without Stripe (what is queued waits until it is set up)."""
    if provider is None:
        return []
    runner = PaymentTasksRunner(db, notifier, provider, call_seconds)
    return [Job("payments", runner.run_due, repository.any_task_due, batch=TASKS_PER_PASS, after_work=True)]
