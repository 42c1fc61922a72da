"""`booking send-reminders`: the reminder run without HTTP, for cron on a host with database access."""

from __future__ import annotations

import json

from booking.bookings.reminders import send_due_reminders
from booking.bookings.render import reminder_result
from booking.clock import SystemClock
from booking.config import Settings
from booking.db import Database, parse_database_url
from booking.notifications.notifier import Notifier


async def run_reminders(settings: Settings) -> str:
    db = Database(parse_database_url(settings.database_url), pool_size=2)
    notifier = Notifier.from_settings(settings)
    try:
        results = await send_due_reminders(notifier, db, SystemClock().now())
    finally:
        await notifier.aclose()
        await db.dispose()
    return json.dumps(
        {"reminded": len(results), "results": [reminder_result(r).model_dump(mode="json") for r in results]}
    )
