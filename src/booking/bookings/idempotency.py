"""Idempotency-Key for POST /api/bookings: one answer per caller and key for 24 hours.

The key is claimed by inserting its row inside the booking's own transaction, and the answer is stored
in the same transaction. A concurrent request with the same key waits on the row's unique index
(PostgreSQL) or on the write lock (SQLite), then finds the stored answer and replays it. A request
that fails stores nothing (its transaction rolls back), so retrying it runs it again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.bookings.errors import IdempotencyKeyReused
from booking.errors import field_error
from booking.models import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class KeyTaken(Exception):
    """Another request holds (or held) this key: look up its answer."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        raise field_error(message, "header", "idempotency-key")
    return key


def request_fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


async def claim(session: AsyncSession, caller: str, key: str, fingerprint: str, now: datetime) -> None:
    """Take the key for this request, or raise KeyTaken when a live record exists."""
    await session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < now - KEY_LIFETIME,
        )
    )
    session.add(IdempotencyRecord(caller=caller, key=key, request_hash=fingerprint, created_at=now))
    try:
        await session.flush()
    except IntegrityError as exc:
        raise KeyTaken from exc


async def store(session: AsyncSession, caller: str, key: str, status: int, body: dict[str, Any]) -> None:
    record = await session.get(IdempotencyRecord, (caller, key))
    assert record is not None, "store() follows claim() in the same transaction"
    record.response_status = status
    record.response_body = json.dumps(body)


async def stored_answer(
    session: AsyncSession, caller: str, key: str, fingerprint: str, now: datetime
) -> StoredAnswer | None:
    """The answer to replay, None when the key is free; 422 when it was used for another body."""
    record = await session.get(IdempotencyRecord, (caller, key))
    if record is None or record.created_at < now - KEY_LIFETIME or record.response_body is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    return StoredAnswer(record.response_status or 200, json.loads(record.response_body))


async def replace_answer(session: AsyncSession, caller: str, key: str, body: dict[str, Any]) -> None:
    """Complete a stored answer with what was learnt after the commit (notification results)."""
    record = await session.get(IdempotencyRecord, (caller, key))
    if record is not None:
        record.response_body = json.dumps(body)
