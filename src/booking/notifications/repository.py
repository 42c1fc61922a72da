"""Every query of the notifications package: the log, who a message names, the reminder claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import bindparam, case, exists, insert
from sqlalchemy.ext.asyncio import AsyncSession

from booking.driver import HotStatement
from booking.enums import DeliveryStatus
from booking.models.notifications import NotificationLog, OutboxMessage
from booking.notifications.notifier import Outgoing

INSERT_LOG_ROW = HotStatement(insert(NotificationLog))

# An attempt at an outbox message is logged with its address (and the provider's error, which may repeat
# it) only while the message's row still exists: an erasure of its student that deleted the row while the
# attempt was under way leaves no address behind (the attempt itself is still logged).
_COLUMNS = {column.name: bindparam(column.name, type_=column.type) for column in NotificationLog.__table__.c}
_STILL_QUEUED = exists().where(OutboxMessage.id == bindparam("message_id", type_=OutboxMessage.id.type))
INSERT_ATTEMPT_ROW = HotStatement(
    insert(NotificationLog).values(
        _COLUMNS
        | {
            "recipient": case((_STILL_QUEUED, _COLUMNS["recipient"]), else_=None),
            "error": case((_STILL_QUEUED, _COLUMNS["error"]), else_=None),
        }
    )
)


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


async def add_attempt_rows(session: AsyncSession, attempted: Sequence[Outgoing], now: datetime) -> None:
    """The log rows of attempts at outbox messages, settled after the attempt (see INSERT_ATTEMPT_ROW)."""
    rows = [_log_row(item, now) | {"message_id": item.id} for item in attempted]
    await INSERT_ATTEMPT_ROW.execute_many(session, rows)
