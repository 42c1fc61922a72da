"""Resend (email) and Twilio (SMS) over their real HTTP APIs, behind two small protocols.

A provider never raises: every outcome, including timeouts and garbage, becomes a Delivery with a short
reason taken from the provider's own error body. Anything with the same `name` and `send` can stand in
for them (tests use an in-memory fake to exercise fallback and reminder logic).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from booking.notifications.results import Delivery, failed, sent

MAX_REASON = 300


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    idempotency_key: str
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Sms:
    to: str
    body: str


class EmailSender(Protocol):
    name: str

    async def send(self, email: Email) -> Delivery: ...


class SmsSender(Protocol):
    name: str

    async def send(self, sms: Sms) -> Delivery: ...


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def transport_failure(provider: str, exc: httpx.HTTPError) -> Delivery:
    # Only a request that never reached the provider is safe to repeat: after a timeout or a reset
    # the message may have been accepted, and one text too few beats two.
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    if isinstance(exc, httpx.TimeoutException) and not never_sent:
        return failed(f"{provider}_timeout: no answer in time")
    return failed(_short(f"{provider}_unreachable: {type(exc).__name__} {exc}".strip()), retryable=never_sent)


def refused_transiently(response: httpx.Response) -> bool:
    """Rate limited or a server error: the provider did not take the message."""
    return response.status_code == 429 or response.status_code >= 500


class ResendEmail:
    name = "resend"

    def __init__(self, client: httpx.AsyncClient, *, api_key: str, sender: str, base_url: str) -> None:
        self.client = client
        self.api_key = api_key
        self.sender = sender
        self.url = base_url.rstrip("/") + "/emails"

    async def send(self, email: Email) -> Delivery:
        payload: dict[str, Any] = {
            "from": self.sender,
            "to": [email.to],
            "subject": email.subject,
            "html": email.html,
            "text": email.text,
        }
        if email.attachments:
            payload["attachments"] = [
                {
                    "filename": a.filename,
                    "content": base64.b64encode(a.content).decode(),
                    "content_type": a.content_type,
                }
                for a in email.attachments
            ]
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": email.idempotency_key}
        try:
            response = await self.client.post(self.url, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            return transport_failure(self.name, exc)
        body = _json(response)
        if response.status_code == 200 and isinstance(body.get("id"), str):
            return sent(body["id"])
        if response.status_code == 200:
            return failed("resend_invalid_response: no message id in the answer")
        name = body.get("name", "error")
        message = body.get("message", response.reason_phrase)
        reason = _short(f"resend_{name}: HTTP {response.status_code} {message}")
        return failed(reason, retryable=refused_transiently(response))


class TwilioSms:
    name = "twilio"

    def __init__(
        self, client: httpx.AsyncClient, *, account_sid: str, auth_token: str, sender: str, base_url: str
    ) -> None:
        self.client = client
        self.auth = (account_sid, auth_token)
        self.sender = sender
        self.url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"

    async def send(self, sms: Sms) -> Delivery:
        form = {"To": sms.to, "From": self.sender, "Body": sms.body}
        try:
            response = await self.client.post(self.url, data=form, auth=self.auth)
        except httpx.HTTPError as exc:
            return transport_failure(self.name, exc)
        body = _json(response)
        if response.status_code in (200, 201) and isinstance(body.get("sid"), str):
            return sent(body["sid"])
        if response.is_success:
            return failed("twilio_invalid_response: no message sid in the answer")
        code = body.get("code")
        message = body.get("message", response.reason_phrase)
        transient = refused_transiently(response)
        if code is not None:
            reason = _short(f"twilio_rejected: code {code} (HTTP {response.status_code}) {message}")
            return failed(reason, retryable=transient)
        return failed(_short(f"twilio_error: HTTP {response.status_code} {message}"), retryable=transient)
