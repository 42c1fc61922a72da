"""What one process shares between requests: settings, database, clock, token verifier."""

from __future__ import annotations

from dataclasses import dataclass, field

from booking.auth import JwksCache, TokenVerifier
from booking.clock import Clock, SystemClock
from booking.config import Settings
from booking.db import Database, parse_database_url
from booking.notifications.notifier import Notifier
from booking.unit_of_work import UnitOfWork


@dataclass
class AppContext:
    settings: Settings
    db: Database
    verifier: TokenVerifier
    notifier: Notifier
    clock: Clock = field(default_factory=SystemClock)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock | None = None) -> AppContext:
        jwks = None
        if settings.supabase_url:
            jwks = JwksCache(settings.supabase_url.rstrip("/") + "/auth/v1/.well-known/jwks.json")
        verifier = TokenVerifier(
            jwt_secret=settings.supabase_jwt_secret,
            service_role_key=settings.supabase_service_role_key,
            jwks=jwks,
        )
        db = Database(
            parse_database_url(settings.database_url),
            pool_size=settings.db_pool_size,
            busy_timeout=settings.sqlite_busy_timeout_seconds,
        )
        return cls(
            settings=settings,
            db=db,
            verifier=verifier,
            notifier=Notifier.from_settings(settings),
            clock=clock or SystemClock(),
        )

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work for one write of this request, at this request's `now`."""
        return UnitOfWork(self.db, self.notifier, self.clock.now())

    async def aclose(self) -> None:
        await self.notifier.aclose()
        await self.db.dispose()
