"""The configured providers of one process, and sending messages through them.

Every send is bounded by a timeout and turned into a Delivery: nothing here raises into a booking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import httpx

from booking import metrics
from booking.config import Settings
from booking.enums import Audience, Channel
from booking.notifications.providers import Email, EmailSender, ResendEmail, Sms, SmsSender, TwilioSms
from booking.notifications.results import Delivery, failed, skipped

log = logging.getLogger(__name__)

TIMEOUT_MARGIN_SECONDS = 0.5
NO_EMAIL = "no_email: no address for the recipient"
NO_PHONE = "no_phone: no phone number for the student"


class Notifier:
    """Email and SMS senders (either may be missing) sharing one HTTP connection pool."""

    def __init__(
        self,
        *,
        email: EmailSender | None,
        sms: SmsSender | None,
        timeout: float,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.email = email
        self.sms = sms
        self.timeout = timeout
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        timeout = settings.notification_timeout_seconds
        client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)
        email = sms = None
        if settings.resend_api_key and settings.resend_from_email:
            email = ResendEmail(
                client,
                api_key=settings.resend_api_key,
                sender=settings.resend_from_email,
                base_url=settings.resend_api_url,
            )
        if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
            sms = TwilioSms(
                client,
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                sender=settings.twilio_from_number,
                base_url=settings.twilio_api_base_url,
            )
        return cls(email=email, sms=sms, timeout=timeout, client=client)

    @property
    def configured(self) -> bool:
        return self.email is not None or self.sms is not None

    async def aclose(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def bounded(self, provider: str, call: Awaitable[Delivery]) -> Delivery:
        started = time.perf_counter()
        outcome = "error"
        try:
            async with asyncio.timeout(self.timeout + TIMEOUT_MARGIN_SECONDS):
                delivery = await call
            outcome = "sent" if delivery.sent else "failed"
            return delivery
        except TimeoutError:
            outcome = "timeout"
            return failed(f"{provider}_timeout: no answer in time")
        except Exception as exc:  # a bug must not cost a booking; it is logged and reported
            log.exception("%s call failed unexpectedly", provider)
            return failed(f"{provider}_error: {type(exc).__name__}")
        finally:
            metrics.provider_call(provider, outcome, time.perf_counter() - started)

    def email_to(
        self,
        booking_id: UUID,
        kind: str,
        recipient: str | None,
        compose: Callable[[], Email],
        audience: Audience = Audience.STUDENT,
    ) -> Outgoing:
        """An email to send, or already skipped when it cannot be: no provider (said first: without one,
        the recipient's address is not even read), or no address."""
        unsendable = "resend_not_configured" if self.email is None else NO_EMAIL if not recipient else None
        return _outgoing(booking_id, Channel.EMAIL, kind, recipient, unsendable, compose, audience)

    def sms_to(
        self, booking_id: UUID, kind: str, recipient: str | None, compose: Callable[[], Sms]
    ) -> Outgoing:
        """An SMS to send, or already skipped when it cannot be: no provider (said first), or no phone."""
        unsendable = "twilio_not_configured" if self.sms is None else NO_PHONE if not recipient else None
        return _outgoing(booking_id, Channel.SMS, kind, recipient, unsendable, compose, Audience.STUDENT)

    async def deliver(self, outgoing: Sequence[Outgoing]) -> None:
        """Send every message still waiting, in parallel, and note each outcome."""

        async def send(item: Outgoing) -> None:
            if isinstance(item.message, Email) and self.email is not None:
                item.result = await self.bounded(self.email.name, self.email.send(item.message))
            elif isinstance(item.message, Sms) and self.sms is not None:
                item.result = await self.bounded(self.sms.name, self.sms.send(item.message))

        await asyncio.gather(*(send(item) for item in outgoing if item.result is None))


def _outgoing(
    booking_id: UUID,
    channel: Channel,
    kind: str,
    recipient: str | None,
    unsendable: str | None,
    compose: Callable[[], Email | Sms],
    audience: Audience,
) -> Outgoing:
    # A message that cannot go out is not even composed.
    if unsendable is not None:
        return Outgoing(booking_id, channel, kind, recipient or None, audience, result=skipped(unsendable))
    return Outgoing(booking_id, channel, kind, recipient, audience, message=compose())


@dataclass
class Outgoing:
    """One message about one booking: decided already (`result` set) or waiting (`message` set)."""

    booking_id: UUID
    channel: Channel
    kind: str
    recipient: str | None
    audience: Audience
    message: Email | Sms | None = None
    result: Delivery | None = None
    id: UUID = field(default_factory=uuid4)  # its outbox row, while it waits
    attempt: int = 1  # which attempt at sending it this is
    fallback_of: UUID | None = None  # the text this email stands in for: held until that text fails
    change_id: UUID | None = None  # the change that caused it, once it is in the outbox

    @property
    def waiting(self) -> bool:
        return self.result is None

    @property
    def outcome(self) -> Delivery:
        assert self.result is not None, "deliver() first"
        return self.result
