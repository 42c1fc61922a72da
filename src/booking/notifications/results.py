"""What the API says about one message: sent, failed (with the provider's reason) or skipped."""

from __future__ import annotations

from booking.bookings.schemas import ChannelResult, NotificationsOut


def sent(provider_message_id: str | None) -> ChannelResult:
    return ChannelResult(status="sent", provider_message_id=provider_message_id)


def failed(reason: str) -> ChannelResult:
    return ChannelResult(status="failed", reason=reason)


def skipped(reason: str) -> ChannelResult:
    return ChannelResult(status="skipped", reason=reason)


def pending_notifications() -> NotificationsOut:
    """Stored with an idempotent answer until the messages have gone out (they follow the commit)."""
    reason = "not sent yet: the booking was just committed"
    return NotificationsOut(email=skipped(reason), sms=skipped(reason), sms_blocker=reason)
