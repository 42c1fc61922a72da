"""Holds and caps as a stateful model test: random sequences of create, pay, cancel, clock moves (holds
expiring) and worker passes, on both databases. After every step the slot list equals the starts the
model accepts, every booking's status is the model's, and every create got the model's answer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from booking.app import create_app
from booking.clock import FixedClock
from tests.conftest import _empty
from tests.figures import FIGURES
from tests.support import SERVICE, make_settings, user_headers

T = TypeVar("T")
NOW = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)  # Monday
DAY = "2027-03-02"  # Tuesday: 09:00-14:00 UTC, five hourly slots, no buffer
STARTS = [datetime(2027, 3, 2, hour, 0, tzinfo=UTC) for hour in range(9, 14)]
HOLD = timedelta(minutes=30)
DAY_CAP = 3
PENDING_CAP = 2


@dataclass
class Held:
    id: str
    start: datetime
    student: int
    status: str = "pending"
    expires_at: datetime | None = None
    reason: str | None = None
    refund_due: bool = False

    def expired(self, now: datetime) -> bool:
        return self.status == "pending" and self.expires_at is not None and self.expires_at <= now

    def blocks(self, now: datetime) -> bool:
        return self.status == "confirmed" or (self.status == "pending" and not self.expired(now))


class HoldsMachine(RuleBasedStateMachine):
    database_url = ""
    backend = ""

    def __init__(self) -> None:
        super().__init__()
        asyncio.run(_empty(self.database_url, self.backend))
        self.loop = asyncio.new_event_loop()
        self.clock = FixedClock(NOW)
        self.app = create_app(make_settings(self.database_url), clock=self.clock)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://m.test")
        self.students = [user_headers(uuid.uuid4()) for _ in range(3)]
        self.bookings: list[Held] = []
        self.brand_id, self.instructor_id = self.run(self._seed())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        self.run(self.client.aclose())
        self.run(self.app.state.context.aclose())
        self.loop.close()

    async def _call(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
        FIGURES["holds machine requests"] += 1
        return await self.client.request(method, url, headers=headers, **kwargs)

    def call(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
        return self.run(self._call(method, url, headers, **kwargs))

    async def _seed(self) -> tuple[str, str]:
        brand = await self._call("POST", "/api/brands", SERVICE, json={"name": "H", "slug": "h"})
        brand_id = brand.json()["brand"]["id"]
        cap = {"settings": {"max_pending_per_student": PENDING_CAP}}
        assert (await self._call("PATCH", f"/api/brands/{brand_id}", SERVICE, json=cap)).status_code == 200
        body = {"name": "I", "email": "i@example.com", "timezone": "UTC", "brand_ids": [brand_id]}
        instructor_id = (await self._call("POST", "/api/instructors", SERVICE, json=body)).json()[
            "instructor"
        ]["id"]
        availability = {
            "brand_id": brand_id,
            "weekly": [{"weekday": 2, "start_time": "09:00", "end_time": "14:00"}],
            "settings": {"buffer_minutes": 0, "max_bookings_per_day": DAY_CAP, "payment_hold_minutes": 30},
        }
        url = f"/api/instructors/{instructor_id}/availability"
        assert (await self._call("PUT", url, SERVICE, json=availability)).status_code == 200
        return brand_id, instructor_id

    # --- the model ---------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def free(self, start: datetime) -> bool:
        return start > self.now and not any(b.start == start and b.blocks(self.now) for b in self.bookings)

    def day_full(self) -> bool:
        return sum(b.blocks(self.now) for b in self.bookings) >= DAY_CAP

    def pending_of(self, student: int) -> int:
        return sum(
            b.student == student and b.status == "pending" and b.blocks(self.now) for b in self.bookings
        )

    def expected_for_create(self, start: datetime, student: int) -> tuple[int, str | None]:
        if start <= self.now:
            return 422, "in_the_past"
        if not self.free(start):
            return 409, "slot_unavailable"
        if self.day_full():
            return 409, "booking_limit_reached"
        if self.pending_of(student) >= PENDING_CAP:
            return 409, "too_many_pending_bookings"
        return 201, None

    def lapse(self, booking: Held) -> None:
        booking.status, booking.reason = "cancelled", "payment_hold_expired"

    # --- rules -------------------------------------------------------------------------------------

    @rule(slot=st.sampled_from(range(len(STARTS))), student=st.sampled_from(range(3)))
    def create(self, slot: int, student: int) -> None:
        start = STARTS[slot]
        expected = self.expected_for_create(start, student)
        body = {
            "brand_id": self.brand_id,
            "instructor_id": self.instructor_id,
            "starts_at": start.isoformat(),
            "student_timezone": "UTC",
        }
        response = self.call("POST", "/api/bookings", self.students[student], json=body)
        got = (response.status_code, response.json().get("error", {}).get("code"))
        assert got == expected, (got, expected, response.text)
        if response.status_code == 201:
            for booking in self.bookings:
                if booking.start == start and booking.expired(self.now):
                    self.lapse(booking)  # the new booking cancelled the expired hold in its way
            booking = response.json()["booking"]
            assert booking["hold_expires_at"] == (self.now + HOLD).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.bookings.append(Held(booking["id"], start, student, expires_at=self.now + HOLD))

    @precondition(lambda self: self.bookings)
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        booking = data.draw(st.sampled_from(self.bookings))
        response = self.call("PATCH", f"/api/bookings/{booking.id}", SERVICE, json={"payment_status": "paid"})
        assert response.status_code == 200, response.text
        if booking.status == "pending":
            booking.status, booking.expires_at = "confirmed", None
        elif (
            booking.status == "cancelled"
            and booking.reason == "payment_hold_expired"
            and not booking.refund_due
        ):
            # The overlap rule alone decides, even for a start already past.
            if not any(b.start == booking.start and b.blocks(self.now) for b in self.bookings):
                for other in self.bookings:
                    if other.start == booking.start and other.expired(self.now):
                        self.lapse(other)  # the revival cancelled the expired hold in its way
                booking.status, booking.reason, booking.expires_at = "confirmed", None, None
            else:
                booking.refund_due = True
        got = response.json()["booking"]
        assert (got["status"], got["refund_due"]) == (booking.status, booking.refund_due)

    @precondition(lambda self: self.bookings)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        booking = data.draw(st.sampled_from(self.bookings))
        response = self.call("PATCH", f"/api/bookings/{booking.id}", SERVICE, json={"status": "cancelled"})
        if booking.status in ("pending", "confirmed"):
            assert response.status_code == 200, response.text
            booking.status = "cancelled"
        else:
            assert response.status_code in (200, 409), response.text

    @rule(minutes=st.sampled_from([5, 10, 20, 30, 45]))
    def advance_clock(self, minutes: int) -> None:
        self.clock.set(self.now + timedelta(minutes=minutes))

    @rule()
    def worker_pass(self) -> None:
        expired = [b for b in self.bookings if b.expired(self.now)]
        done = self.run(self.app.state.context.worker.run_once())
        assert done["holds"] == len(expired)
        for booking in expired:
            self.lapse(booking)

    # --- invariants ----------------------------------------------------------------------------------

    @invariant()
    def slots_are_the_accepted_starts(self) -> None:
        FIGURES["holds machine steps"] += 1
        response = self.call(
            "GET",
            f"/api/instructors/{self.instructor_id}/slots",
            {},
            params={"brand_id": self.brand_id, "from": DAY, "to": DAY},
        )
        listed = {datetime.fromisoformat(slot["starts_at"]) for slot in response.json()["slots"]}
        accepted = set() if self.day_full() else {start for start in STARTS if self.free(start)}
        assert listed == accepted

    @invariant()
    def statuses_are_the_models(self) -> None:
        if not self.bookings:
            return
        response = self.call(
            "GET", "/api/bookings", SERVICE, params={"brand_id": self.brand_id, "limit": 200}
        )
        stored = {b["id"]: (b["status"], b["refund_due"]) for b in response.json()["bookings"]}
        assert stored == {b.id: (b.status, b.refund_due) for b in self.bookings}


def test_holds_and_caps_machine(database_url: str, backend: str) -> None:
    machine = type("Machine", (HoldsMachine,), {"database_url": database_url, "backend": backend})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=10, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
