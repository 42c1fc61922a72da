"""Webhook endpoints of a brand and their deliveries (SPEC §12): the rules of the API.

Only the service and the brand's admins see a brand's webhooks; anyone else gets `404`, as if the brand
had none (SPEC §3: existence is not leaked).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, require_authenticated
from booking.audit import Watched, audited, entry_of, watch_table, write_entries
from booking.auth import Principal
from booking.brands.repository import brand_by_id
from booking.db import Database
from booking.enums import WebhookDeliveryStatus
from booking.errors import NotFound
from booking.models.webhooks import WebhookDelivery, WebhookEndpoint
from booking.outbound import check_saved_url
from booking.webhooks import repository
from booking.webhooks.schemas import WebhookCreate, WebhookUpdate

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


async def _require_brand(session: AsyncSession, principal: Principal, brand_id: UUID) -> None:
    require_authenticated(principal)
    if not await is_brand_admin(session, principal, brand_id) or await brand_by_id(session, brand_id) is None:
        raise NotFound("brand not found")


async def _endpoint(
    session: AsyncSession, principal: Principal, brand_id: UUID, endpoint_id: UUID
) -> WebhookEndpoint:
    await _require_brand(session, principal, brand_id)
    endpoint = await repository.endpoint_in_brand(session, brand_id, endpoint_id)
    if endpoint is None:
        raise NotFound("webhook not found")
    return endpoint


# Creating and changing an endpoint own their transactions: the URL is checked between the access
# check and the write. Without ALLOW_PRIVATE_URLS that resolves the host, which must neither hold
# SQLite's write lock nor be done for (and its answer told to) callers who may not see the brand.


async def create_endpoint(
    db: Database,
    principal: Principal,
    brand_id: UUID,
    data: WebhookCreate,
    *,
    allow_private: bool,
    now: datetime,
) -> WebhookEndpoint:
    """A new enabled endpoint with a new secret."""
    async with db.transaction(write=False) as session:
        await _require_brand(session, principal, brand_id)
    url = await check_saved_url(data.url, "body", "url", allow_private=allow_private)
    async with db.transaction(write=True) as session, audited(session, principal, now):
        await _require_brand(session, principal, brand_id)
        endpoint = WebhookEndpoint(
            brand_id=brand_id,
            url=url,
            events=json.dumps(data.events),
            enabled=True,
            description=data.description,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
        session.add(endpoint)
        await session.flush()
    return endpoint


async def list_endpoints(
    session: AsyncSession, principal: Principal, brand_id: UUID
) -> Sequence[WebhookEndpoint]:
    await _require_brand(session, principal, brand_id)
    return await repository.endpoints_of_brand(session, brand_id)


async def update_endpoint(
    db: Database,
    principal: Principal,
    brand_id: UUID,
    endpoint_id: UUID,
    data: WebhookUpdate,
    *,
    allow_private: bool,
    now: datetime,
) -> WebhookEndpoint:
    """Changes the fields sent. Enabling an endpoint lets its pending deliveries go out on their schedule
    (those already due at once)."""
    url = data.url
    if url is not None:
        async with db.transaction(write=False) as session:
            await _endpoint(session, principal, brand_id, endpoint_id)
        url = await check_saved_url(url, "body", "url", allow_private=allow_private)
    async with db.transaction(write=True) as session, audited(session, principal, now):
        endpoint = await _endpoint(session, principal, brand_id, endpoint_id)
        if url is not None:
            endpoint.url = url
        if data.events is not None:
            endpoint.events = json.dumps(data.events)
        if data.enabled is not None:
            endpoint.enabled = data.enabled
        if "description" in data.model_fields_set:
            endpoint.description = data.description
        endpoint.updated_at = now
        await session.flush()
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, brand_id: UUID, endpoint_id: UUID, now: datetime
) -> None:
    """Gone with its deliveries: nothing more is sent to it (an attempt under way still finishes)."""
    endpoint = await _endpoint(session, principal, brand_id, endpoint_id)
    before = {
        "url": endpoint.url,
        "events": json.loads(endpoint.events),
        "enabled": endpoint.enabled,
        "description": endpoint.description,
    }
    await repository.delete_endpoint(session, endpoint.id)
    entry = entry_of(principal, brand_id, "webhook.deleted", ("webhook", endpoint.id), before, {})
    await write_entries(session, [entry] if entry else [], now)


async def list_deliveries(
    session: AsyncSession, principal: Principal, brand_id: UUID, endpoint_id: UUID, limit: int
) -> Sequence[WebhookDelivery]:
    endpoint = await _endpoint(session, principal, brand_id, endpoint_id)
    return await repository.deliveries_of(session, endpoint.id, limit)


async def retry_delivery(
    session: AsyncSession,
    principal: Principal,
    brand_id: UUID,
    endpoint_id: UUID,
    delivery_id: str,
    now: datetime,
) -> WebhookDelivery:
    """Due again now, whatever its status: a `failed` one gets one more attempt, a delivered one is sent
    again. A lease held by an attempt under way is left alone, so the two never overlap."""
    endpoint = await _endpoint(session, principal, brand_id, endpoint_id)
    delivery = await repository.delivery_of(session, endpoint.id, delivery_id)
    if delivery is None:
        raise NotFound("delivery not found")
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.next_attempt_at = now
    await session.flush()
    return delivery


# Every change of an endpoint (never its secret) goes to its brand's audit log.
watch_table(
    WebhookEndpoint,
    Watched("webhook", ("url", "events", "enabled", "description"), json_fields=("events",)),
)
