"""Calendars (SPEC §13): the rules of the API for the instructor's feed and their busy calendars.

Both belong to the instructor across every brand, so only the instructor themself and the service may
manage them: a brand admin sees one brand and would otherwise read (or block) the others' time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from icalendar import Event
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_instructor_self, require_authenticated
from booking.auth import Principal
from booking.bookings.lifecycle import CALENDAR_STATUS
from booking.calendars import repository
from booking.calendars.repository import FeedEntry
from booking.calendars.schemas import BusyCalendarsPut
from booking.db import Database
from booking.errors import Forbidden, NotFound
from booking.i18n import DEFAULT_LOCALE, translate
from booking.instructors.service import get_instructor
from booking.models.calendars import BusyCalendar
from booking.models.instructors import Instructor
from booking.notifications.ics import calendar_of, calendar_uid, session_event
from booking.outbound import check_saved_url

FEED_SECRET_BYTES = 32  # 256 bits, in the URL as 43 URL-safe characters
FEED_PATH = "/api/calendar-feeds/{secret}.ics"


def secret_hash(secret: str) -> str:
    """What is stored of a feed's secret. A fast hash is enough: the secret is 256 random bits, not a
    password, so there is nothing to guess from the hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


async def _owned_instructor(session: AsyncSession, principal: Principal, instructor_id: UUID) -> Instructor:
    """The instructor, for the instructor themself or the service; 403 for anyone else."""
    require_authenticated(principal)
    instructor = await get_instructor(session, instructor_id)
    if not principal.is_service and not is_instructor_self(principal, instructor):
        raise Forbidden("only the instructor or the service may manage the instructor's calendars")
    return instructor


# --- the instructor's feed -------------------------------------------------------------------------


async def create_feed(session: AsyncSession, principal: Principal, instructor_id: UUID, now: datetime) -> str:
    """A new secret for the instructor's feed (the previous one stops working); the secret itself."""
    await _owned_instructor(session, principal, instructor_id)
    secret = secrets.token_urlsafe(FEED_SECRET_BYTES)
    await repository.replace_feed(session, instructor_id, secret_hash(secret), now)
    return secret


async def revoke_feed(session: AsyncSession, principal: Principal, instructor_id: UUID) -> None:
    await _owned_instructor(session, principal, instructor_id)
    await repository.delete_feed(session, instructor_id)


@dataclass(frozen=True)
class FeedFile:
    body: bytes
    etag: str


async def feed_file(session: AsyncSession, secret: str, now: datetime) -> FeedFile:
    """The instructor's sessions as an RFC 5545 file; 404 for an unknown or revoked secret."""
    wanted = secret_hash(secret)
    feed = await repository.feed_of_secret_hash(session, wanted)
    # Looked up by the hash, so timing tells a caller nothing about the secret; compared again in constant
    # time all the same, so that no index or collation quirk ever decides alone.
    if feed is None or not hmac.compare_digest(feed.secret_hash, wanted):
        raise NotFound("calendar feed not found")
    instructor = await get_instructor(session, feed.instructor_id)
    entries = await repository.feed_entries(session, feed.instructor_id, now)
    events = (_feed_event(entry, instructor.locale or entry.brand_locale) for entry in entries)
    name = translate(instructor.locale or DEFAULT_LOCALE, "message.feed_name", instructor=instructor.name)
    body = calendar_of(events, x_wr_calname=name)
    return FeedFile(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def _feed_event(entry: FeedEntry, locale: str) -> Event:
    """A booking in the instructor's language: their own, else the booking's brand's."""
    student = entry.student_name or entry.student_email or str(entry.id)[:8]
    return session_event(
        uid=calendar_uid(entry.id),
        starts_at=entry.starts_at,
        ends_at=entry.ends_at,
        # The last change, not now: an unchanged feed is byte for byte the same, so its ETag holds.
        stamp=entry.updated_at,
        summary=translate(locale, "message.feed_summary", student=student, brand=entry.brand_name),
        description=translate(locale, "message.reference", reference=entry.id),
        status=CALENDAR_STATUS[entry.status],
        sequence=entry.calendar_sequence,
        location=entry.location,
    )


# --- busy calendars --------------------------------------------------------------------------------


async def list_busy_calendars(
    session: AsyncSession, principal: Principal, instructor_id: UUID
) -> Sequence[BusyCalendar]:
    await _owned_instructor(session, principal, instructor_id)
    return await repository.busy_calendars_of(session, instructor_id)


async def replace_busy_calendars(
    db: Database,
    principal: Principal,
    instructor_id: UUID,
    data: BusyCalendarsPut,
    *,
    allow_private: bool,
    now: datetime,
) -> Sequence[BusyCalendar]:
    """The instructor's list becomes `data`: a URL already in it stays the same calendar (its busy time
    kept), one left out goes with its busy time; every calendar in the list is due for a fetch now.

    The URLs are checked (without ALLOW_PRIVATE_URLS: resolved) between the access check and the write,
    so that no name is resolved for a caller who may not ask, nor while SQLite's write lock is held.
    """
    async with db.transaction(write=False) as session:
        await _owned_instructor(session, principal, instructor_id)
    urls = [
        await check_saved_url(entry.url, "body", "calendars", index, "url", allow_private=allow_private)
        for index, entry in enumerate(data.calendars)
    ]
    async with db.transaction(write=True) as session:
        await _owned_instructor(session, principal, instructor_id)
        kept = {
            calendar.url: calendar for calendar in await repository.busy_calendars_of(session, instructor_id)
        }
        wanted = list(dict.fromkeys(urls))
        await repository.delete_busy_calendars(
            session, [calendar.id for url, calendar in kept.items() if url not in wanted]
        )
        for position, url in enumerate(wanted):
            calendar = kept.get(url)
            if calendar is None:
                calendar = BusyCalendar(instructor_id=instructor_id, url=url, created_at=now, busy_count=0)
                session.add(calendar)
            calendar.position = position
            calendar.next_sync_at = now
        await session.flush()
        return await repository.busy_calendars_of(session, instructor_id)
