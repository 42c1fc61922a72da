"""What happened to one message: sent, failed (with the provider's reason) or skipped.

The notifications package answers in these terms; the API's own schemas are built from them by the
features that report deliveries (so this package never imports a feature's schemas).
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.enums import DeliveryStatus


@dataclass(frozen=True)
class Delivery:
    status: DeliveryStatus
    reason: str | None = None
    provider_message_id: str | None = None
    # Failed before the provider could have accepted it (429, 5xx, no connection): safe to try again.
    retryable: bool = False

    @property
    def sent(self) -> bool:
        return self.status == DeliveryStatus.SENT


def sent(provider_message_id: str | None) -> Delivery:
    return Delivery(DeliveryStatus.SENT, provider_message_id=provider_message_id)


def failed(reason: str, *, retryable: bool = False) -> Delivery:
    return Delivery(DeliveryStatus.FAILED, reason=reason, retryable=retryable)


def skipped(reason: str) -> Delivery:
    return Delivery(DeliveryStatus.SKIPPED, reason=reason)
