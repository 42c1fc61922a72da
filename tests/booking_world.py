"""A ready brand with an instructor and a student, for booking tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from booking.context import AppContext
from tests.support import SERVICE, Api, new_user, user_headers

MONDAY = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
MON_FRI_9_TO_17 = [{"weekday": d, "start_time": "09:00", "end_time": "17:00"} for d in range(1, 6)]


@dataclass
class World:
    api: Api
    brand: dict[str, Any]
    instructor: dict[str, Any]
    instructor_headers: dict[str, str]
    admin_headers: dict[str, str]
    student_id: uuid.UUID
    student_headers: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    def body(self, starts_at: str, **extra: Any) -> dict[str, Any]:
        return {
            "brand_id": self.brand["id"],
            "instructor_id": self.instructor["id"],
            "starts_at": starts_at,
            "student_timezone": "America/New_York",
        } | extra

    async def book(
        self, starts_at: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> httpx.Response:
        return await self.client.post(
            "/api/bookings", json=self.body(starts_at, **extra), headers=headers or self.student_headers
        )

    async def booked(self, starts_at: str, **extra: Any) -> dict[str, Any]:
        response = await self.book(starts_at, **extra)
        assert response.status_code == 201, response.text
        booking: dict[str, Any] = response.json()["booking"]
        return booking

    async def patch(self, booking_id: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return await self.client.patch(f"/api/bookings/{booking_id}", json=body, headers=headers)

    async def all_bookings(self) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/api/bookings", params={"brand_id": self.brand["id"]}, headers=SERVICE
        )
        assert response.status_code == 200
        bookings: list[dict[str, Any]] = response.json()["bookings"]
        return bookings

    async def set_brand_settings(self, **settings: Any) -> None:
        url = f"/api/brands/{self.brand['id']}"
        response = await self.client.patch(url, json={"settings": settings}, headers=SERVICE)
        assert response.status_code == 200, response.text

    async def set_availability(self, **body: Any) -> None:
        url = f"/api/instructors/{self.instructor['id']}/availability"
        response = await self.client.put(url, json={"brand_id": self.brand["id"]} | body, headers=SERVICE)
        assert response.status_code == 200, response.text


def context_of(world: World) -> AppContext:
    context: AppContext = world.api.app.state.context
    return context


async def make_world(api: Api, timezone: str = "Europe/Berlin") -> World:
    brand = await api.brand()
    instructor_user, instructor_headers = new_user()
    instructor = await api.instructor([brand["id"]], user_id=instructor_user, timezone=timezone)
    _, admin_headers = await api.admin_of(brand["id"])
    student_id = uuid.uuid4()
    student_headers = user_headers(student_id, email="student@example.com", phone="+15551234567")
    world = World(api, brand, instructor, instructor_headers, admin_headers, student_id, student_headers)
    await world.set_availability(weekly=MON_FRI_9_TO_17)
    return world
