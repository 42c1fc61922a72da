"""Every query of the notifications package: the log, who a message names, the reminder claim."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.driver import HotStatement
from booking.enums import BookingStatus, DeliveryStatus
from booking.models import Booking, Brand, Instructor, NotificationLog, status_is
from booking.notifications.messages import Parties
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


async def parties_of(session: AsyncSession, booking: Booking) -> Parties:
    """Who a booking's messages name: its instructor and brand."""
    instructor = await session.get(Instructor, booking.instructor_id)
    return Parties(
        instructor_name=instructor.name if instructor else "your instructor",
        instructor_email=instructor.email if instructor else "",
        brand_name=await brand_name(session, booking),
    )


async def brand_name(session: AsyncSession, booking: Booking) -> str:
    name: str | None = await session.scalar(select(Brand.name).where(Brand.id == booking.brand_id))
    return name or ""


async def claim_due_reminders(session: AsyncSession, now: datetime, horizon: timedelta) -> Sequence[Booking]:
    """Mark every due, unreminded, confirmed booking as reminded, in one conditional write.

    Concurrent callers (threads, processes, hosts) each get a disjoint set: a row another caller
    claimed no longer matches `reminder_claimed_at IS NULL` when this write reaches it.
    """
    claimed = await session.scalars(
        update(Booking)
        .where(
            status_is(BookingStatus.CONFIRMED),
            Booking.starts_at > now,
            Booking.starts_at <= now + horizon,
            Booking.reminder_claimed_at.is_(None),
        )
        .values(reminder_claimed_at=now)
        .returning(Booking.id)
    )
    ids = list(claimed)
    if not ids:
        return []
    return (
        await session.scalars(select(Booking).where(Booking.id.in_(ids)).order_by(Booking.starts_at))
    ).all()
