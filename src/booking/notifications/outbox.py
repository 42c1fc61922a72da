"""Durable messages (SPEC §12): committed with the change that caused them, sent until settled.

A message's row moves `queued` (committed, no attempt yet) → `sending` (an attempt is under way) →
`sent` | `failed` | `retrying` | `skipped`; a fallback email starts `held` and is released (`queued`)
when its text fails, or skipped when the text goes out. Only a `queued` message or a `retrying` one (it
failed before the provider could have taken it, and its fallback did not reach the person) is ever sent
again; a
`sending` row whose lease ran out belongs to a process that died mid-attempt: the message may have gone
out, so it is given up rather than sent twice. Every attempt is also a `notification_log` row.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Uuid, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from booking.driver import HotStatement
from booking.enums import OPEN_MESSAGE_STATES, Audience, Channel, MessageState
from booking.models.base import UTCDateTime, one_of
from booking.models.notifications import OutboxMessage
from booking.notifications.notifier import Outgoing
from booking.notifications.providers import Attachment, Email, Sms
from booking.notifications.repository import add_attempt_rows, add_log_rows
from booking.notifications.results import failed

# How long one attempt may hold a message before another process may take it over.
LEASE = timedelta(minutes=2)
# A message is retried for up to a day after its change; the waits between attempts:
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
GIVE_UP_AFTER = timedelta(hours=24)
FALLBACK_NOT_NEEDED = "sms_sent: email is only the fallback"
INTERRUPTED = (
    "interrupted: the sending process stopped mid-attempt; it may have gone out, so it is not repeated"
)

INSERT_MESSAGE = HotStatement(insert(OutboxMessage))


# --- the message itself, as stored -----------------------------------------------------------------


def message_json(message: Email | Sms) -> str:
    if isinstance(message, Sms):
        return json.dumps({"to": message.to, "body": message.body})
    attachments = [
        {
            "filename": a.filename,
            "content": base64.b64encode(a.content).decode(),
            "content_type": a.content_type,
        }
        for a in message.attachments
    ]
    return json.dumps(
        {
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "idempotency_key": message.idempotency_key,
            "attachments": attachments,
        }
    )


def message_from(channel: Channel, stored: str) -> Email | Sms:
    data = json.loads(stored)
    if channel == Channel.SMS:
        return Sms(to=data["to"], body=data["body"])
    attachments = tuple(
        Attachment(a["filename"], base64.b64decode(a["content"]), a["content_type"])
        for a in data["attachments"]
    )
    return Email(
        to=data["to"],
        subject=data["subject"],
        text=data["text"],
        html=data["html"],
        idempotency_key=data["idempotency_key"],
        attachments=attachments,
    )


# --- the request's side: queue in the change's transaction, attempt after the commit ----------------


async def queue(session: AsyncSession, outgoing: Sequence[Outgoing], change_id: UUID, now: datetime) -> None:
    """Queue the waiting messages of a change, leased to the request that will make the first attempt."""
    for item in outgoing:
        item.change_id = change_id
    rows = [_queued_row(item, change_id, now) for item in outgoing if item.message is not None]
    await INSERT_MESSAGE.execute_many(session, rows)


def _queued_row(item: Outgoing, change_id: UUID, now: datetime) -> dict[str, Any]:
    assert item.message is not None and item.recipient is not None
    held = item.fallback_of is not None  # waits for its text: sent only if the text fails
    return {
        "id": item.id,
        "booking_id": item.booking_id,
        "change_id": change_id,
        "audience": item.audience,
        "channel": item.channel,
        "kind": item.kind,
        "recipient": item.recipient,
        "message": message_json(item.message),
        "status": MessageState.HELD if held else MessageState.QUEUED,
        "attempts": 0,
        "last_error": None,
        "next_attempt_at": now,
        "locked_until": now + LEASE,
        "give_up_at": now + GIVE_UP_AFTER,
        "created_at": now,
    }


async def mark_sending(session: AsyncSession, ids: Iterable[UUID], now: datetime) -> set[UUID]:
    """Recorded before the attempt: from here on, a lost outcome means 'may have gone out'.

    Answers the messages this caller may send: those still queued under its lease (a worker that took
    one over after the lease ran out sends it instead).
    """
    taken = await session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(ids)),
            one_of(OutboxMessage.status, [MessageState.QUEUED]),
            OutboxMessage.locked_until > now,
        )
        .values(status=MessageState.SENDING, locked_until=now + LEASE, attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
    )
    return set(taken)


# A booking's student or instructor as one change addresses them: its messages are each other's fallback.
Person = tuple[UUID | None, UUID, Audience]


def _person(item: Outgoing) -> Person:
    return item.change_id, item.booking_id, item.audience


# Every outcome of a batch in one statement, sent as one executemany.
SETTLE = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("message_id", type_=Uuid()))
    .values(
        status=bindparam("new_status", type_=OutboxMessage.status.type),
        locked_until=None,
        last_error=bindparam("error"),
        next_attempt_at=func.coalesce(
            bindparam("retry_at", type_=UTCDateTime()), OutboxMessage.next_attempt_at
        ),
    )
    .execution_options(synchronize_session=False)
)


async def settle(
    session: AsyncSession, attempted: Sequence[Outgoing], now: datetime, *, siblings: bool = True
) -> set[UUID]:
    """Record each attempt's outcome: sent, given up, or due again (transient, and no fallback worked).

    Answers the held fallback emails that a failed text released: due now, leased to the caller, which
    attempts them next (the email of a text that went out is skipped instead). `siblings=False`: the
    caller knows these are all the messages their changes have (a request's first round without a
    held fallback), so nothing else needs looking up.
    """
    if not attempted:
        return set()
    reached = {_person(item) for item in attempted if item.channel == Channel.EMAIL and item.outcome.sent}
    if siblings:
        reached |= await _reached_by_email(session, attempted)
    outcomes = []
    for item in attempted:
        # The email is the SMS's fallback (SPEC §7); an email has none.
        fallback_worked = item.channel == Channel.SMS and _person(item) in reached
        state, retry_at = _next_state(item, fallback_worked, item.attempt, now)
        outcomes.append(
            {"message_id": item.id, "new_status": state, "error": item.outcome.reason, "retry_at": retry_at}
        )
    await (await session.connection()).execute(SETTLE, outcomes)
    await add_attempt_rows(session, attempted, now)
    if not siblings:
        return set()
    texts = [item for item in attempted if item.channel == Channel.SMS]
    await _skip_held(session, [item for item in texts if item.outcome.sent])
    return await _release_held(session, [item for item in texts if not item.outcome.sent], now, now + LEASE)


def _held_email_of(text: Outgoing) -> ColumnElement[bool]:
    return and_(
        OutboxMessage.booking_id == text.booking_id,
        OutboxMessage.audience == text.audience,
        OutboxMessage.channel == Channel.EMAIL,
        OutboxMessage.status == MessageState.HELD,
        OutboxMessage.change_id
        == select(OutboxMessage.change_id).where(OutboxMessage.id == text.id).scalar_subquery(),
    )


async def _skip_held(session: AsyncSession, texts: Sequence[Outgoing]) -> None:
    for text in texts:
        await session.execute(
            update(OutboxMessage).where(_held_email_of(text)).values(status=MessageState.SKIPPED)
        )


async def _release_held(
    session: AsyncSession, texts: Sequence[Outgoing], now: datetime, locked_until: datetime | None
) -> set[UUID]:
    released: set[UUID] = set()
    for text in texts:
        ids = await session.scalars(
            update(OutboxMessage)
            .where(_held_email_of(text))
            .values(status=MessageState.QUEUED, next_attempt_at=now, locked_until=locked_until)
            .returning(OutboxMessage.id)
        )
        released.update(ids)
    return released


def _next_state(
    item: Outgoing, fallback_worked: bool, attempts: int, now: datetime
) -> tuple[MessageState, datetime | None]:
    outcome = item.outcome
    if outcome.sent:
        return MessageState.SENT, None
    if not outcome.retryable or fallback_worked or attempts > len(RETRY_AFTER):
        return MessageState.FAILED, None
    return MessageState.RETRYING, now + RETRY_AFTER[attempts - 1]


async def _reached_by_email(session: AsyncSession, messages: Sequence[Outgoing]) -> set[Person]:
    """The people of these messages' changes whom an email other than these already reached."""
    ids = [item.id for item in messages]
    query = select(OutboxMessage.change_id, OutboxMessage.booking_id, OutboxMessage.audience).where(
        OutboxMessage.change_id.in_({item.change_id for item in messages}),
        OutboxMessage.status == MessageState.SENT,
        OutboxMessage.channel == Channel.EMAIL,
        OutboxMessage.id.not_in(ids),
    )
    return {(change, booking, audience) for change, booking, audience in (await session.execute(query)).all()}


# --- the worker's side ------------------------------------------------------------------------------


def due_for_attempt(now: datetime) -> ColumnElement[bool]:
    """Messages the worker should act on now: open, due, and not leased (ix_outbox_messages_due)."""
    return and_(
        one_of(OutboxMessage.status, OPEN_MESSAGE_STATES),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
    )


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[Outgoing]:
    """Take up to `limit` messages due for an attempt, leased to this worker (SKIP LOCKED on PostgreSQL).

    Messages whose attempt was interrupted are given up here (logged as a failed attempt).
    """
    due = (
        select(OutboxMessage)
        .where(due_for_attempt(now))
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.scalars(due)).all()
    interrupted = [row for row in rows if row.status == MessageState.SENDING]
    await _give_up_interrupted(session, interrupted, now)
    claimed = []
    for row in rows:
        if row in interrupted:
            continue
        if row.give_up_at <= now:
            row.status, row.locked_until = MessageState.FAILED, None
            continue
        claimed.append(_take(row, now))
    return claimed


def _take(row: OutboxMessage, now: datetime) -> Outgoing:
    """The message, marked `sending` under this caller's lease for one more attempt."""
    row.status, row.locked_until, row.attempts = MessageState.SENDING, now + LEASE, row.attempts + 1
    return _outgoing(row)


async def _give_up_interrupted(session: AsyncSession, rows: Sequence[OutboxMessage], now: datetime) -> None:
    gave_up = []
    for row in rows:
        row.status = MessageState.FAILED
        row.locked_until = None
        row.last_error = INTERRUPTED
        item = _outgoing(row)
        item.result = failed(INTERRUPTED)
        gave_up.append(item)
    await add_log_rows(session, gave_up, now)
    # The text may have gone out, but an email more does no harm: its held fallback is released.
    await _release_held(session, [item for item in gave_up if item.channel == Channel.SMS], now, None)


def _outgoing(row: OutboxMessage) -> Outgoing:
    return Outgoing(
        booking_id=row.booking_id,
        channel=row.channel,
        kind=row.kind,
        recipient=row.recipient,
        audience=row.audience,
        message=message_from(row.channel, row.message),
        id=row.id,
        attempt=row.attempts,
        change_id=row.change_id,
    )


async def take_released(session: AsyncSession, ids: set[UUID], now: datetime) -> list[Outgoing]:
    """The released fallbacks, marked `sending` for the caller's next round."""
    if not ids:
        return []
    rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).all()
    return [_take(row, now) for row in rows]


async def skip_reached(session: AsyncSession, claimed: list[Outgoing]) -> list[Outgoing]:
    """Drop (as `skipped`) claimed texts whose fallback email has reached the person meanwhile."""
    texts = [item for item in claimed if item.channel == Channel.SMS]
    reached = await _reached_by_email(session, texts) if texts else set()
    skipped_ids = {item.id for item in texts if _person(item) in reached}
    if skipped_ids:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(skipped_ids))
            .values(status=MessageState.SKIPPED, locked_until=None)
        )
    return [item for item in claimed if item.id not in skipped_ids]
