"""A brand's audit log as its admins read it: newest first, in keyset pages (at, id), optionally for a
span of instants and one target. `ix_audit_log_brand_at` / `ix_audit_log_brand_target_at` serve the
pages in order, so a page costs the same at 100,000 entries as at ten."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, require_authenticated
from booking.auth import Principal
from booking.brands.repository import administers_any_brand
from booking.brands.service import get_brand
from booking.errors import Forbidden, NotFound, field_error
from booking.models.audit import AuditEntry


class AuditActor(BaseModel):
    type: str = Field(description="service, user or system")
    id: UUID | None = Field(description="the user's id; null for service and system")


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: AuditActor
    action: str
    target_type: str
    target_id: UUID
    changes: dict[str, Any] = Field(description='{"field": {"before": …, "after": …}}')


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: str | None


@dataclass(frozen=True)
class AuditQuery:
    brand_id: UUID
    at_from: datetime | None
    at_to: datetime | None
    target_id: UUID | None
    limit: int
    cursor: str | None


def encode_cursor(entry: AuditEntry) -> str:
    raw = json.dumps([entry.at.isoformat(), entry.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        at, entry_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        instant = datetime.fromisoformat(at)
        # Only what encode_cursor writes: an aware instant and an id the column can hold.
        if instant.tzinfo is None or not isinstance(entry_id, int) or not 0 < entry_id < 2**63:
            raise ValueError(cursor)
        return instant.astimezone(UTC), entry_id
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError) as exc:
        raise field_error("cursor is not one this API handed out", "query", "cursor") from exc


async def entries_page(session: AsyncSession, query: AuditQuery) -> Sequence[AuditEntry]:
    """`limit + 1` entries newest first (the extra one says whether there is a next page)."""
    wanted = [AuditEntry.brand_id == query.brand_id]
    if query.target_id is not None:
        wanted.append(AuditEntry.target_id == query.target_id)
    if query.at_from is not None:
        wanted.append(AuditEntry.at >= query.at_from)
    if query.at_to is not None:
        wanted.append(AuditEntry.at < query.at_to)
    if query.cursor is not None:
        at, entry_id = _decode(query.cursor)
        # A row comparison: the index scan starts at the cursor, however deep the page.
        wanted.append(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(at, entry_id))
    statement = (
        select(AuditEntry)
        .where(*wanted)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(query.limit + 1)
    )
    return (await session.scalars(statement)).all()


def _shown(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor=AuditActor(type=entry.actor_type, id=entry.actor_id),
        action=entry.action,
        target_type=entry.target_type,
        target_id=entry.target_id,
        changes=json.loads(entry.changes),
    )


async def read_audit(session: AsyncSession, principal: Principal, query: AuditQuery) -> AuditPage:
    """The service and the brand's admins only: another brand's admin is told it does not exist (404),
    anyone else is refused (403)."""
    await get_brand(session, query.brand_id)
    require_authenticated(principal)
    if not await is_brand_admin(session, principal, query.brand_id):
        if principal.user_id is not None and await administers_any_brand(session, principal.user_id):
            raise NotFound("brand not found")
        raise Forbidden("only the service or an admin of this brand may read its audit log")
    rows = await entries_page(session, query)
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return AuditPage(
        entries=[_shown(row) for row in rows], next_cursor=encode_cursor(rows[-1]) if more else None
    )
