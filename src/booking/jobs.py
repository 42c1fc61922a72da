"""The worker's jobs, from every room that has background work, in the order a pass runs them.

Holds first: the events of their cancellations are fanned out, and delivered, in the same pass. A new
kind of background work is a `Job` offered by its room and one line here; the worker is not touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from booking.bookings.holds import hold_jobs
from booking.bookings.reminders import reminder_jobs
from booking.calendars import sync
from booking.checkout.jobs import payment_jobs
from booking.context import AppContext
from booking.notifications.jobs import message_jobs
from booking.privacy.jobs import retention_jobs
from booking.webhooks import delivery
from booking.worker import Job


def background_jobs(
    context: AppContext,
    *,
    reminders: bool | None = None,
    delivery_timeout_seconds: float = delivery.TIMEOUT_SECONDS,
    calendar_timeout_seconds: float = sync.TIMEOUT_SECONDS,
) -> Sequence[Job]:
    """Every job; `reminders` (default: AUTO_REMINDERS) leaves the reminders to cron when False."""
    settings = context.settings
    remind = settings.auto_reminders if reminders is None else reminders
    calendar_every = timedelta(minutes=settings.calendar_sync_minutes)
    return [
        *hold_jobs(context.db, context.notifier),
        *payment_jobs(context.db, context.notifier, context.payments, settings.stripe_timeout_seconds),
        *delivery.webhook_jobs(context.db, context.outbound, timeout_seconds=delivery_timeout_seconds),
        *message_jobs(context.db, context.notifier),
        *(reminder_jobs(context.db, context.notifier) if remind else []),
        *sync.calendar_jobs(
            context.db, context.outbound, calendar_every, timeout_seconds=calendar_timeout_seconds
        ),
        *retention_jobs(context.db, context.notifier, settings.retention_days),
    ]
