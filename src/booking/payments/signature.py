"""Stripe's webhook signature: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, an HMAC-SHA256
of `"<t>.<raw body>"` keyed with the endpoint's whole `whsec_…` secret. Pure.

Checked here rather than with `stripe.WebhookSignature`: that reads the system clock, and the service
has one clock (injectable, so that a stale event can be tested); and it takes one secret, where a
rotation has several.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

TOLERANCE_SECONDS = 300
MAX_DIGITS = 12  # unix seconds until the year 33658: more is not a time


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def is_signed(header: str | None, body: bytes, secrets: Iterable[str], now: datetime) -> bool:
    """Some `v1` of the header signs `body` with one of `secrets`, at a time within 300 s of `now`."""
    if not header:
        return False
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or abs(now.timestamp() - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = [signature(secret, timestamp, body).encode() for secret in secrets if secret]
    return any(hmac.compare_digest(mine, theirs.encode()) for mine in expected for theirs in signatures)


def secrets_of(setting: str) -> list[str]:
    """STRIPE_WEBHOOK_SECRET: comma-separated, several during a rotation."""
    return [secret.strip() for secret in setting.split(",") if secret.strip()]
