"""Taking a student's personal details out of every table, for a set of bookings: the erasure a student
asks for and the retention job share it.

Erased: the booking's name, email address, phone number, instructor notes and a cancellation reason a
person wrote; the address (and the provider's error) of every message to the student; every message not
sent yet (deleted: it is never sent) and the body of every message sent (the instructor's name the
student too); the booking in the payloads of its events (which webhook deliveries not made yet read
when they are attempted); the personal values in the audit log. Kept: times, statuses, amounts, ids
(the student's is the auth system's pseudonymous id), the history of changes, which message went out
when. Stored idempotent answers and audit entries are erased by the caller, which knows how to find them
(the request by its student, retention by the answers' age and the entries' bookings).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from booking.privacy import repository
from booking.privacy.repository import MACHINE_REASONS

# A booking as JSON shows it (an event's payload, a stored answer) carries these personal fields.
PERSONAL_FIELDS = ("student_name", "student_email", "student_phone", "instructor_notes")
REASON = "cancellation_reason"

Wanted = Callable[[Mapping[str, Any]], bool]


def _is_booking(value: Mapping[str, Any]) -> bool:
    return "student_email" in value and "student_id" in value


def _erased_booking(booking: Mapping[str, Any]) -> dict[str, Any]:
    erased = dict(booking)
    for name in PERSONAL_FIELDS:
        erased[name] = None
    if erased.get(REASON) not in MACHINE_REASONS:
        erased[REASON] = None
    if "student_erased" in erased:
        erased["student_erased"] = True
    return erased


def erased_json(value: Any, wanted: Wanted) -> Any:
    """`value` with every booking in it that `wanted` names erased (the rest as it was)."""
    if isinstance(value, Mapping):
        if _is_booking(value) and wanted(value):
            value = _erased_booking(value)
        return {key: erased_json(item, wanted) for key, item in value.items()}
    if isinstance(value, list):
        return [erased_json(item, wanted) for item in value]
    return value


def erased_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An audit entry's changes with the values of personal fields null (the field stays: it changed)."""
    erased = dict(changes)
    for name, change in changes.items():
        personal = name in PERSONAL_FIELDS or (name.startswith("student_") and name != "student_erased")
        if personal or name == REASON:
            kept = {
                side: value if name == REASON and value in MACHINE_REASONS else None
                for side, value in change.items()
            }
            erased[name] = kept
    return erased


def _everything(_: Mapping[str, Any]) -> bool:
    return True


async def erase_events(session: AsyncSession, which: ColumnElement[bool]) -> None:
    rewritten = []
    for event_id, data in await repository.event_data_of(session, which):
        parsed = json.loads(data)
        erased = erased_json(parsed, _everything)
        if erased != parsed:
            rewritten.append((event_id, orjson.dumps(erased).decode()))
    await repository.set_event_data(session, rewritten)


async def erase_audit(session: AsyncSession, entries: ColumnElement[bool]) -> None:
    rewritten = []
    for entry_id, changes in await repository.audit_changes_of(session, entries):
        parsed = json.loads(changes)
        erased = erased_changes(parsed)
        if erased != parsed:
            rewritten.append((entry_id, orjson.dumps(erased).decode()))
    await repository.set_audit_changes(session, rewritten)


async def erase_answers(session: AsyncSession, callers: set[str], needle: str, wanted: Wanted) -> None:
    """Delete the stored idempotent answers (of these callers, naming `needle`) that show a booking
    `wanted` names: a request repeating such a key after the erasure runs anew."""
    doomed = []
    for caller, key, body in await repository.answers_naming(session, callers, needle):
        parsed = json.loads(body)
        if erased_json(parsed, wanted) != parsed:
            doomed.append((caller, key))
    await repository.delete_answers(session, doomed)


async def erase_details(session: AsyncSession, which: ColumnElement[bool], now: datetime) -> list[Any]:
    """The bookings' rows first (what is read or emitted after this shows no personal data), then their
    messages and events; answers (id, brand_id, student_id) of the bookings that had any detail left.
    Stored answers and the audit log are the caller's to erase (found by student or by age)."""
    await repository.lock_messages_of(session, which)
    erased = await repository.erase_booking_rows(session, which, now)
    await repository.erase_notification_log(session, which)
    await repository.erase_outbox(session, which)
    await erase_events(session, which)
    return erased
