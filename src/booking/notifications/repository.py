"""Every query of the notifications package: the log, who a message names, the reminder claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.driver import HotStatement
from booking.enums import DeliveryStatus
from booking.models.notifications import NotificationLog
from booking.notifications.notifier import Outgoing

INSERT_LOG_ROW = HotStatement(insert(NotificationLog))


def _log_row(item: Outgoing, now: datetime) -> dict[str, Any]:
    outcome = item.outcome
    return {
        "id": uuid4(),
        "booking_id": item.booking_id,
        "channel": item.channel,
        "kind": item.kind,
        "recipient": item.recipient,
        "status": outcome.status,
        "provider_message_id": outcome.provider_message_id,
        "error": outcome.reason if outcome.status != DeliveryStatus.SENT else None,
        "created_at": now,
    }


async def add_log_rows(session: AsyncSession, outgoing: Sequence[Outgoing], now: datetime) -> None:
    """One `notification_log` row per attempt (a skipped message counts as one)."""
    await INSERT_LOG_ROW.execute_many(session, [_log_row(item, now) for item in outgoing])
