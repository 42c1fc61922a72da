"""The 24 h reminders: claimed at most once each, by the endpoint, `booking send-reminders` or the worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.bookings import repository
from booking.bookings.messages import booked_session, parties_for, unit_of_work
from booking.db import Database
from booking.notifications.effects import Messages
from booking.notifications.notifier import Notifier
from booking.notifications.service import Reminded, Reminder, reminder
from booking.unit_of_work import UnitOfWork
from booking.worker import Job

REMINDER_HORIZON = timedelta(hours=24)
REMINDERS_EVERY = timedelta(minutes=1)


async def send_due_reminders(notifier: Notifier, db: Database, now: datetime) -> list[Reminded]:
    """Claim the due reminders (one conditional write) and queue their messages in that transaction;
    then the first attempt, the fallback email in a second round for a text that failed."""
    reminders: list[Reminder] = []

    async def claim(work: UnitOfWork) -> None:
        reminders.clear()
        messages = work.effect(Messages)
        for booking in await repository.claim_due_reminders(work.session, now, REMINDER_HORIZON):
            parties = await parties_for(work.session, booking, notifier)
            planned = reminder(notifier, booked_session(booking), parties)
            reminders.append(planned)
            messages.send(planned.sms)
            # A fallback that cannot go out anyway is reported, not logged, unless the text cannot either.
            if planned.email.waiting or not planned.sms.waiting:
                messages.send(planned.email)

    await unit_of_work(db, notifier, now).run(claim)
    return [planned.outcome() for planned in reminders]


def reminder_jobs(db: Database, notifier: Notifier) -> list[Job]:
    """Every minute, the due reminders (the worker's; `AUTO_REMINDERS=off` leaves them to cron)."""

    async def remind(now: datetime) -> int:
        return len(await send_due_reminders(notifier, db, now))

    return [Job("reminders", remind, every=REMINDERS_EVERY)]
