"""`booking demo`: SQLite, a demo brand, two instructors in different timezones, ready-made tokens."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import uvicorn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.app import create_app
from booking.auth import mint_token
from booking.brands.repository import brand_by_slug
from booking.config import Settings
from booking.db import Database, parse_database_url
from booking.migrate import upgrade
from booking.models.availability import SchedulingSettings, WeeklyRule
from booking.models.brands import Brand, BrandAdmin
from booking.models.instructors import Instructor, InstructorBrand

DEMO_SLUG = "demo"
TOKEN_TTL_SECONDS = 7 * 24 * 3600
# Fixed ids, so that tokens printed by one run still fit the data after a restart.
ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-00000000ad01")
INSTRUCTOR_USER_ID = uuid.UUID("00000000-0000-4000-8000-00000000c001")
BRAND_ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-00000000ad02")
STUDENT_ID = uuid.UUID("00000000-0000-4000-8000-000000005001")

DEMO_CURRENCY = "eur"
DEMO_INSTRUCTORS = (
    # name, email, timezone, user id, weekdays (0=Sunday), start and end minute, price (cents; 0: free)
    (
        "Maya Keller",
        "maya@example.com",
        "Europe/Berlin",
        INSTRUCTOR_USER_ID,
        (1, 2, 3, 4, 5),
        9 * 60,
        17 * 60,
        6000,
    ),
    ("Sam Rivera", "sam@example.com", "America/New_York", None, (1, 2, 3, 4), 10 * 60, 18 * 60, 0),
)


async def seed(database_url: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Create the demo brand and instructors unless they exist; answers the brand's and Maya's ids."""
    db = Database(parse_database_url(database_url))
    try:
        async with db.transaction(write=True) as session:
            brand = await brand_by_slug(session, DEMO_SLUG)
            if brand is not None:
                return brand.id, await _maya(session)
            brand = Brand(slug=DEMO_SLUG, name="Demo Coaching", currency=DEMO_CURRENCY)
            session.add(brand)
            await session.flush()
            session.add(BrandAdmin(brand_id=brand.id, user_id=BRAND_ADMIN_ID))
            for name, email, timezone, user_id, weekdays, start, end, price in DEMO_INSTRUCTORS:
                instructor = Instructor(
                    name=name, email=email, timezone=timezone, user_id=user_id, active=True
                )
                session.add(instructor)
                await session.flush()
                session.add(InstructorBrand(instructor_id=instructor.id, brand_id=brand.id))
                await session.flush()
                session.add(
                    SchedulingSettings(instructor_id=instructor.id, brand_id=brand.id, price_amount=price)
                )
                session.add_all(
                    WeeklyRule(
                        instructor_id=instructor.id,
                        brand_id=brand.id,
                        weekday=weekday,
                        start_minute=start,
                        end_minute=end,
                    )
                    for weekday in weekdays
                )
            return brand.id, await _maya(session)
    finally:
        await db.dispose()


async def _maya(session: AsyncSession) -> uuid.UUID:
    maya = await session.scalar(select(Instructor.id).where(Instructor.user_id == INSTRUCTOR_USER_ID))
    assert maya is not None, "the demo data has its instructor"
    return maya


def _try_it(base: str, brand_id: uuid.UUID, instructor_id: uuid.UUID) -> str:
    """Two requests a newcomer can paste: the week's slots, and a booking of one of them."""
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    week = f"from={today}&to={today + timedelta(days=7)}"
    body = (
        f'{{"brand_id": "{brand_id}", "instructor_id": "{instructor_id}", '
        '"starts_at": "<a starts_at from the slots>", "student_timezone": "Europe/Berlin"}'
    )
    return f"""  Try it (TOKEN=<the student token>):
    curl '{base}/api/instructors/{instructor_id}/slots?brand_id={brand_id}&{week}'
    curl -X POST {base}/api/bookings -H "Authorization: Bearer $TOKEN" \\
      -H 'content-type: application/json' -d '{body}'
  Maya's sessions cost EUR 60.00 (Sam's are free). Without Stripe a booking waits for payment, held for
  30 minutes; staff mark it paid (ADMIN=<the brand admin token>):
    curl -X PATCH {base}/api/bookings/<its id> -H "Authorization: Bearer $ADMIN" \\
      -H 'content-type: application/json' -d '{{"payment_status": "paid"}}'"""


def run_demo(*, host: str, port: int) -> int:
    secret = os.environ.get("SUPABASE_JWT_SECRET") or Settings().supabase_jwt_secret
    if not secret:
        secret = secrets.token_urlsafe(32)
        os.environ["SUPABASE_JWT_SECRET"] = secret
        print("SUPABASE_JWT_SECRET is not set: the demo made one up for this run (tokens die with it).")
    settings = Settings()
    upgrade(settings.database_url)
    brand_id, maya_id = asyncio.run(seed(settings.database_url))

    def token(user_id: uuid.UUID, email: str, role: str = "authenticated") -> str:
        return mint_token(secret, sub=str(user_id), email=email, role=role, ttl_seconds=TOKEN_TTL_SECONDS)

    base = f"http://{host}:{port}"
    student_token = token(STUDENT_ID, "student@example.com")
    instructor_token = token(INSTRUCTOR_USER_ID, "maya@example.com")
    brand_admin_token = token(BRAND_ADMIN_ID, "brand-admin@example.com")
    print(
        f"""
Booking page: {base}/book/{DEMO_SLUG}   (open it in a browser; "Continue as demo student" to book)
Coach console: {base}/console/{DEMO_SLUG}   ("Continue as demo instructor" or "... as demo brand admin")

Booking service demo on {settings.database_url}
  Interactive docs: {base}/docs   (press Authorize and paste a token)
  Demo brand id:    {brand_id}

  Admin token (service role, every brand, creates brands):
    {token(ADMIN_ID, "admin@example.com", role="service_role")}
  Brand admin token (admin of the demo brand only):
    {brand_admin_token}
  Instructor token (Maya Keller, Europe/Berlin):
    {instructor_token}
  Student token:
    {student_token}

{_try_it(base, brand_id, maya_id)}
"""
    )
    app = create_app(settings)
    # Only the demo offers a ready-made student on its booking page.
    app.state.demo_student_token = student_token
    # And ready-made instructor (Maya) and brand admin on its coach console.
    app.state.demo_console_tokens = {"instructor": instructor_token, "brand_admin": brand_admin_token}
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level)
    return 0
