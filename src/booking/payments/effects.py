"""The payment tasks effect: the refunds and session expiries a change causes, queued in its own
transaction (a process dying after the commit still refunds) and handed to the worker after it."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from booking.enums import PaymentTaskKind
from booking.models.payments import PaymentTask
from booking.payments import repository
from booking.unit_of_work import Change


class PaymentTasks:
    __slots__ = ("_queued", "wake_worker")

    def __init__(self, wake_worker: Callable[[], None] | None = None) -> None:
        self.wake_worker = wake_worker
        self._queued: list[tuple[PaymentTaskKind, UUID, str, int | None]] = []

    def refund(self, booking_id: UUID, payment_intent: str, amount: int) -> None:
        """Give `amount` of the payment back (the worker asks Stripe, and asks again until it answers)."""
        self._queued.append((PaymentTaskKind.REFUND, booking_id, payment_intent, amount))

    def expire_session(self, booking_id: UUID, session_id: str) -> None:
        """Close a Checkout Session: the booking no longer waits for payment."""
        self._queued.append((PaymentTaskKind.EXPIRE_SESSION, booking_id, session_id, None))

    def begin(self, session: AsyncSession) -> None:
        """Nothing to watch: what a change records is handed over explicitly."""

    def reset(self) -> None:
        self._queued.clear()

    async def store(self, session: AsyncSession, change: Change) -> None:
        if not self._queued:
            return
        rows = [
            PaymentTask(
                id=uuid4(),
                kind=kind,
                booking_id=booking_id,
                reference=reference,
                amount=amount,
                attempts=0,
                next_attempt_at=change.now,
                done_at=None,
                last_error=None,
                created_at=change.now,
            )
            for kind, booking_id, reference, amount in self._queued
        ]
        await repository.queue_tasks(session, rows)

    async def after_commit(self, change: Change) -> None:
        if self._queued and self.wake_worker is not None:
            self.wake_worker()
