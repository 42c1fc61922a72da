"""Idempotency-Key for POST /api/bookings: one answer per caller and key for 24 hours.

The key is claimed inside the booking's own transaction (`INSERT … ON CONFLICT DO NOTHING`), and the
answer is stored in that same transaction. A concurrent request with the same key waits on the row's
unique index (PostgreSQL) or on the write lock (SQLite), finds the key taken and replays the stored
answer, still in its one transaction. A request that fails stores nothing (its transaction rolls back),
so retrying it runs it again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from booking.bookings.errors import IdempotencyKeyReused
from booking.bookings.render import Answer
from booking.errors import Conflict, field_error
from booking.models.bookings import IdempotencyRecord

KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
KEY_COLUMNS = ("caller", "key")

CLAIM = {
    "postgresql": postgresql.insert(IdempotencyRecord).on_conflict_do_nothing(index_elements=KEY_COLUMNS),
    "sqlite": sqlite.insert(IdempotencyRecord).on_conflict_do_nothing(index_elements=KEY_COLUMNS),
}


def checked(key: str | None) -> str | None:
    """An Idempotency-Key header as sent (None: none was), checked."""
    return None if key is None else check_key(key)


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        message = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        raise field_error(message, "header", "idempotency-key")
    return key


def request_fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _is_this(caller: str, key: str) -> Any:
    return (IdempotencyRecord.caller == caller) & (IdempotencyRecord.key == key)


async def claim_or_replay(
    session: AsyncSession, caller: str, key: str, fingerprint: str, now: datetime
) -> Answer | None:
    """Take the key for this request (None), or the answer to replay when a live record holds it.

    The same key with another body is `422 idempotency_key_reused`.
    """
    await session.execute(
        delete(IdempotencyRecord).where(
            _is_this(caller, key), IdempotencyRecord.created_at < now - KEY_LIFETIME
        )
    )
    claim = CLAIM[session.get_bind().dialect.name]
    values = {"caller": caller, "key": key, "request_hash": fingerprint, "created_at": now}
    claimed = await session.scalar(claim.values(values).returning(IdempotencyRecord.key))
    if claimed is not None:
        return None
    record = await session.scalar(
        select(IdempotencyRecord).where(_is_this(caller, key)).execution_options(populate_existing=True)
    )
    if record is None or record.response_body is None:
        raise Conflict("a request with this Idempotency-Key is still in progress; retry")
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    return Answer(record.response_status or 200, json.loads(record.response_body), replayed=True)


async def store_answer(
    session: AsyncSession, caller: str, key: str, status: int, body: dict[str, Any]
) -> None:
    """The answer to replay; stored in the claiming transaction, completed after the messages went out."""
    await session.execute(
        update(IdempotencyRecord)
        .where(_is_this(caller, key))
        .values(response_status=status, response_body=json.dumps(body))
    )
