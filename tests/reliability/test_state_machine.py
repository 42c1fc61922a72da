"""A stateful model test: random brands, instructors, bookings, payments, cancellations, completions,
clock moves and reminder runs, checked after every step against a simple in-memory model."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
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
from sqlalchemy import func, select

from booking.app import create_app
from booking.bookings.lifecycle import GRAPH
from booking.clock import FixedClock
from booking.enums import BookingStatus
from booking.models.bookings import Booking, BookingEvent
from booking.models.notifications import NotificationLog
from tests.conftest import _empty
from tests.figures import FIGURES
from tests.support import SERVICE, make_settings, user_headers

T = TypeVar("T")
START = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"]
CUTOFF_HOURS = 24
ACTIVE = ("pending", "confirmed")


@dataclass
class Person:
    user_id: uuid.UUID
    headers: dict[str, str]


@dataclass
class ModelInstructor:
    id: str
    person: Person
    buffers: dict[str, int] = field(default_factory=dict)  # brand id -> buffer minutes


@dataclass
class ModelBooking:
    id: str
    brand_id: str
    instructor: ModelInstructor
    student: Person
    start: datetime
    end: datetime
    buffer: int
    status: str = "pending"
    reminded: bool = False

    def blocks(self, start: datetime, end: datetime, buffer: int) -> bool:
        blocked_until = self.end + timedelta(minutes=self.buffer)
        return (
            self.status in ACTIVE and self.start < end + timedelta(minutes=buffer) and start < blocked_until
        )


def machine_for(database_url: str, backend: str) -> type[RuleBasedStateMachine]:
    class BookingMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            asyncio.run(_empty(database_url, backend))
            self.loop = asyncio.new_event_loop()
            self.clock = FixedClock(START)
            self.app = create_app(make_settings(database_url), clock=self.clock)
            transport = httpx.ASGITransport(app=self.app)
            self.client = httpx.AsyncClient(transport=transport, base_url="http://model.test")
            self.brands: dict[str, Person] = {}  # brand id -> its admin
            self.instructors: list[ModelInstructor] = []
            self.students: list[Person] = []
            self.bookings: dict[str, ModelBooking] = {}

        def run(self, work: Coroutine[Any, Any, T]) -> T:
            return self.loop.run_until_complete(work)

        def teardown(self) -> None:
            self.run(self.client.aclose())
            self.run(self.app.state.context.aclose())
            self.loop.close()

        def call(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
            FIGURES["state machine requests"] += 1
            return self.run(self.client.request(method, url, headers=headers, **kwargs))

        def step(self) -> None:
            FIGURES["state machine steps"] += 1

        # --- rules ------------------------------------------------------------------------------

        @precondition(lambda self: len(self.brands) < 3)
        @rule()
        def add_brand(self) -> None:
            self.step()
            slug = f"b{len(self.brands)}-{uuid.uuid4().hex[:6]}"
            response = self.call("POST", "/api/brands", SERVICE, json={"name": slug, "slug": slug})
            assert response.status_code == 201
            brand_id = response.json()["brand"]["id"]
            lifted = self.call(
                "PATCH",
                f"/api/brands/{brand_id}",
                SERVICE,
                json={"settings": {"max_pending_per_student": None}},
            )
            assert lifted.status_code == 200
            admin = Person(uuid.uuid4(), {})
            admin.headers = user_headers(admin.user_id)
            added = self.call(
                "POST", f"/api/brands/{brand_id}/admins", SERVICE, json={"user_id": str(admin.user_id)}
            )
            assert added.status_code == 201
            self.brands[brand_id] = admin

        def _availability(self, instructor: ModelInstructor, brand_id: str, buffer: int) -> None:
            every_day = [{"weekday": d, "start_time": "00:00", "end_time": "24:00"} for d in range(7)]
            body = {
                "brand_id": brand_id,
                "weekly": every_day,
                "settings": {
                    "buffer_minutes": buffer,
                    "advance_booking_days": 30,
                    "cancellation_cutoff_hours": CUTOFF_HOURS,
                    "min_notice_minutes": 0,
                    # The lifecycle of part one: holds and caps have their own machine (test_holds.py).
                    "payment_hold_minutes": 0,
                },
            }
            response = self.call(
                "PUT", f"/api/instructors/{instructor.id}/availability", instructor.person.headers, json=body
            )
            assert response.status_code == 200, response.text
            instructor.buffers[brand_id] = buffer

        @precondition(lambda self: self.brands and len(self.instructors) < 3)
        @rule(data=st.data(), zone=st.sampled_from(ZONES), buffer=st.sampled_from([0, 15, 30]))
        def add_instructor(self, data: st.DataObject, zone: str, buffer: int) -> None:
            self.step()
            brand_id = data.draw(st.sampled_from(sorted(self.brands)))
            person = Person(uuid.uuid4(), {})
            person.headers = user_headers(person.user_id)
            body = {
                "name": "I",
                "email": "i@example.com",
                "timezone": zone,
                "user_id": str(person.user_id),
                "brand_ids": [brand_id],
            }
            response = self.call("POST", "/api/instructors", self.brands[brand_id].headers, json=body)
            assert response.status_code == 201, response.text
            instructor = ModelInstructor(response.json()["instructor"]["id"], person)
            self._availability(instructor, brand_id, buffer)
            self.instructors.append(instructor)

        @precondition(lambda self: self.instructors and len(self.brands) > 1)
        @rule(data=st.data(), buffer=st.sampled_from([0, 15, 30, 60]))
        def link_another_brand(self, data: st.DataObject, buffer: int) -> None:
            self.step()
            instructor = data.draw(st.sampled_from(self.instructors))
            brand_id = data.draw(st.sampled_from(sorted(self.brands)))
            response = self.call(
                "PUT", f"/api/instructors/{instructor.id}/brands/{brand_id}", self.brands[brand_id].headers
            )
            assert response.status_code in (200, 201)
            self._availability(instructor, brand_id, buffer)

        @precondition(lambda self: len(self.students) < 3)
        @rule()
        def add_student(self) -> None:
            self.step()
            person = Person(uuid.uuid4(), {})
            person.headers = user_headers(person.user_id)
            self.students.append(person)

        @precondition(lambda self: self.instructors and self.students)
        @rule(data=st.data(), quarter=st.integers(-8, 4 * 24 * 6), minutes=st.sampled_from([30, 60, 90]))
        def book(self, data: st.DataObject, quarter: int, minutes: int) -> None:
            self.step()
            instructor = data.draw(st.sampled_from(self.instructors))
            brand_id = data.draw(st.sampled_from(sorted(instructor.buffers)))
            student = data.draw(st.sampled_from(self.students))
            now = self.clock.now()
            start = now.replace(minute=0) + timedelta(minutes=15 * quarter)
            end = start + timedelta(minutes=minutes)
            buffer = instructor.buffers[brand_id]
            body = {
                "brand_id": brand_id,
                "instructor_id": instructor.id,
                "starts_at": start.isoformat(),
                "duration_minutes": minutes,
                "student_timezone": "UTC",
            }
            response = self.call("POST", "/api/bookings", student.headers, json=body)
            expected: tuple[int, str | None]
            mine = [b for b in self.bookings.values() if b.instructor.id == instructor.id]
            if start <= now:
                expected = (422, "in_the_past")
            elif any(b.blocks(start, end, buffer) for b in mine):
                expected = (409, "slot_unavailable")
            else:
                expected = (201, None)
            got = (response.status_code, response.json().get("error", {}).get("code"))
            assert got == expected, (got, expected, response.text)
            if response.status_code == 201:
                booking_id = response.json()["booking"]["id"]
                self.bookings[booking_id] = ModelBooking(
                    booking_id, brand_id, instructor, student, start, end, buffer
                )

        @precondition(lambda self: self.bookings)
        @rule(data=st.data())
        def pay(self, data: st.DataObject) -> None:
            self.step()
            booking = data.draw(st.sampled_from(sorted(self.bookings.values(), key=lambda b: b.id)))
            response = self.call(
                "PATCH",
                f"/api/bookings/{booking.id}",
                self.brands[booking.brand_id].headers,
                json={"payment_status": "paid"},
            )
            assert response.status_code == 200, response.text
            if booking.status == "pending":
                booking.status = "confirmed"
            assert response.json()["booking"]["status"] == booking.status

        @precondition(lambda self: self.bookings)
        @rule(data=st.data(), who=st.sampled_from(["student", "instructor", "admin"]))
        def cancel(self, data: st.DataObject, who: str) -> None:
            self.step()
            booking = data.draw(st.sampled_from(sorted(self.bookings.values(), key=lambda b: b.id)))
            headers = {
                "student": booking.student.headers,
                "instructor": booking.instructor.person.headers,
                "admin": self.brands[booking.brand_id].headers,
            }[who]
            response = self.call(
                "PATCH", f"/api/bookings/{booking.id}", headers, json={"status": "cancelled"}
            )
            now = self.clock.now()
            expected: tuple[int, str | None]
            if booking.status == "cancelled":
                expected = (200, None)  # already so: nothing to change
            elif booking.status not in ACTIVE:
                expected = (409, "invalid_transition")
            elif who == "student" and now > booking.start - timedelta(hours=CUTOFF_HOURS):
                expected = (409, "cancellation_cutoff_passed")
            elif who == "instructor" and now >= booking.start:
                expected = (409, "invalid_transition")
            else:
                expected = (200, None)
            got = (response.status_code, response.json().get("error", {}).get("code"))
            assert got == expected, (got, expected, booking)
            if response.status_code == 200:
                booking.status = "cancelled"

        @precondition(lambda self: self.bookings)
        @rule(data=st.data(), end_state=st.sampled_from(["completed", "no_show"]), by_admin=st.booleans())
        def finish(self, data: st.DataObject, end_state: str, by_admin: bool) -> None:
            self.step()
            booking = data.draw(st.sampled_from(sorted(self.bookings.values(), key=lambda b: b.id)))
            headers = self.brands[booking.brand_id].headers if by_admin else booking.instructor.person.headers
            response = self.call("PATCH", f"/api/bookings/{booking.id}", headers, json={"status": end_state})
            expected: tuple[int, str | None]
            if booking.status == end_state:
                expected = (200, None)
            elif booking.status != "confirmed" or self.clock.now() < booking.start:
                expected = (409, "invalid_transition")
            else:
                expected = (200, None)
            got = (response.status_code, response.json().get("error", {}).get("code"))
            assert got == expected, (got, expected, booking)
            if response.status_code == 200:
                booking.status = end_state

        @rule(hours=st.integers(1, 30))
        def advance_clock(self, hours: int) -> None:
            self.step()
            self.clock.set(self.clock.now() + timedelta(hours=hours))

        @rule()
        def run_reminders(self) -> None:
            self.step()
            now = self.clock.now()
            response = self.call(
                "POST", "/api/bookings/reminders", {"x-booking-reminder-key": "test-reminder-key"}
            )
            assert response.status_code == 200
            reminded = {r["booking_id"] for r in response.json()["results"]}
            due = {
                b.id
                for b in self.bookings.values()
                if b.status == "confirmed" and not b.reminded and now < b.start <= now + timedelta(hours=24)
            }
            assert reminded == due
            for booking_id in reminded:
                self.bookings[booking_id].reminded = True

        # --- invariants -------------------------------------------------------------------------

        @invariant()
        def database_agrees_with_the_model(self) -> None:
            rows = self.run(self._rows())
            assert {str(b.id) for b in rows} == set(self.bookings)
            by_instructor: dict[uuid.UUID, list[Booking]] = {}
            for row in rows:
                model = self.bookings[str(row.id)]
                assert row.status == model.status
                assert (row.reminder_claimed_at is not None) == model.reminded
                if row.status in ACTIVE:
                    by_instructor.setdefault(row.instructor_id, []).append(row)
            for active in by_instructor.values():
                active.sort(key=lambda b: b.starts_at)
                for earlier, later in itertools.pairwise(active):
                    assert earlier.blocked_until <= later.starts_at, "two active bookings overlap"

        @invariant()
        def histories_follow_the_graph_and_reminders_are_single(self) -> None:
            events, reminder_sms = self.run(self._events())
            for chain in events.values():
                # Creation (pending) is the booking row itself; the events are the changes after it.
                status = "pending"
                for before, after in chain:
                    assert before == status and (after == before or after in GRAPH[BookingStatus(before)]), (
                        chain
                    )
                    status = after
            assert all(count <= 1 for count in reminder_sms.values())

        @invariant()
        def each_caller_lists_what_spec_allows(self) -> None:
            for brand_id, admin in self.brands.items():
                in_brand = {b.id for b in self.bookings.values() if b.brand_id == brand_id}
                callers = [(SERVICE, in_brand), (admin.headers, in_brand)]
                callers += [
                    (
                        s.headers,
                        {b.id for b in self.bookings.values() if b.brand_id == brand_id and b.student is s},
                    )
                    for s in self.students
                ]
                callers += [
                    (
                        i.person.headers,
                        {
                            b.id
                            for b in self.bookings.values()
                            if b.brand_id == brand_id and b.instructor is i
                        },
                    )
                    for i in self.instructors
                ]
                for headers, expected in callers:
                    response = self.call(
                        "GET", "/api/bookings", headers, params={"brand_id": brand_id, "limit": 200}
                    )
                    assert {b["id"] for b in response.json()["bookings"]} == expected

        async def _rows(self) -> list[Booking]:
            async with self.app.state.context.db.transaction(write=False) as session:
                return list(await session.scalars(select(Booking)))

        async def _events(self) -> tuple[dict[uuid.UUID, list[tuple[str | None, str]]], dict[uuid.UUID, int]]:
            async with self.app.state.context.db.transaction(write=False) as session:
                chains: dict[uuid.UUID, list[tuple[str | None, str]]] = {}
                for event in await session.scalars(select(BookingEvent).order_by(BookingEvent.id)):
                    chains.setdefault(event.booking_id, []).append((event.from_status, event.to_status))
                counts = await session.execute(
                    select(NotificationLog.booking_id, func.count())
                    .where(NotificationLog.kind == "reminder", NotificationLog.channel == "sms")
                    .group_by(NotificationLog.booking_id)
                )
                return chains, {booking_id: count for booking_id, count in counts}

    return BookingMachine


def test_booking_state_machine(database_url: str, backend: str) -> None:
    run_state_machine_as_test(
        machine_for(database_url, backend),
        settings=settings(
            max_examples=8,  # of 40 steps each, on each database
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
