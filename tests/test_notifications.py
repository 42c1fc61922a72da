"""Booking email and SMS through fake Resend and Twilio servers: requests, failures, fallbacks, logs."""

from __future__ import annotations

import base64
import re
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from booking.clock import FixedClock
from booking.models.notifications import NotificationLog
from booking.notifications.messages import local_time_span
from tests.booking_world import MONDAY, World, make_world
from tests.conftest import NOTIFY_TIMEOUT
from tests.fake_providers import (
    RESEND_ERRORS,
    RESEND_FROM,
    RESEND_KEY,
    TWILIO_ERRORS,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    Providers,
)
from tests.figures import FIGURES
from tests.loopback import Reply
from tests.servers import free_port
from tests.support import SERVICE, Api, user_headers

START = "2026-12-01T10:00:00+01:00"


@pytest.fixture
async def world(notifying_api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(notifying_api)


async def log_rows(world: World, booking_id: str) -> list[NotificationLog]:
    async with world.api.app.state.context.db.transaction(write=False) as session:
        rows = await session.scalars(
            select(NotificationLog)
            .where(NotificationLog.booking_id == uuid.UUID(booking_id))
            .order_by(NotificationLog.kind, NotificationLog.channel)
        )
        return list(rows)


async def still_booked(world: World, booking_id: str) -> None:
    response = await world.client.get(f"/api/bookings/{booking_id}", headers=SERVICE)
    FIGURES["bookings checked after a provider fault"] += 1
    assert response.status_code == 200
    assert response.json()["booking"]["status"] == "pending"


async def test_booking_sends_student_email_sms_and_instructor_email(
    world: World, providers: Providers
) -> None:
    response = await world.book(START, student_name="Sam")
    assert response.status_code == 201
    body = response.json()
    notifications = body["notifications"]
    assert notifications["email"]["status"] == "sent"
    assert notifications["sms"]["status"] == "sent"
    assert notifications["instructor_email"]["status"] == "sent"
    assert "sms_blocker" not in notifications

    emails = {e["to"][0]: e for e in providers.resend.emails()}
    student, instructor = emails["student@example.com"], emails["ada@example.com"]
    assert student["from"] == RESEND_FROM
    # Every time in the recipient's own zone, with the zone named.
    assert "04:00-05:00 America/New_York" in student["text"] and "04:00" in student["html"]
    assert "10:00-11:00 Europe/Berlin" in instructor["text"]
    assert "Europe/Berlin" not in student["text"]
    for request in providers.resend.requests:
        assert request.headers["Authorization"] == f"Bearer {RESEND_KEY}"
        assert request.headers["Idempotency-Key"].startswith(
            f"booking-{body['booking']['id']}/booking_created/"
        )
    assert len({r.headers["Idempotency-Key"] for r in providers.resend.requests}) == 2

    ics = providers.resend.calendar(student)
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
    assert f"UID:{body['booking']['id']}@booking\r\n" in ics
    assert "DTSTART:20261201T090000Z\r\n" in ics and "DTEND:20261201T100000Z\r\n" in ics
    assert "DTSTAMP:20261130T060000Z\r\n" in ics
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))

    [sms] = providers.twilio.messages()
    assert (sms["To"], sms["From"]) == ("+15551234567", TWILIO_FROM)
    assert "04:00-05:00 America/New_York" in sms["Body"]
    auth = providers.twilio.requests[0].headers["Authorization"]
    assert base64.b64decode(auth.removeprefix("Basic ")).decode() == f"{TWILIO_SID}:{TWILIO_TOKEN}"

    rows = await log_rows(world, body["booking"]["id"])
    assert [(r.kind, r.channel, r.status) for r in rows] == [
        ("booking_created", "email", "sent"),
        ("booking_created", "sms", "sent"),
        ("booking_created_instructor", "email", "sent"),
    ]
    assert rows[1].provider_message_id == notifications["sms"]["provider_message_id"]
    assert rows[1].recipient == "+15551234567"


@pytest.mark.parametrize("failure", sorted(TWILIO_ERRORS))
async def test_twilio_refusal_blocks_sms_and_email_is_the_fallback(
    world: World, providers: Providers, failure: str
) -> None:
    providers.twilio.failure = TWILIO_ERRORS[failure]
    FIGURES["faults injected: provider refusal"] += 1
    response = await world.book(START)
    assert response.status_code == 201
    notifications = response.json()["notifications"]
    assert notifications["sms"]["status"] == "failed"
    assert failure in notifications["sms_blocker"]
    assert notifications["email"]["status"] == "sent"
    booking_id = response.json()["booking"]["id"]
    await still_booked(world, booking_id)
    sms_row = next(r for r in await log_rows(world, booking_id) if r.channel == "sms")
    assert sms_row.status == "failed" and sms_row.error is not None and failure in sms_row.error


@pytest.mark.parametrize("failure", sorted(RESEND_ERRORS))
async def test_resend_refusal_is_reported_and_booking_stays(
    world: World, providers: Providers, failure: str
) -> None:
    providers.resend.failure = RESEND_ERRORS[failure]
    FIGURES["faults injected: provider refusal"] += 1
    response = await world.book(START)
    assert response.status_code == 201
    email = response.json()["notifications"]["email"]
    assert email["status"] == "failed" and failure in email["reason"]
    assert response.json()["notifications"]["sms"]["status"] == "sent"
    await still_booked(world, response.json()["booking"]["id"])


@pytest.mark.parametrize("misbehaviour", ["hang", "reset", "garbage"])
async def test_misbehaving_providers_never_cost_the_booking(
    world: World, providers: Providers, misbehaviour: str
) -> None:
    reply = {
        "hang": Reply(hang=True),
        "reset": Reply(reset=True),
        "garbage": Reply(200, raw=b"\x00not json"),
    }[misbehaviour]
    providers.twilio.failure = providers.resend.failure = reply
    FIGURES[f"faults injected: provider {misbehaviour}"] += 1
    started = time.monotonic()
    response = await world.book(START)
    elapsed = time.monotonic() - started
    assert response.status_code == 201
    notifications = response.json()["notifications"]
    assert notifications["email"]["status"] == notifications["sms"]["status"] == "failed"
    assert "sms_blocker" in notifications
    if misbehaviour == "hang":
        assert "timeout" in notifications["sms_blocker"]
        # The provider timeout bounds the request (both channels wait in parallel); generous margin.
        assert elapsed < NOTIFY_TIMEOUT * 4 + 1
    await still_booked(world, response.json()["booking"]["id"])


async def test_unreachable_providers(notifying_api: Api, clock: FixedClock, database_url: str) -> None:
    clock.set(MONDAY)
    dead = f"http://127.0.0.1:{free_port()}"
    notifier = notifying_api.app.state.context.notifier
    assert notifier.sms is not None and notifier.email is not None
    notifier.sms.url = dead + "/2010-04-01/Accounts/x/Messages.json"
    notifier.email.url = dead + "/emails"
    world = await make_world(notifying_api)
    FIGURES["faults injected: provider unreachable"] += 1
    response = await world.book(START)
    assert response.status_code == 201
    assert response.json()["notifications"]["sms_blocker"].startswith("twilio_unreachable")
    assert response.json()["notifications"]["email"]["reason"].startswith("resend_unreachable")
    await still_booked(world, response.json()["booking"]["id"])


async def test_no_phone_means_no_sms(world: World, providers: Providers) -> None:
    response = await world.book(START, headers=user_headers(uuid.uuid4(), email="x@example.com"))
    notifications = response.json()["notifications"]
    assert notifications["sms"]["status"] == "skipped"
    assert notifications["sms_blocker"].startswith("no_phone")
    assert notifications["email"]["status"] == "sent"
    assert providers.twilio.requests == []


async def test_status_changes_email_the_student_and_cancellation_texts(
    world: World, providers: Providers
) -> None:
    booking_id = (await world.booked(START))["id"]
    providers.resend.requests.clear()
    providers.twilio.requests.clear()
    await world.patch(booking_id, {"payment_status": "paid"}, world.admin_headers)
    [confirmed] = providers.resend.emails()
    assert confirmed["subject"].startswith("Session confirmed") and confirmed["to"] == ["student@example.com"]
    assert "STATUS:CONFIRMED" in providers.resend.calendar(confirmed)
    assert providers.twilio.messages() == []
    await world.patch(
        booking_id, {"status": "cancelled", "cancellation_reason": "ill"}, world.student_headers
    )
    cancelled = providers.resend.emails()[-1]
    assert cancelled["subject"].startswith("Session cancelled") and "Reason: ill" in cancelled["text"]
    [sms] = providers.twilio.messages()
    assert sms["Body"].startswith("Cancelled:")
    kinds = [(r.kind, r.channel) for r in await log_rows(world, booking_id)]
    assert ("booking_confirmed", "email") in kinds and ("booking_cancelled", "sms") in kinds


async def test_replay_returns_the_answer_with_its_notifications(world: World, providers: Providers) -> None:
    headers = world.student_headers | {"Idempotency-Key": "notify-once"}
    body = world.body(START)
    first = await world.client.post("/api/bookings", json=body, headers=headers)
    second = await world.client.post("/api/bookings", json=body, headers=headers)
    assert second.json() == first.json()
    assert second.json()["notifications"]["sms"]["status"] == "sent"
    assert len(providers.twilio.messages()) == 1, "a replay sends nothing"


def test_sms_body_is_plain_gsm_text() -> None:
    text = local_time_span(
        datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC), "Asia/Kathmandu"
    )
    assert text == "Tuesday, December 1, 2026, 14:45-15:45 Asia/Kathmandu (UTC+05:45)"
    assert re.fullmatch(r"[\x20-\x7e]+", text)
