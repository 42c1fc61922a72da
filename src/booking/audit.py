"""The audit effect: who changed what, each changed field's before and after, written as `audit_log`
rows in the change's own transaction (a rolled-back change records nothing).

A room declares which of its tables are audited and which fields (`watch_table`): every row of those
created, changed or deleted through the ORM in a unit of work's session is then recorded by itself, its
fields' values before the change's first flush and after its last (the session's `before_flush`).
What the ORM does not see (a raw insert on a hot path, a replaced set of rows) is recorded explicitly:
`work.effect(Audit).record(...)`, or `write_entries` by a write that owns its transaction. Values are
stored as JSON; fields that hold secrets are never recorded, not even as "changed".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import bindparam, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, attributes

from booking.auth import Principal
from booking.driver import HotStatement
from booking.models.audit import AuditEntry
from booking.unit_of_work import Change

# Every column but the id, which the database numbers.
ENTRY_COLUMNS = [column.name for column in AuditEntry.__table__.columns if column.name != "id"]
INSERT_ENTRY = HotStatement(insert(AuditEntry).values({name: bindparam(name) for name in ENTRY_COLUMNS}))

# Never written to the log, before or after (a webhook's signing secret, a feed's secret, a key).
SECRET_FIELDS = frozenset({"secret", "secret_hash", "signing_secret", "api_key", "token"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: `service`, a user (with their id), or `system` (the worker, Stripe)."""

    type: str
    id: UUID | None = None


SYSTEM = Actor("system")


def actor_of(principal: Principal) -> Actor:
    if principal.kind == "user":
        return Actor("user", principal.user_id)
    return Actor(principal.kind)


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each field whose value differs, `{"before": …, "after": …}`; a field missing on one side is null
    there (created, removed). Secrets are left out. Values stay as they are (instants, ids, enums) until
    the entry is written as JSON."""
    found = {}
    for field in dict.fromkeys([*before, *after]):
        if field in SECRET_FIELDS:
            continue
        old, new = before.get(field), after.get(field)
        if old != new:
            found[field] = {"before": old, "after": new}
    return found


@dataclass(frozen=True, slots=True)
class Entry:
    brand_id: UUID
    actor: Actor
    action: str  # what happened: "booking.updated", "availability.replaced", …
    target_type: str  # booking, instructor, link, webhook, brand, brand_admin, package, pass, student
    target_id: UUID
    changes: dict[str, dict[str, Any]]
    student_id: UUID | None = None  # the student it is about, for an erasure to find

    def row(self, at: datetime) -> dict[str, Any]:
        return {
            "brand_id": self.brand_id,
            "at": at,
            "actor_type": self.actor.type,
            "actor_id": self.actor.id,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "student_id": self.student_id,
            # orjson writes instants (ISO 8601), ids and enums (their value) itself; anything else as text.
            "changes": orjson.dumps(self.changes, default=str).decode(),
        }


async def write_entries(session: AsyncSession, entries: Iterable[Entry], at: datetime) -> None:
    """Entries of a change whose transaction the caller owns, written in it."""
    rows = [entry.row(at) for entry in entries]
    if rows:
        await INSERT_ENTRY.execute_many(session, rows)


@dataclass(frozen=True, slots=True)
class Watched:
    """How a table's rows are audited: as which target, which fields."""

    target_type: str
    fields: tuple[str, ...]
    target: str = "id"  # the attribute naming the target
    student: str | None = None  # the attribute naming the student it is about
    brand: str = "brand_id"  # the attribute naming the brand whose log it goes to
    action: str | None = None  # the actions' prefix ("link.created"); default the target type
    json_fields: tuple[str, ...] = ()  # stored as JSON text: recorded as the values they hold


WATCHED: dict[type, Watched] = {}


def _decoded(watched: Watched, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with those of JSON-text fields parsed (a list of event types, not its text)."""
    return {
        name: orjson.loads(value) if name in watched.json_fields and isinstance(value, str) else value
        for name, value in values.items()
    }


def watch_table(model: type, watched: Watched) -> None:
    WATCHED[model] = watched


class Audit:
    """The audit entries of one change (its actor's), stored with it."""

    __slots__ = ("_actors", "_pending", "_recorded", "actor")

    def __init__(self, actor: Actor = SYSTEM) -> None:
        self.actor = actor
        self._recorded: list[Entry] = []
        # Watched rows seen flushed, by identity: the row, created/updated/deleted, its values before.
        self._pending: dict[int, tuple[Any, str, dict[str, Any]]] = {}
        self._actors: dict[int, Actor] = {}  # rows a change changes on someone else's behalf

    def record(self, entry: Entry) -> None:
        self._recorded.append(entry)

    def begin(self, session: AsyncSession) -> None:
        session.sync_session.info["audit"] = self

    def attribute(self, row: Any, actor: Actor) -> None:
        """This row's change is `actor`'s, not the change's caller's (an expired hold a booking clears
        out of its way is the system's cancellation)."""
        self._actors[id(row)] = actor

    def reset(self) -> None:
        self._recorded.clear()
        self._pending.clear()
        self._actors.clear()

    def seen(self, row: Any, kind: str) -> None:
        """A watched row about to be flushed: its fields' values before the change's first flush (none
        for a new row). The values after are read from the row when the change is stored."""
        watched = WATCHED[type(row)]
        _, state, before = self._pending.setdefault(id(row), (row, kind, {}))
        if kind == "deleted":
            self._pending[id(row)] = (row, kind, before)
        if state == "created":
            return
        for name in watched.fields:
            added, unchanged, deleted = attributes.get_history(row, name)
            if kind == "deleted" or added or deleted:
                before.setdefault(name, (deleted or unchanged or [None])[0])

    def _entries_of_watched(self) -> list[Entry]:
        entries = []
        for row, kind, before in self._pending.values():
            watched = WATCHED[type(row)]
            if kind == "deleted":
                after: dict[str, Any] = {}
            else:
                names = watched.fields if kind == "created" else before
                after = {name: getattr(row, name) for name in names}
            found = changes(_decoded(watched, before), _decoded(watched, after))
            if not found:
                continue
            prefix = watched.action or watched.target_type
            action = f"{prefix}.{kind}"
            student = None if watched.student is None else getattr(row, watched.student)
            target_id = getattr(row, watched.target)
            entries.append(
                Entry(
                    getattr(row, watched.brand),
                    self._actors.get(id(row), self.actor),
                    action,
                    watched.target_type,
                    target_id,
                    found,
                    student,
                )
            )
        return entries

    async def store(self, session: AsyncSession, change: Change) -> None:
        await self.store_at(session, change.now)

    async def store_at(self, session: AsyncSession, at: datetime) -> None:
        sync = session.sync_session
        if sync.new or sync.deleted or sync.dirty:
            await session.flush()  # what is still unflushed is seen now
        await write_entries(session, [*self._entries_of_watched(), *self._recorded], at)

    async def after_commit(self, change: Change) -> None:
        """Nothing follows: the rows are the whole of it."""


def session_audit(session: AsyncSession) -> Audit | None:
    """The audit watching this session (a unit of work's, or an `audited` block's), if any."""
    audit = session.sync_session.info.get("audit")
    return audit if isinstance(audit, Audit) else None


def sessions_left_changed(session: AsyncSession, found: Any, before: int, after: int) -> None:
    """A pass's sessions taken or given back by a guarded UPDATE (which the ORM does not see)."""
    audit = session_audit(session)
    if audit is not None:
        change = {"sessions_left": {"before": before, "after": after}}
        audit.record(
            Entry(found.brand_id, audit.actor, "pass.updated", "pass", found.id, change, found.student_id)
        )


@asynccontextmanager
async def audited(session: AsyncSession, principal: Principal, at: datetime) -> AsyncIterator[Audit]:
    """For a write that owns its transaction: its watched rows (and what it records) are written to
    the log when the block ends without an error, before the caller commits."""
    audit = Audit(actor_of(principal))
    audit.begin(session)
    yield audit
    await audit.store_at(session, at)


def entry_of(
    principal: Principal,
    brand_id: UUID,
    action: str,
    target: tuple[str, UUID],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> Entry | None:
    """The entry of a change seen as two snapshots; None when nothing differs."""
    found = changes(before, after)
    return None if not found else Entry(brand_id, actor_of(principal), action, *target, found)


@event.listens_for(Session, "before_flush")
def _watch_flush(session: Session, _context: Any, _instances: Any) -> None:
    audit = session.info.get("audit")
    if not isinstance(audit, Audit):
        return
    for kind, rows in (("created", session.new), ("updated", session.dirty), ("deleted", session.deleted)):
        for row in rows:
            if type(row) in WATCHED:
                audit.seen(row, kind)
