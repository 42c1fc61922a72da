"""A loopback Stripe that answers like Stripe: form-encoded requests with Bearer keys and
Idempotency-Keys, Stripe's JSON objects and error bodies. It records what it was asked, serves a
hosted-checkout page of its own (a Pay button that completes the session and sends the payer back),
and signs events the way Stripe signs webhooks."""

from __future__ import annotations

import html
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from booking.payments.signature import signature
from tests.loopback import LoopbackServer, Recorded, Reply, serve

STRIPE_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_fake_current_0123456789"
OLD_WEBHOOK_SECRET = "whsec_fake_previous_0123456789"


def stripe_error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
) -> Reply:
    return Reply(status, {"error": {"type": kind, "message": message, "code": code}})


def form_of(body: bytes) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts and lists."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append({})
                if last:
                    node[position] = value
                else:
                    node = node[position]
                continue
            if last:
                node[part] = value
            else:
                following = parts[index + 1]
                node = node.setdefault(part, [] if following.isdigit() else {})
    return result


@dataclass
class FakeStripe:
    server: LoopbackServer | None = None
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    # Answered, in order, to the next requests of that path kind ("sessions", "refunds", "expire").
    failures: dict[str, list[Reply]] = field(default_factory=dict)
    refund_status: str = "succeeded"
    # "hang" or "reset": do the work, then lose the answer (a timeout, a dropped connection).
    lose_answers: str | None = None
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # each session's request, parsed
    _replies: dict[str, tuple[bytes, Reply]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def settings(self) -> dict[str, Any]:
        return {
            "stripe_secret_key": STRIPE_KEY,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "stripe_api_base": self.url,
        }

    # --- what it was asked -----------------------------------------------------------------------

    def asked(self, method: str, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def session_requests(self) -> list[Recorded]:
        return [r for r in self.asked("POST", "/v1/checkout/sessions") if not r.path.endswith("/expire")]

    def expired(self) -> list[str]:
        return [
            r.path.split("/")[-2]
            for r in self.asked("POST", "/v1/checkout/sessions/")
            if r.path.endswith("/expire")
        ]

    # --- the API ---------------------------------------------------------------------------------

    def respond(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            if request.path.startswith("/pay/"):
                return self._checkout_page(request)
            if request.headers.get("Authorization") != f"Bearer {STRIPE_KEY}":
                return stripe_error(401, "Invalid API Key provided", code="api_key_invalid")
            key = request.headers.get("Idempotency-Key")
            if key is not None and key in self._replies:
                body, reply = self._replies[key]
                if body != request.body:
                    return stripe_error(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                        kind="idempotency_error",
                    )
                return Reply(reply.status, reply.body, headers={"Idempotent-Replayed": "true"})
            reply = self._answer(request)
            # Stripe keeps the result of a request that ran: not a 5xx, a rate limit, or a 409 for a
            # key still in use by another request.
            if key is not None and reply.status < 500 and reply.status not in (409, 429):
                self._replies[key] = (request.body, reply)
            if self.lose_answers is not None:
                return Reply(hang=self.lose_answers == "hang", reset=self.lose_answers == "reset")
            return reply

    def _next_failure(self, kind: str) -> Reply | None:
        queued = self.failures.get(kind)
        return queued.pop(0) if queued else None

    def _answer(self, request: Recorded) -> Reply:
        path = urlsplit(request.path).path
        if request.method == "POST" and path == "/v1/checkout/sessions":
            return self._next_failure("sessions") or self._create_session(form_of(request.body))
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path)
        if match:
            found = self.sessions.get(match.group(1))
            if found is None:
                return stripe_error(
                    404, f"No such checkout.session: '{match.group(1)}'", code="resource_missing"
                )
            if match.group(2) and request.method == "POST":
                if failure := self._next_failure("expire"):
                    return failure
                if found["status"] != "open":
                    return stripe_error(
                        400,
                        "Only Checkout Sessions with a status in [open] can be expired. "
                        f"This Checkout Session has a status of {found['status']}.",
                    )
                found["status"] = "expired"
            return Reply(200, found)
        if request.method == "POST" and path == "/v1/refunds":
            return self._next_failure("refunds") or self._refund(form_of(request.body))
        return stripe_error(404, f"Unrecognized request URL ({request.method}: {path})")

    def _create_session(self, form: dict[str, Any]) -> Reply:
        [item] = form["line_items"]
        session_id = "cs_test_" + uuid.uuid4().hex
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": int(item["price_data"]["unit_amount"]) * int(item["quantity"]),
            "currency": item["price_data"]["currency"],
            "client_reference_id": form.get("client_reference_id"),
            "customer_email": form.get("customer_email"),
            "metadata": form.get("metadata", {}),
            "payment_intent": None,
            "expires_at": int(form["expires_at"]),
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
            "url": f"{self.url}/pay/{session_id}",
        }
        self.forms[session_id] = form
        self.sessions[session_id] = session
        return Reply(200, session)

    def _refund(self, form: dict[str, Any]) -> Reply:
        refund = {
            "id": "re_" + uuid.uuid4().hex,
            "object": "refund",
            "amount": int(form["amount"]),
            "payment_intent": form["payment_intent"],
            "metadata": form.get("metadata", {}),
            "status": self.refund_status,
        }
        self.refunds.append(refund)
        return Reply(200, refund)

    # --- the hosted checkout page ----------------------------------------------------------------

    def _checkout_page(self, request: Recorded) -> Reply:
        session_id = request.path.split("/")[2].split("?")[0]
        found = self.sessions.get(session_id)
        if found is None or found["status"] != "open":
            return Reply(404, raw=b"<p>This checkout is over.</p>", headers={"content-type": "text/html"})
        if request.method == "POST":
            self.pay(session_id)
            back = found["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
            return Reply(303, raw=b"", headers={"location": back})
        amount = html.escape(f"{found['amount_total']} {found['currency']}")
        page = (
            f"<!doctype html><title>Fake Stripe Checkout</title><p>{amount}</p>"
            f'<form method="post" action="/pay/{session_id}"><button>Pay {amount}</button></form>'
        )
        return Reply(200, raw=page.encode(), headers={"content-type": "text/html"})

    def pay(self, session_id: str, payment_status: str = "paid") -> dict[str, Any]:
        """The payer completes the session (as Stripe's hosted page would)."""
        found = self.sessions[session_id]
        found.update(
            status="complete", payment_status=payment_status, payment_intent="pi_" + uuid.uuid4().hex
        )
        return found


# --- events --------------------------------------------------------------------------------------


def event(kind: str, thing: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or "evt_" + uuid.uuid4().hex,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": thing},
    }


def signed(body: bytes, timestamp: int, *secrets: str) -> dict[str, str]:
    """The headers Stripe sends: one `v1` per secret (Stripe signs with each of a rotation's secrets)."""
    v1 = ",".join(f"v1={signature(secret, timestamp, body)}" for secret in secrets)
    return {"Stripe-Signature": f"t={timestamp},{v1}", "content-type": "application/json"}


def payload(thing: dict[str, Any]) -> bytes:
    return json.dumps(thing).encode()


@contextmanager
def fake_stripe() -> Iterator[FakeStripe]:
    fake = FakeStripe()
    with serve(fake.respond) as server:
        fake.server = server
        yield fake
