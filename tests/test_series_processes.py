"""Two weekly series racing for one slot across two `booking serve` processes sharing one database, on
both databases (SPEC §16): the slot is never held twice, and an all_or_nothing series is held whole or
not at all, whether it lost when judged or at the insert (the database's overlap guard).

Each round is on fresh times: series A, four Tuesdays; series B, four Tuesdays starting three weeks
later, so that A's last occurrence and B's first are the one slot they contend for (in odd rounds B is
half an hour later: the two overlap without being equal). A goes to one server and B to the other (the
other way round in odd rounds), for two students, at once.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.servers import seed_through, two_servers
from tests.support import SERVICE

ROUNDS = 8
COUNT = 4
WEEK = timedelta(weeks=1)
SESSION = timedelta(minutes=60)
ACTIVE = ("pending", "confirmed")


@dataclass(frozen=True)
class Sent:
    """One series request: who for, its first occurrence, and how it was answered (with when it was
    sent and answered, on the monotonic clock)."""

    student_id: str
    first: datetime
    response: httpx.Response
    sent: float
    answered: float

    @property
    def won(self) -> bool:
        return self.response.status_code == 201

    @property
    def starts(self) -> list[datetime]:
        return [self.first + index * WEEK for index in range(COUNT)]


def code(response: httpx.Response) -> tuple[int, str | None]:
    return response.status_code, response.json().get("error", {}).get("code")


def both_in_flight(a: Sent, b: Sent) -> bool:
    """Each request was sent before the other was answered."""
    return max(a.sent, b.sent) < min(a.answered, b.answered)


async def post_series(
    client: httpx.AsyncClient, base: str, target: dict[str, str], first: datetime, conflicts: str
) -> Sent:
    student_id = str(uuid.uuid4())
    body = target | {
        "starts_at": first.isoformat(),
        "student_timezone": "UTC",
        "student_id": student_id,
        "duration_minutes": int(SESSION.total_seconds() // 60),
        "count": COUNT,
        "every_weeks": 1,
        "conflicts": conflicts,
    }
    sent = time.monotonic()
    response = await client.post(f"{base}/api/series", json=body)
    return Sent(student_id, first, response, sent, time.monotonic())


async def active_bookings(client: httpx.AsyncClient, base: str, brand_id: str) -> list[dict[str, Any]]:
    """Every pending or confirmed booking of the brand, through the API (following the cursor)."""
    found: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"brand_id": brand_id, "limit": 200}
    while True:
        page = await client.get(f"{base}/api/bookings", params=params)
        assert page.status_code == 200, page.text
        found += [b for b in page.json()["bookings"] if b["status"] in ACTIVE]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found
        params["cursor"] = cursor


def assert_no_overlap(bookings: list[dict[str, Any]]) -> None:
    intervals = sorted(
        (datetime.fromisoformat(b["starts_at"]), datetime.fromisoformat(b["ends_at"])) for b in bookings
    )
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end <= start, f"two active bookings overlap: {intervals}"


def held_by(bookings: list[dict[str, Any]], sent: Sent) -> list[dict[str, Any]]:
    return sorted(
        (b for b in bookings if b["student_id"] == sent.student_id), key=lambda b: b["series_index"]
    )


def assert_held_whole(bookings: list[dict[str, Any]], winner: Sent) -> None:
    """The winner's answer and the database agree: every occurrence, in one series, at its time."""
    made = winner.response.json()["series"]
    assert made["skipped"] == []
    assert [datetime.fromisoformat(b["starts_at"]) for b in made["bookings"]] == winner.starts
    held = held_by(bookings, winner)
    assert [b["series_index"] for b in held] == list(range(COUNT))
    assert {b["series_id"] for b in held} == {made["id"]}
    assert [datetime.fromisoformat(b["starts_at"]) for b in held] == winner.starts


def assert_refused_for(loser: Sent, index: int, contended: datetime) -> None:
    """409 series_conflict naming the contended occurrence only, as slot_unavailable."""
    assert code(loser.response) == (409, "series_conflict"), loser.response.text
    occurrences = loser.response.json()["error"]["details"]["occurrences"]
    assert [(o["index"], datetime.fromisoformat(o["starts_at"]), o["code"]) for o in occurrences] == [
        (index, contended, "slot_unavailable")
    ]


def first_of_round(day: datetime, round_: int) -> tuple[datetime, datetime]:
    """A's and B's first occurrences: B's first is A's last (half an hour later in odd rounds)."""
    a = day + timedelta(hours=2 * round_)
    return a, a + (COUNT - 1) * WEEK + timedelta(minutes=30 * (round_ % 2))


async def race(
    client: httpx.AsyncClient, bases: tuple[str, str], target: dict[str, str], round_: int, day: datetime
) -> tuple[Sent, Sent]:
    a_first, b_first = first_of_round(day, round_)
    a_base, b_base = bases if round_ % 2 == 0 else bases[::-1]
    a, b = await asyncio.gather(
        post_series(client, a_base, target, a_first, "all_or_nothing"),
        post_series(client, b_base, target, b_first, "all_or_nothing"),
    )
    return a, b


def a_tuesday_ahead() -> datetime:
    """A Tuesday at 06:00 UTC a week or two ahead: every round's occurrences are bookable."""
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 + (1 - today.weekday()) % 7)


async def test_two_series_racing_for_one_slot_across_two_processes_one_wins_whole(
    database_url: str, tmp_path: Path
) -> None:
    day = a_tuesday_ahead()
    with two_servers(database_url, tmp_path) as (first, second):
        target = seed_through(first, buffer_minutes=0)
        async with httpx.AsyncClient(timeout=60, headers=SERVICE) as client:
            # Connections to both servers opened before the races, so that neither request pays for one.
            await asyncio.gather(client.get(f"{first}/health"), client.get(f"{second}/health"))
            overlapped = 0
            for round_ in range(ROUNDS):
                a, b = await race(client, (first, second), target, round_, day)
                outcome = sorted(s.response.status_code for s in (a, b))
                assert outcome == [201, 409], f"round {round_}: {[a.response.text, b.response.text]}"
                overlapped += both_in_flight(a, b)
                winner, loser = (a, b) if a.won else (b, a)
                # A's index 3 and B's index 0 are the contended slot; the loser names its own.
                index, contended = (COUNT - 1, a.starts[-1]) if loser is a else (0, b.first)
                assert_refused_for(loser, index, contended)
                bookings = await active_bookings(client, first, target["brand_id"])
                assert_held_whole(bookings, winner)
                assert held_by(bookings, loser) == [], f"round {round_}: the loser holds some of its series"
                assert len(bookings) == COUNT * (round_ + 1)
                assert_no_overlap(bookings)
            # The other server sees the same bookings as the first.
            assert await active_bookings(client, second, target["brand_id"]) == bookings
    assert overlapped >= 1, "in no round were both requests in flight together"
