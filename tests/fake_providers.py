"""Fake Resend and Twilio on loopback: they record requests and answer like the real APIs do."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.loopback import LoopbackServer, Recorded, Reply, serve

RESEND_KEY = "re_test_key"
RESEND_FROM = "Coaching <bookings@example.com>"
TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "twilio-test-token"
TWILIO_FROM = "+15005550006"

TWILIO_ERRORS = {
    "21211": Reply(400, {"code": 21211, "message": "The 'To' number +15551234567 is not valid.",
                         "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}),
    "20003": Reply(401, {"code": 20003, "message": "Authenticate",
                         "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}),
    "20429": Reply(429, {"code": 20429, "message": "Too Many Requests",
                         "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}),
    "500": Reply(500, raw=b"<html><body>Internal Server Error</body></html>"),
}  # fmt: skip
RESEND_ERRORS = {
    "validation_error": Reply(
        422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field."}
    ),
    "rate_limit_exceeded": Reply(
        429,
        {
            "statusCode": 429,
            "name": "rate_limit_exceeded",
            "message": "Too many requests. You can only make 2 requests per second.",
        },
    ),
}


@dataclass
class FakeProvider:
    """One fake API; set `failure` to answer every request with it."""

    server: LoopbackServer | None = None
    failure: Reply | None = None
    requests: list[Recorded] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url


class FakeResend(FakeProvider):
    def respond(self, request: Recorded) -> Reply:
        self.requests.append(request)
        if request.path != "/emails":
            return Reply(404, {"statusCode": 404, "name": "not_found", "message": "Not found"})
        if request.headers.get("Authorization") != f"Bearer {RESEND_KEY}":
            return Reply(401, {"statusCode": 401, "name": "missing_api_key", "message": "Missing API key"})
        return self.failure or Reply(200, {"id": str(uuid.uuid4())})

    def emails(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.requests if r.path == "/emails"]

    def calendar(self, email: dict[str, Any]) -> str:
        [attachment] = email["attachments"]
        assert attachment["filename"].endswith(".ics")
        return base64.b64decode(attachment["content"]).decode()


class FakeTwilio(FakeProvider):
    PATH = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"

    def respond(self, request: Recorded) -> Reply:
        self.requests.append(request)
        if request.path != self.PATH:
            return Reply(
                404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
            )
        expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return TWILIO_ERRORS["20003"]
        return self.failure or Reply(201, {"sid": "SM" + uuid.uuid4().hex, "status": "queued"})

    def messages(self) -> list[dict[str, str]]:
        return [
            {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
            for r in self.requests
            if r.path == self.PATH
        ]


@dataclass
class Providers:
    resend: FakeResend
    twilio: FakeTwilio

    def settings(self) -> dict[str, Any]:
        return {
            "resend_api_key": RESEND_KEY,
            "resend_from_email": RESEND_FROM,
            "resend_api_url": self.resend.url,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_from_number": TWILIO_FROM,
            "twilio_api_base_url": self.twilio.url,
        }


@contextmanager
def fake_providers() -> Iterator[Providers]:
    resend, twilio = FakeResend(), FakeTwilio()
    with serve(resend.respond) as resend_server, serve(twilio.respond) as twilio_server:
        resend.server, twilio.server = resend_server, twilio_server
        yield Providers(resend, twilio)
