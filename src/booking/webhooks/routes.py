from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from booking.deps import Context, CurrentPrincipal
from booking.errors import NotFound, ValidationFailed
from booking.openapi import errors
from booking.webhooks import service
from booking.webhooks.schemas import (
    DeliveryEnvelope,
    DeliveryList,
    DeliveryOut,
    WebhookCreate,
    WebhookCreatedEnvelope,
    WebhookCreatedOut,
    WebhookEnvelope,
    WebhookList,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(prefix="/api/brands/{brand_id}/webhooks", tags=["webhooks"])

MAX_DELIVERIES = 200
DEFAULT_DELIVERIES = 50


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreatedEnvelope,
    responses=errors(NotFound, ValidationFailed),
)
async def create_webhook(
    brand_id: UUID, body: WebhookCreate, ctx: Context, principal: CurrentPrincipal
) -> WebhookCreatedEnvelope:
    """A new endpoint. Its `secret` signs every delivery and is shown only in this answer."""
    endpoint = await service.create_endpoint(
        ctx.db,
        principal,
        brand_id,
        body,
        allow_private=ctx.settings.allow_private_urls,
        now=ctx.clock.now(),
    )
    return WebhookCreatedEnvelope(webhook=WebhookCreatedOut.of(endpoint))


@router.get("", response_model=WebhookList, responses=errors(NotFound))
async def list_webhooks(brand_id: UUID, ctx: Context, principal: CurrentPrincipal) -> WebhookList:
    async with ctx.db.transaction(write=False) as session:
        endpoints = await service.list_endpoints(session, principal, brand_id)
        return WebhookList(webhooks=[WebhookOut.of(endpoint) for endpoint in endpoints])


@router.patch("/{webhook_id}", response_model=WebhookEnvelope, responses=errors(NotFound, ValidationFailed))
async def update_webhook(
    brand_id: UUID, webhook_id: UUID, body: WebhookUpdate, ctx: Context, principal: CurrentPrincipal
) -> WebhookEnvelope:
    endpoint = await service.update_endpoint(
        ctx.db,
        principal,
        brand_id,
        webhook_id,
        body,
        allow_private=ctx.settings.allow_private_urls,
        now=ctx.clock.now(),
    )
    return WebhookEnvelope(webhook=WebhookOut.of(endpoint))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(NotFound))
async def delete_webhook(
    brand_id: UUID, webhook_id: UUID, ctx: Context, principal: CurrentPrincipal
) -> Response:
    """The endpoint and its deliveries: nothing more is delivered to it."""
    async with ctx.db.transaction(write=True) as session:
        await service.delete_endpoint(session, principal, brand_id, webhook_id, ctx.clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList, responses=errors(NotFound))
async def list_deliveries(
    brand_id: UUID,
    webhook_id: UUID,
    ctx: Context,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=MAX_DELIVERIES)] = DEFAULT_DELIVERIES,
) -> DeliveryList:
    """The endpoint's deliveries, newest first."""
    async with ctx.db.transaction(write=False) as session:
        deliveries = await service.list_deliveries(session, principal, brand_id, webhook_id, limit)
        return DeliveryList(deliveries=[DeliveryOut.of(delivery) for delivery in deliveries])


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryEnvelope,
    responses=errors(NotFound),
)
async def retry_delivery(
    brand_id: UUID,
    webhook_id: UUID,
    delivery_id: Annotated[str, Path(max_length=40)],
    ctx: Context,
    principal: CurrentPrincipal,
) -> DeliveryEnvelope:
    """Attempt again now, also after `failed` (the worker makes the attempt within seconds)."""
    async with ctx.db.transaction(write=True) as session:
        delivery = await service.retry_delivery(
            session, principal, brand_id, webhook_id, delivery_id, ctx.clock.now()
        )
    return DeliveryEnvelope(delivery=DeliveryOut.of(delivery))
