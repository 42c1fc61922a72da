"""The booking path with a price and Stripe on (no call to Stripe: checkout is a call of its own), and
the cost of one Stripe webhook event that pays a booking (signature, event id, the payment applied:
confirmation, history, events), one event after another, through HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from bench.harness import (
    LightClient,
    booking_body,
    free_port,
    seed,
    server,
    student_headers,
    tomorrow_midnight,
)
from bench.service import _latency_row
from booking.payments.signature import signature

PRICE = 5000
WEBHOOK_SECRET = "whsec_bench_0123456789"
EVENTS = 200


def stripe_env() -> dict[str, str]:
    """Stripe on, at an address where nothing listens: a booking that asked Stripe would fail."""
    return {
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{free_port()}",
    }


def paid_session(booking: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        "id": f"evt_bench_{index}",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_bench_{index}",
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": booking["price"]["amount"],
                "currency": booking["price"]["currency"],
                "client_reference_id": booking["id"],
                "payment_intent": f"pi_bench_{index}",
                "expires_at": int(time.time()) + 1800,
            }
        },
    }


def webhook_events(database_url: str, backend: str) -> dict[str, Any]:
    """EVENTS priced bookings made, then each paid by one signed `checkout.session.completed`."""
    with server(database_url, extra_env=stripe_env()) as base:
        seeded = seed(base, price_amount=PRICE)
        client = LightClient(base)
        timings = []
        try:
            start = tomorrow_midnight()
            bookings = []
            for index in range(EVENTS):
                body = booking_body(seeded, seeded.instructor_ids[0], start + timedelta(hours=index))
                status, answer = client.request("POST", "/api/bookings", body, student_headers())
                assert status == 201, answer
                bookings.append(json.loads(answer)["booking"])
            for index, booking in enumerate(bookings):
                raw = json.dumps(paid_session(booking, index)).encode()
                now = int(time.time())
                headers = {
                    "Stripe-Signature": f"t={now},v1={signature(WEBHOOK_SECRET, now, raw)}",
                    "content-type": "application/json",
                }
                began = time.perf_counter()
                status, answer = client.send("POST", "/api/payments/stripe/webhook", raw, headers)
                timings.append((time.perf_counter() - began) * 1000)
                assert status == 200, answer
        finally:
            client.close()
    return _latency_row("Stripe webhook: a payment applied", backend, timings, None, f"{EVENTS} events")
