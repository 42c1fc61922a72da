"""The worker's side of durable messages (SPEC §12), driven by `run_once` and the injectable clock.

Both databases. The providers are the loopback fakes of Resend and Twilio.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from booking.audit import Audit
from booking.bookings.schemas import BookingCreate
from booking.bookings.service import Written, create_booking
from booking.clock import FixedClock
from booking.context import AppContext
from booking.enums import Audience, Channel, MessageState
from booking.events import Events
from booking.jobs import background_jobs
from booking.models.notifications import NotificationLog, OutboxMessage
from booking.notifications.effects import Messages
from booking.notifications.outbox import GIVE_UP_AFTER, INTERRUPTED, LEASE, RETRY_AFTER
from booking.unit_of_work import Change, UnitOfWork
from booking.worker import Worker
from tests.booking_world import MONDAY, World, context_of, make_world
from tests.fake_providers import RESEND_ERRORS, TWILIO_ERRORS, Providers
from tests.loopback import Reply
from tests.servers import free_port
from tests.support import SERVICE, Api, make_settings

START = "2026-12-01T10:00:00+01:00"


@pytest.fixture
async def world(notifying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(notifying_api)


def worker_of(world: World) -> Worker:
    return context_of(world).worker


async def outbox_rows(world: World, booking_id: str) -> dict[tuple[Audience, Channel], OutboxMessage]:
    async with context_of(world).db.transaction(write=False) as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.booking_id == uuid.UUID(booking_id))
        )
        return {(row.audience, row.channel): row for row in rows}


async def log_count(world: World, booking_id: str) -> int:
    async with context_of(world).db.transaction(write=False) as session:
        query = (
            select(func.count())
            .select_from(NotificationLog)
            .where(NotificationLog.booking_id == uuid.UUID(booking_id))
        )
        return int(await session.scalar(query) or 0)


def sent_requests(providers: Providers) -> int:
    return len(providers.resend.requests) + len(providers.twilio.requests)


async def test_transient_failures_with_no_working_fallback_are_retried_by_the_worker(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    providers.twilio.failure = TWILIO_ERRORS["500"]
    providers.resend.failure = RESEND_ERRORS["rate_limit_exceeded"]
    booking = await world.booked(START)
    rows = await outbox_rows(world, booking["id"])
    assert {row.status for row in rows.values()} == {MessageState.RETRYING}
    assert len(rows) == 3  # student email and SMS, instructor email
    logged, asked = await log_count(world, booking["id"]), sent_requests(providers)

    # Not before the first wait of the schedule.
    clock.set(MONDAY + RETRY_AFTER[0] - timedelta(seconds=1))
    assert (await worker_of(world).run_once())["messages"] == 0
    assert sent_requests(providers) == asked

    providers.twilio.failure = providers.resend.failure = None
    clock.set(MONDAY + RETRY_AFTER[0])
    assert (await worker_of(world).run_once())["messages"] == 3
    rows = await outbox_rows(world, booking["id"])
    assert {row.status for row in rows.values()} == {MessageState.SENT}
    assert {row.attempts for row in rows.values()} == {2}
    assert await log_count(world, booking["id"]) == logged + 3
    assert (await worker_of(world).run_once())["messages"] == 0


async def test_a_failure_whose_fallback_worked_is_not_retried(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    providers.twilio.failure = TWILIO_ERRORS["20429"]  # transient, but the student's email went out
    booking = await world.booked(START)
    rows = await outbox_rows(world, booking["id"])
    assert rows[Audience.STUDENT, Channel.SMS].status == MessageState.FAILED
    assert rows[Audience.STUDENT, Channel.EMAIL].status == MessageState.SENT
    providers.twilio.failure = None
    texts = len(providers.twilio.requests)
    clock.set(MONDAY + timedelta(hours=2))
    assert (await worker_of(world).run_once())["messages"] == 0
    assert len(providers.twilio.requests) == texts


async def test_the_email_is_retried_even_when_the_text_went_out(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    providers.resend.failure = RESEND_ERRORS[
        "rate_limit_exceeded"
    ]  # the email (with its .ics) is no SMS's fallback
    booking = await world.booked(START)
    rows = await outbox_rows(world, booking["id"])
    assert rows[Audience.STUDENT, Channel.SMS].status == MessageState.SENT
    assert rows[Audience.STUDENT, Channel.EMAIL].status == MessageState.RETRYING
    providers.resend.failure = None
    clock.set(MONDAY + RETRY_AFTER[0])
    assert (await worker_of(world).run_once())["messages"] == 2  # the student's and the instructor's emails
    rows = await outbox_rows(world, booking["id"])
    assert {row.status for row in rows.values()} == {MessageState.SENT}


async def test_a_message_that_may_have_been_accepted_is_never_retried(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    providers.twilio.failure = Reply(hang=True)  # the request reached Twilio; no answer in time
    providers.resend.failure = RESEND_ERRORS["rate_limit_exceeded"]
    booking = await world.booked(START)
    rows = await outbox_rows(world, booking["id"])
    assert rows[Audience.STUDENT, Channel.SMS].status == MessageState.FAILED
    assert rows[Audience.STUDENT, Channel.EMAIL].status == MessageState.RETRYING
    providers.twilio.failure = providers.resend.failure = None
    texts = len(providers.twilio.requests)
    clock.set(MONDAY + RETRY_AFTER[0])
    assert (await worker_of(world).run_once())["messages"] == 2  # the emails only
    assert len(providers.twilio.requests) == texts


async def test_retries_follow_the_schedule_and_end_within_a_day(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    providers.resend.failure = RESEND_ERRORS["rate_limit_exceeded"]
    providers.twilio.failure = TWILIO_ERRORS["500"]
    # A day of retries: a hold that never expires keeps its expiry email out of this booking's outbox.
    await world.set_availability(settings={"payment_hold_minutes": 0})
    booking = await world.booked(START)
    when = MONDAY
    for wait in RETRY_AFTER:
        when += wait
        clock.set(when)
        await worker_of(world).run_once()
    rows = await outbox_rows(world, booking["id"])
    assert {row.status for row in rows.values()} == {MessageState.FAILED}
    assert {row.attempts for row in rows.values()} == {len(RETRY_AFTER) + 1}
    assert timedelta(hours=20) < sum(RETRY_AFTER, timedelta()) < GIVE_UP_AFTER


class DiesAfterCommit(Messages):
    """The process stops right after the commit, before the request's first attempt."""

    async def after_commit(self, change: Change) -> None:
        return None


async def _book_and_die(world: World, clock: FixedClock, start: str = START) -> Written:
    context = context_of(world)
    data = BookingCreate.model_validate(world.body(start))
    principal = await context.verifier.principal(world.student_headers["Authorization"])
    effects = (Events(), DiesAfterCommit(context.db, context.notifier), Audit())
    work = UnitOfWork(context.db, clock.now(), effects)
    return await work.run(lambda work: create_booking(work, principal, data))


async def test_messages_whose_first_attempt_never_ran_are_sent_by_the_worker(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    booked = await _book_and_die(world, clock)
    booking_id = str(booked.booking.id)
    rows = await outbox_rows(world, booking_id)
    assert {row.status for row in rows.values()} == {MessageState.QUEUED}
    assert sent_requests(providers) == 0
    # The request's lease holds the messages until it runs out.
    clock.set(MONDAY + LEASE - timedelta(seconds=1))
    assert (await worker_of(world).run_once())["messages"] == 0
    clock.set(MONDAY + LEASE)
    assert (await worker_of(world).run_once())["messages"] == 3
    assert {row.status for row in (await outbox_rows(world, booking_id)).values()} == {MessageState.SENT}
    assert len(providers.resend.emails()) == 2 and len(providers.twilio.messages()) == 1
    assert await log_count(world, booking_id) == 3


async def test_an_attempt_interrupted_mid_send_is_given_up_not_repeated(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    booked = await _book_and_die(world, clock)
    async with context_of(world).db.transaction(write=True) as session:
        rows = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.booking_id == booked.booking.id))
        ).all()
        for row in rows:  # what the request records before it sends; then the process died
            row.status = MessageState.SENDING
    clock.set(MONDAY + LEASE)
    assert (await worker_of(world).run_once())["messages"] == 0
    rows_now = await outbox_rows(world, str(booked.booking.id))
    assert {row.status for row in rows_now.values()} == {MessageState.FAILED}
    assert {row.last_error for row in rows_now.values()} == {INTERRUPTED}
    assert sent_requests(providers) == 0
    assert await log_count(world, str(booked.booking.id)) == 3


async def test_workers_racing_over_one_queue_send_each_message_once(
    world: World, clock: FixedClock, providers: Providers
) -> None:
    starts = ["2026-12-01T10:00:00+01:00", "2026-12-01T12:00:00+01:00", "2026-12-01T14:00:00+01:00"]
    for start in starts:
        await _book_and_die(world, clock, start)
    context = context_of(world)
    clock.set(MONDAY + LEASE)
    workers = [Worker(context.db, clock, background_jobs(context, reminders=False)) for _ in range(10)]
    passes = await asyncio.gather(*(worker.run_once() for worker in workers))
    assert sum(done["messages"] for done in passes) == 3 * len(starts)
    assert len(providers.resend.emails()) == 2 * len(starts)
    assert len(providers.twilio.messages()) == len(starts)


async def test_the_loop_outlives_a_failing_pass(world: World) -> None:
    worker = worker_of(world)
    calls: list[int] = []
    stop = asyncio.Event()

    async def failing_pass(**_: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            stop.set()
        raise OSError("the database is away")

    worker.run_once = failing_pass  # type: ignore[method-assign]
    await asyncio.wait_for(worker.run(stop, pause_after_failure=0.0), timeout=5)
    assert len(calls) == 2


class FailureCounter(logging.Handler):
    """Sets `enough` once the worker has logged `count` failed passes."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.seen = 0
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("worker pass failed"):
            self.seen += 1
            if self.seen >= self.count:
                self.enough.set()


async def test_the_worker_outlives_an_unreachable_database(clock: FixedClock, providers: Providers) -> None:
    settings = make_settings(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere", **providers.settings())
    context = AppContext.from_settings(settings, clock=clock, jobs=background_jobs)
    failures = FailureCounter(3)
    logging.getLogger("booking.worker").addHandler(failures)
    stop = asyncio.Event()
    try:
        loop = asyncio.create_task(context.worker.run(stop, pause_after_failure=0.01))
        await asyncio.wait_for(failures.enough.wait(), timeout=10)
        assert not loop.done(), "still running after three failed passes"
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
    finally:
        logging.getLogger("booking.worker").removeHandler(failures)
        await context.aclose()


async def test_auto_reminders_off_sends_none(world: World, clock: FixedClock, providers: Providers) -> None:
    booking = await world.booked(START)
    paid = await world.patch(booking["id"], {"payment_status": "paid"}, SERVICE)
    assert paid.status_code == 200
    clock.set(MONDAY + timedelta(days=1))  # the session is within 24 h
    context = context_of(world)
    texts = len(providers.twilio.requests)
    quiet = Worker(context.db, clock, background_jobs(context, reminders=False))
    assert (await quiet.run_once())["reminders"] == 0
    assert len(providers.twilio.requests) == texts
    assert (await worker_of(world).run_once())["reminders"] == 1
    assert len(providers.twilio.requests) == texts + 1
