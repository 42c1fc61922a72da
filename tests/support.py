"""Test helpers: settings, tokens and a thin client for the API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from booking.auth import mint_token
from booking.config import Settings

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
SERVICE_KEY = "test-service-role-key"
REMINDER_KEY = "test-reminder-key"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings with every value given, so that nothing leaks in from the environment or a .env."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "supabase_jwt_secret": SECRET,
        "supabase_service_role_key": SERVICE_KEY,
        "supabase_url": None,
        "resend_api_key": None,
        "resend_from_email": None,
        "twilio_account_sid": None,
        "twilio_auth_token": None,
        "twilio_from_number": None,
        "booking_reminder_api_key": REMINDER_KEY,
        "cors_origins": "",
        "stripe_secret_key": None,
        "stripe_webhook_secret": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SERVICE = bearer(SERVICE_KEY)


def user_headers(user_id: uuid.UUID, **claims: Any) -> dict[str, str]:
    return bearer(mint_token(SECRET, sub=str(user_id), **claims))


def new_user() -> tuple[uuid.UUID, dict[str, str]]:
    user_id = uuid.uuid4()
    return user_id, user_headers(user_id)


class Api:
    """The HTTP client plus set-up shortcuts that go through the API like any client would."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.app = app

    async def brand(self, slug: str = "acme", name: str = "Acme Coaching") -> dict[str, Any]:
        response = await self.client.post("/api/brands", json={"name": name, "slug": slug}, headers=SERVICE)
        assert response.status_code == 201, response.text
        brand: dict[str, Any] = response.json()["brand"]
        return brand

    async def admin_of(self, brand_id: str) -> tuple[uuid.UUID, dict[str, str]]:
        user_id, headers = new_user()
        response = await self.client.post(
            f"/api/brands/{brand_id}/admins", json={"user_id": str(user_id)}, headers=SERVICE
        )
        assert response.status_code == 201, response.text
        return user_id, headers

    async def instructor(
        self,
        brand_ids: list[str],
        *,
        timezone: str = "Europe/Berlin",
        user_id: uuid.UUID | None = None,
        name: str = "Ada Coach",
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "email": "ada@example.com",
            "phone": "+4915112345678",
            "timezone": timezone,
            "brand_ids": brand_ids,
        }
        if user_id is not None:
            body["user_id"] = str(user_id)
        response = await self.client.post("/api/instructors", json=body, headers=SERVICE)
        assert response.status_code == 201, response.text
        instructor: dict[str, Any] = response.json()["instructor"]
        return instructor
