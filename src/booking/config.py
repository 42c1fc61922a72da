"""Settings: one class, read from the environment and from a `.env` file (SPEC §2)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///booking.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    supabase_jwt_secret: str | None = None
    supabase_service_role_key: str | None = None
    supabase_url: str | None = None

    resend_api_key: str | None = None
    resend_from_email: str | None = None
    resend_api_url: str = "https://api.resend.com"

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"

    booking_reminder_api_key: str | None = None

    # Part two (SPEC §9 to §14).
    # Webhook and calendar URLs may be http:// and private addresses (development and tests only).
    allow_private_urls: bool = False
    # off (or false, 0): `booking serve` runs no background work; run `booking worker` instead.
    booking_worker: bool = True
    # off: the worker sends no reminders (the endpoint and `booking send-reminders` still do).
    auto_reminders: bool = True
    # The service's public origin, for the absolute URLs it hands out (calendar feeds); unset: the request's.
    public_base_url: str | None = None
    # How often the worker fetches each busy calendar again (SPEC §13).
    calendar_sync_minutes: int = Field(default=10, ge=1, le=1440)
    # The booking page (SPEC §14): where a visitor signs in, and the origins that may frame the page.
    sign_in_url: str | None = None
    embed_origins: str = ""
    # Online payment (Stripe); no secret key: bookings wait for staff to mark them paid.
    stripe_secret_key: str | None = None
    # The webhook endpoint's signing secrets (whsec_…), comma-separated: several during a rotation.
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    # Bearer token of GET /metrics; unset: /metrics is 404.
    metrics_token: str | None = None
    # The worker erases the student's personal details of bookings that ended this many days ago; unset: off.
    retention_days: int | None = Field(default=None, ge=1)

    # Operational knobs beyond SPEC §2, documented in the README.
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # How long a SQLite writer waits for the write lock before the request answers 503.
    sqlite_busy_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    cors_origins: str = ""
    log_level: str = "info"
    # Each provider call; all messages of one request go out in parallel, so this bounds the request too.
    notification_timeout_seconds: float = Field(default=4.0, gt=0, le=30)
    # Each call to Stripe (a checkout waits for it; refunds and expiries are the worker's).
    stripe_timeout_seconds: float = Field(default=10.0, gt=0, le=60)


def origin_list(value: str) -> list[str]:
    """A comma-separated list of origins (EMBED_ORIGINS), each without a trailing slash."""
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
