from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, Field

from booking.models.calendars import BusyCalendar
from booking.webhooks.schemas import Url

MAX_BUSY_CALENDARS = 10


class FeedCreated(BaseModel):
    url: str = Field(
        description="<PUBLIC_BASE_URL>/api/calendar-feeds/<secret>.ics; the secret is the credential"
    )


class BusyCalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url


class BusyCalendarsPut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    calendars: Annotated[list[BusyCalendarIn], Field(max_length=MAX_BUSY_CALENDARS)]


def hidden_url(url: str) -> str:
    """The URL with everything after the host hidden: calendar apps put the secret in the path or query."""
    parsed = httpx.URL(url)
    shown = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
    return shown + "/…" if url.rstrip("/") != shown else shown


class BusyCalendarOut(BaseModel):
    id: UUID
    url: str = Field(description="scheme and host only: the path and query are hidden")
    last_synced_at: datetime | None = Field(description="the last successful fetch (a 304 counts)")
    last_error: str | None = Field(description="why the last fetch failed; null after a success")
    busy_count: int = Field(description="busy intervals now stored for this calendar")

    @classmethod
    def of(cls, calendar: BusyCalendar) -> BusyCalendarOut:
        return cls(
            id=calendar.id,
            url=hidden_url(calendar.url),
            last_synced_at=calendar.last_synced_at,
            last_error=calendar.last_error,
            busy_count=calendar.busy_count,
        )


class BusyCalendarList(BaseModel):
    calendars: list[BusyCalendarOut]
