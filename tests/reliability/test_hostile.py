"""Hostile input: long and odd strings in every text field, deep JSON, forged tokens, the wrong admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from booking.clock import FixedClock
from tests.booking_world import MONDAY, World, make_world
from tests.conftest import running_api
from tests.figures import FIGURES
from tests.support import SECRET, SERVICE, Api, bearer, make_settings

ODD = "Zoë 👩🏽‍🏫 \u202e\u05e9\u05dc\u05d5\u05dd\u202c e\u0301 \u200b日本語 Ω"  # Hebrew inside RTL override
START = "2026-12-01T10:00:00+01:00"


@pytest.fixture
async def world(api: Api, clock: FixedClock) -> World:
    clock.set(MONDAY)
    return await make_world(api)


def raw_post(world: World, url: str, body: bytes, headers: dict[str, str]) -> Any:
    return world.client.post(url, content=body, headers=headers | {"content-type": "application/json"})


async def test_odd_unicode_is_stored_intact_everywhere(world: World) -> None:
    brand = await world.client.post("/api/brands", json={"name": ODD, "slug": "odd"}, headers=SERVICE)
    assert brand.json()["brand"]["name"] == ODD
    created = await world.book(START, student_name=ODD)
    booking = created.json()["booking"]
    assert booking["student_name"] == ODD
    notes = ODD + "\nline two\twith a tab"
    await world.patch(booking["id"], {"instructor_notes": notes}, world.instructor_headers)
    reason = "🙈" * 100
    await world.patch(booking["id"], {"status": "cancelled", "cancellation_reason": reason}, SERVICE)
    stored = (await world.client.get(f"/api/bookings/{booking['id']}", headers=SERVICE)).json()["booking"]
    assert (stored["student_name"], stored["instructor_notes"], stored["cancellation_reason"]) == (
        ODD,
        notes,
        reason,
    )
    FIGURES["hostile inputs sent"] += 4


TEXT_FIELDS: list[tuple[str, str, Any]] = [
    ("brand name", "name", "x" * 201),
    ("brand name", "name", "bell\x07"),
    ("brand name", "name", "nul\x00"),
    ("brand slug", "slug", "s" * 65),
    ("instructor name", "name", "y" * 201),
    ("instructor email", "email", "a" * 310 + "@example.com"),
    ("student name", "student_name", "z" * 201),
    ("student name", "student_name", "esc\x1b[31m"),
    ("student email", "student_email", "a@" + "b" * 320 + ".com"),
    ("notes", "instructor_notes", "n" * 5001),
    ("notes", "instructor_notes", "form\x0cfeed"),
    ("reason", "cancellation_reason", "r" * 5001),
]


@pytest.mark.parametrize(("where", "field", "value"), TEXT_FIELDS)
async def test_long_or_control_strings_are_422_and_change_nothing(
    world: World, where: str, field: str, value: Any
) -> None:
    booking = await world.booked(START)
    before = (await world.client.get(f"/api/bookings/{booking['id']}", headers=SERVICE)).json()
    if where.startswith("brand"):
        response = await world.client.post(
            "/api/brands", json={"name": "N", "slug": "n"} | {field: value}, headers=SERVICE
        )
    elif where.startswith("instructor"):
        body = {
            "name": "I",
            "email": "i@example.com",
            "timezone": "UTC",
            "brand_ids": [world.brand["id"]],
            field: value,
        }
        response = await world.client.post("/api/instructors", json=body, headers=SERVICE)
    elif where.startswith("student"):
        response = await world.book("2026-12-01T14:00:00+01:00", **{field: value})
    else:
        extra = {"status": "cancelled"} if field == "cancellation_reason" else {}
        response = await world.patch(booking["id"], {field: value} | extra, SERVICE)
    FIGURES["hostile inputs sent"] += 1
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    after = (await world.client.get(f"/api/bookings/{booking['id']}", headers=SERVICE)).json()
    assert after == before
    assert len(await world.all_bookings()) == 1
    assert [b["slug"] for b in (await world.client.get("/api/brands")).json()["brands"]] == ["acme"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b'{"name": "\xff\xfe", "slug": "bad-utf8"}',
        b'{"name": "\\ud800", "slug": "lone-surrogate"}',
        b'{"name": "x", "slug": "dup", "slug": "dup2", "extra": 1e999}',
        b"\x00\x01\x02",
    ],
)
async def test_malformed_bodies_are_4xx_in_the_envelope(world: World, body: bytes) -> None:
    response = await raw_post(world, "/api/brands", body, SERVICE)
    FIGURES["hostile inputs sent"] += 1
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] in ("validation_error", "payload_too_large")
    assert [b["slug"] for b in (await world.client.get("/api/brands")).json()["brands"]] == ["acme"]


async def test_dates_far_away_are_422_not_overflow(world: World) -> None:
    url = f"/api/instructors/{world.instructor['id']}/slots"
    for params in ({"from": "9999-12-30", "to": "9999-12-31"}, {"from": "0001-01-01", "to": "0001-01-02"}):
        response = await world.client.get(url, params={"brand_id": world.brand["id"]} | params)
        assert response.status_code == 422
    for start in ("9999-12-31T23:30:00Z", "0001-01-01T00:00:00+14:00"):
        assert (await world.book(start)).status_code == 422
    FIGURES["hostile inputs sent"] += 4


# --- tokens -----------------------------------------------------------------------------------------


def _claims(**extra: Any) -> dict[str, Any]:
    return {
        "sub": str(uuid.uuid4()),
        "role": "authenticated",
        "aud": "authenticated",
        "exp": int(time.time()) + 600,
    } | extra


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def _forged(kind: str) -> str:
    if kind == "alg none":
        return f"{_b64(json.dumps({'alg': 'none'}).encode())}.{_b64(json.dumps(_claims()).encode())}."
    if kind == "hs256 signed with a public key":
        public = ec.generate_private_key(ec.SECP256R1()).public_key()
        from cryptography.hazmat.primitives import serialization

        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        signing_input = f"{header}.{_b64(json.dumps(_claims()).encode())}"
        return signing_input + "." + _b64(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    if kind == "another audience":
        return jwt.encode(_claims(aud="another-app"), SECRET, algorithm="HS256")
    if kind == "expired":
        return jwt.encode(_claims(exp=int(time.time()) - 1), SECRET, algorithm="HS256")
    if kind == "service role forged with another secret":
        return jwt.encode(
            _claims(role="service_role"), "not-the-secret-but-long-enough-000000", algorithm="HS256"
        )
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "alg none",
        "hs256 signed with a public key",
        "another audience",
        "expired",
        "service role forged with another secret",
    ],
)
async def test_forged_tokens_are_401_on_every_kind_of_call(world: World, kind: str) -> None:
    headers = bearer(_forged(kind))
    calls = [
        world.client.get("/api/brands", headers=headers),
        world.client.post("/api/brands", json={"name": "X", "slug": "x"}, headers=headers),
        world.book(START, headers=headers),
    ]
    for call in calls:
        response = await call
        FIGURES["hostile inputs sent"] += 1
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
    assert await world.all_bookings() == []


# --- the wrong brand admin --------------------------------------------------------------------------


async def test_another_brands_admin_can_neither_read_nor_change_anything(world: World) -> None:
    booking = await world.booked(START)
    await world.patch(booking["id"], {"instructor_notes": "private"}, world.instructor_headers)
    other = await world.api.brand(slug="other")
    _, intruder = await world.api.admin_of(other["id"])
    brand, instructor = world.brand["id"], world.instructor["id"]
    # A public IP literal passes the URL rules without a DNS lookup (this machine has no resolver).
    hook = {"url": "https://93.184.216.34/hooks", "events": ["*"]}
    created = await world.client.post(f"/api/brands/{brand}/webhooks", json=hook, headers=SERVICE)
    assert created.status_code == 201, created.text
    to_webhook = f"/api/brands/{brand}/webhooks/{created.json()['webhook']['id']}"
    package = {"name": "Ten", "sessions": 10, "valid_days": 30, "price_amount": 100}
    sold = await world.client.post(f"/api/brands/{brand}/packages", json=package, headers=SERVICE)
    to_package = f"/api/brands/{brand}/packages/{sold.json()['package']['id']}"
    held = await world.client.post(
        "/api/passes", json={"package_id": sold.json()["package"]["id"]}, headers=world.student_headers
    )
    to_pass = f"/api/passes/{held.json()['pass']['id']}"

    async def snapshot() -> Any:
        return [
            (await world.client.get(f"/api/bookings/{booking['id']}", headers=SERVICE)).json(),
            (
                await world.client.get(
                    f"/api/instructors/{instructor}/availability", params={"brand_id": brand}
                )
            ).json(),
            (await world.client.get("/api/instructors", params={"brand_id": brand})).json(),
            (await world.client.get("/api/bookings", params={"brand_id": brand}, headers=SERVICE)).json(),
            (await world.client.get(f"/api/brands/{brand}/webhooks", headers=SERVICE)).json(),
            (await world.client.get(f"/api/brands/{brand}/packages", headers=SERVICE)).json(),
            (await world.client.get(to_pass, headers=SERVICE)).json(),
        ]

    before = await snapshot()
    client = world.client
    new_instructor = {"name": "I", "email": "i@example.com", "timezone": "UTC", "brand_ids": [brand]}
    to_instructor, to_booking = f"/api/instructors/{instructor}", f"/api/bookings/{booking['id']}"
    attempts: dict[tuple[str, str], tuple[Any, set[int]]] = {
        ("POST", "/api/brands"): (
            client.post("/api/brands", json={"name": "M", "slug": "m"}, headers=intruder),
            {403},
        ),
        ("PATCH", "/api/brands/{brand_id}"): (
            client.patch(
                f"/api/brands/{brand}", json={"settings": {"max_pending_per_student": 50}}, headers=intruder
            ),
            {403},
        ),
        ("POST", "/api/brands/{brand_id}/admins"): (
            client.post(f"/api/brands/{brand}/admins", json={"user_id": str(uuid.uuid4())}, headers=intruder),
            {403},
        ),
        ("POST", "/api/instructors"): (
            client.post("/api/instructors", json=new_instructor, headers=intruder),
            {403},
        ),
        ("PATCH", "/api/instructors/{instructor_id}"): (
            client.patch(to_instructor, json={"name": "X"}, headers=intruder),
            {403},
        ),
        ("PUT", "/api/instructors/{instructor_id}/brands/{brand_id}"): (
            client.put(f"{to_instructor}/brands/{brand}", headers=intruder),
            {403},
        ),
        ("DELETE", "/api/instructors/{instructor_id}/brands/{brand_id}"): (
            client.delete(f"{to_instructor}/brands/{brand}", headers=intruder),
            {403},
        ),
        ("PUT", "/api/instructors/{instructor_id}/availability"): (
            client.put(
                f"{to_instructor}/availability", json={"brand_id": brand, "weekly": []}, headers=intruder
            ),
            {403},
        ),
        ("GET", "/api/instructors/{instructor_id}/calendar"): (
            client.get(f"{to_instructor}/calendar", params={"brand_id": brand}, headers=intruder),
            {403},
        ),
        ("GET", "/api/bookings/{booking_id}"): (client.get(to_booking, headers=intruder), {404}),
        ("GET", "/api/bookings/export.csv"): (
            client.get("/api/bookings/export.csv", params={"brand_id": brand}, headers=intruder),
            {404},
        ),
        ("GET", "/api/brands/{brand_id}/audit"): (
            client.get(f"/api/brands/{brand}/audit", headers=intruder),
            {404},
        ),
        ("GET", "/api/brands/{brand_id}/insights"): (
            client.get(
                f"/api/brands/{brand}/insights",
                params={"from": "2026-12-01", "to": "2026-12-31"},
                headers=intruder,
            ),
            {404},
        ),
        ("PATCH", "/api/bookings/{booking_id}"): (
            client.patch(to_booking, json={"status": "cancelled"}, headers=intruder),
            {404},
        ),
        # The instructor's calendars span every brand: no brand admin manages them (SPEC §13).
        ("PUT", "/api/instructors/{instructor_id}/busy-calendars"): (
            client.put(f"{to_instructor}/busy-calendars", json={"calendars": []}, headers=intruder),
            {403},
        ),
        ("GET", "/api/instructors/{instructor_id}/busy-calendars"): (
            client.get(f"{to_instructor}/busy-calendars", headers=intruder),
            {403},
        ),
        ("POST", "/api/instructors/{instructor_id}/calendar-feed"): (
            client.post(f"{to_instructor}/calendar-feed", headers=intruder),
            {403},
        ),
        ("DELETE", "/api/instructors/{instructor_id}/calendar-feed"): (
            client.delete(f"{to_instructor}/calendar-feed", headers=intruder),
            {403},
        ),
        ("POST", "/api/bookings/{booking_id}/reschedule"): (
            client.post(
                f"{to_booking}/reschedule",
                json={"starts_at": "2026-12-01T15:00:00+01:00"},
                headers=intruder | {"Idempotency-Key": "intruder-move"},
            ),
            {404},
        ),
        ("POST", "/api/bookings"): (
            world.book("2026-12-01T14:00:00+01:00", headers=intruder, student_id=str(uuid.uuid4())),
            {403},
        ),
        # A series is booked like a booking (tests/test_series.py reads a real one as a stranger).
        ("POST", "/api/series"): (
            client.post(
                "/api/series",
                json=world.body("2026-12-01T14:00:00+01:00", student_id=str(uuid.uuid4()), count=2),
                headers=intruder,
            ),
            {403},
        ),
        ("POST", "/api/series/preview"): (
            client.post(
                "/api/series/preview",
                json=world.body("2026-12-01T14:00:00+01:00", student_id=str(uuid.uuid4()), count=2),
                headers=intruder,
            ),
            {403},
        ),
        ("GET", "/api/series/{series_id}"): (
            client.get(f"/api/series/{uuid.uuid4()}", headers=intruder),
            {404},
        ),
        ("PATCH", "/api/series/{series_id}"): (
            client.patch(f"/api/series/{uuid.uuid4()}", json={"payment_status": "paid"}, headers=intruder),
            {404},
        ),
        ("POST", "/api/series/{series_id}/cancel"): (
            client.post(f"/api/series/{uuid.uuid4()}/cancel", json={}, headers=intruder),
            {404},
        ),
        # Online payment is off here: refused before any booking is looked at, for everyone alike
        # (tests/test_payments.py walks them with Stripe on).
        ("POST", "/api/bookings/{booking_id}/checkout"): (
            client.post(f"{to_booking}/checkout", json={}, headers=intruder),
            {409},
        ),
        ("POST", "/api/bookings/{booking_id}/checkout/refresh"): (
            client.post(f"{to_booking}/checkout/refresh", json={}, headers=intruder),
            {409},
        ),
        ("POST", "/api/brands/{brand_id}/packages"): (
            client.post(f"/api/brands/{brand}/packages", json=package, headers=intruder),
            {404},
        ),
        ("PATCH", "/api/brands/{brand_id}/packages/{package_id}"): (
            client.patch(to_package, json={"active": False}, headers=intruder),
            {404},
        ),
        ("POST", "/api/passes"): (
            client.post(
                "/api/passes",
                json={"package_id": sold.json()["package"]["id"], "student_id": str(world.student_id)},
                headers=intruder,
            ),
            {403},
        ),
        ("GET", "/api/passes/{pass_id}"): (client.get(to_pass, headers=intruder), {404}),
        ("PATCH", "/api/passes/{pass_id}"): (
            client.patch(to_pass, json={"payment_status": "paid"}, headers=intruder),
            {404},
        ),
        ("POST", "/api/series/{series_id}/checkout"): (
            client.post(f"/api/series/{uuid.uuid4()}/checkout", json={}, headers=intruder),
            {409},
        ),
        ("POST", "/api/series/{series_id}/checkout/refresh"): (
            client.post(f"/api/series/{uuid.uuid4()}/checkout/refresh", json={}, headers=intruder),
            {409},
        ),
        ("POST", "/api/passes/{pass_id}/checkout"): (
            client.post(f"{to_pass}/checkout", json={}, headers=intruder),
            {409},
        ),
        ("POST", "/api/passes/{pass_id}/checkout/refresh"): (
            client.post(f"{to_pass}/checkout/refresh", json={}, headers=intruder),
            {409},
        ),
        ("POST", "/api/bookings/reminders"): (
            client.post("/api/bookings/reminders", headers=intruder),
            {401},
        ),
        ("POST", "/api/brands/{brand_id}/webhooks"): (
            client.post(f"/api/brands/{brand}/webhooks", json=hook, headers=intruder),
            {404},
        ),
        ("GET", "/api/students/{student_id}/export"): (
            client.get(
                f"/api/students/{world.student_id}/export", params={"brand_id": brand}, headers=intruder
            ),
            {404},
        ),
        ("POST", "/api/students/{student_id}/erase"): (
            client.post(
                f"/api/students/{world.student_id}/erase", json={"brand_id": brand}, headers=intruder
            ),
            {404},
        ),
        ("GET", "/api/brands/{brand_id}/webhooks"): (
            client.get(f"/api/brands/{brand}/webhooks", headers=intruder),
            {404},
        ),
        ("PATCH", "/api/brands/{brand_id}/webhooks/{webhook_id}"): (
            client.patch(to_webhook, json={"enabled": False}, headers=intruder),
            {404},
        ),
        ("DELETE", "/api/brands/{brand_id}/webhooks/{webhook_id}"): (
            client.delete(to_webhook, headers=intruder),
            {404},
        ),
        ("GET", "/api/brands/{brand_id}/webhooks/{webhook_id}/deliveries"): (
            client.get(f"{to_webhook}/deliveries", headers=intruder),
            {404},
        ),
        ("POST", "/api/brands/{brand_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): (
            client.post(f"{to_webhook}/deliveries/msg_{uuid.uuid4().hex}/retry", headers=intruder),
            {404},
        ),
    }
    for (method, path), (call, allowed) in attempts.items():
        response = await call
        FIGURES["wrong-admin calls"] += 1
        assert response.status_code in allowed, (method, path, response.text)
    listed = await world.client.get("/api/bookings", params={"brand_id": brand}, headers=intruder)
    assert listed.json()["bookings"] == [], "sees none of the brand's bookings"
    attempts[("GET", "/api/bookings")] = (None, {200})
    passes = await world.client.get("/api/passes", params={"brand_id": brand}, headers=intruder)
    assert passes.json()["passes"] == [], "sees none of the brand's passes"
    attempts[("GET", "/api/passes")] = (None, {200})
    assert await snapshot() == before

    # Every operation that reads or changes brand data was walked (public reads need no admin).
    public = {
        ("GET", "/api/brands"),
        ("GET", "/api/instructors"),
        ("GET", "/api/instructors/{instructor_id}/availability"),
        ("GET", "/api/instructors/{instructor_id}/slots"),
        ("GET", "/api/instructors/{instructor_id}/slots/explain"),  # what blocks: staff of the brand only
        ("GET", "/api/calendar-feeds/{secret}.ics"),  # the secret in the address is the credential
        ("GET", "/health"),
        ("POST", "/api/payments/stripe/webhook"),  # Stripe's, signed with its own secret
        ("GET", "/api/brands/{brand_id}/packages"),  # what is on sale
    }
    paths = (await world.client.get("/openapi.json")).json()["paths"]
    operations = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert operations - public == set(attempts)


# --- CORS -------------------------------------------------------------------------------------------


async def test_cors_only_for_configured_origins(database_url: str, clock: FixedClock) -> None:
    settings = make_settings(database_url, cors_origins="https://app.example.com")
    async with running_api(settings, clock) as api:
        allowed = await api.client.get("/api/brands", headers={"Origin": "https://app.example.com"})
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = await api.client.get("/api/brands", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
