from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from booking.enums import EventType, WebhookDeliveryStatus
from booking.models.webhooks import WebhookDelivery, WebhookEndpoint
from booking.outbound import MAX_URL_LENGTH
from booking.types import check_note

ALL_EVENTS = "*"
EVENT_NAMES = (*(event.value for event in EventType), ALL_EVENTS)
MAX_EVENTS = len(EVENT_NAMES)


def check_event_name(name: str) -> str:
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event type {name!r}: use one of {', '.join(EVENT_NAMES)}")
    return name


def unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


URL_SCHEMA: dict[str, Any] = {
    "type": "string",
    "maxLength": MAX_URL_LENGTH,
    "description": "an absolute https:// URL of a public host (http:// and private addresses only with "
    "ALLOW_PRIVATE_URLS)",
}
EVENTS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {"type": "string", "enum": list(EVENT_NAMES)},
    "minItems": 1,
    "maxItems": MAX_EVENTS,
    "description": 'event types, or "*" for every type',
}

# The URL rules (scheme, length, addresses) are booking.outbound's, applied by the service.
Url = Annotated[str, WithJsonSchema(URL_SCHEMA)]
# Names checked by hand: pydantic's own message for an enum-or-literal union is two errors.
EventList = Annotated[
    list[Annotated[str, AfterValidator(check_event_name)]],
    Field(min_length=1, max_length=MAX_EVENTS),
    AfterValidator(unique),
    WithJsonSchema(EVENTS_SCHEMA),
]
Description = Annotated[str, StringConstraints(max_length=1000), AfterValidator(check_note)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    events: EventList
    description: Description | None = None


NOT_NULLABLE = ("url", "events", "enabled")


def _no_null_defaults(schema: dict[str, Any]) -> None:
    for name in NOT_NULLABLE:
        schema["properties"][name].pop("default", None)


class WebhookUpdate(BaseModel):
    """Only the fields sent change; `description: null` clears it, the others may not be null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null_defaults)
    # The documented types are not nullable: None here only means "not sent".
    url: Annotated[Url | None, WithJsonSchema(URL_SCHEMA)] = None
    events: Annotated[EventList | None, WithJsonSchema(EVENTS_SCHEMA)] = None
    enabled: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None
    description: Description | None = None

    @field_validator(*NOT_NULLABLE, mode="before")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class WebhookOut(BaseModel):
    id: UUID
    brand_id: UUID
    url: str
    events: list[str]
    enabled: bool
    description: str | None
    created_at: datetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            brand_id=endpoint.brand_id,
            url=endpoint.url,
            events=json.loads(endpoint.events),
            enabled=endpoint.enabled,
            description=endpoint.description,
            created_at=endpoint.created_at,
        )


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="whsec_ + base64 of 32 bytes; shown only in this answer")

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookCreatedOut:
        return cls(**WebhookOut.of(endpoint).model_dump(), secret=endpoint.secret)


class WebhookEnvelope(BaseModel):
    webhook: WebhookOut


class WebhookCreatedEnvelope(BaseModel):
    webhook: WebhookCreatedOut


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    event_type: EventType
    booking_id: UUID | None
    status: WebhookDeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        return cls.model_validate(delivery)


class DeliveryEnvelope(BaseModel):
    delivery: DeliveryOut


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]
