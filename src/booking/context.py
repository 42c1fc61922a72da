"""What one process shares between requests: settings, database, clock, token verifier, the worker.

The worker's jobs are handed in (`booking.jobs` in the app and the `booking worker` command): the
context, like the worker, knows no feature's background work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from booking.audit import SYSTEM, actor_of
from booking.auth import JwksCache, Principal, TokenVerifier
from booking.bookings.messages import unit_of_work
from booking.clock import Clock, SystemClock
from booking.config import Settings
from booking.db import Database, parse_database_url
from booking.notifications.notifier import Notifier
from booking.outbound import OutboundClient
from booking.payments.providers import PaymentProvider, StripeProvider
from booking.unit_of_work import UnitOfWork
from booking.worker import Job, Worker

# The worker's jobs for one context (the context carries the database, the providers and the settings).
JobList = Callable[["AppContext"], Sequence[Job]]


def no_jobs(_: AppContext) -> Sequence[Job]:
    return ()


def payment_provider(settings: Settings) -> PaymentProvider | None:
    if not settings.stripe_secret_key:
        return None
    return StripeProvider(
        settings.stripe_secret_key, settings.stripe_api_base, settings.stripe_timeout_seconds
    )


@dataclass
class AppContext:
    settings: Settings
    db: Database
    verifier: TokenVerifier
    notifier: Notifier
    outbound: OutboundClient
    clock: Clock = field(default_factory=SystemClock)
    jobs: JobList = no_jobs
    payments: PaymentProvider | None = None  # Stripe, when STRIPE_SECRET_KEY is set
    worker: Worker = field(init=False)

    def __post_init__(self) -> None:
        self.worker = Worker(self.db, self.clock, self.jobs(self))

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Clock | None = None, jobs: JobList = no_jobs
    ) -> AppContext:
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
            outbound=OutboundClient(allow_private=settings.allow_private_urls),
            clock=clock or SystemClock(),
            jobs=jobs,
            payments=payment_provider(settings),
        )

    def unit_of_work(self, principal: Principal | None = None) -> UnitOfWork:
        """A unit of work for one write of this request, at this request's `now`, audited as the
        caller's (none: the system's, as a provider's webhook); its events wake this process's worker,
        so that deliveries start at once."""
        actor = SYSTEM if principal is None else actor_of(principal)
        return unit_of_work(self.db, self.notifier, self.clock.now(), self.worker.wake, actor)

    @asynccontextmanager
    async def background_worker(self) -> AsyncIterator[None]:
        """The worker loop beside the server, unless BOOKING_WORKER=off; stopped after the last request."""
        if not self.settings.booking_worker:
            yield
            return
        stop = asyncio.Event()
        loop = asyncio.create_task(self.worker.run(stop), name="booking-worker")
        try:
            yield
        finally:
            stop.set()
            await loop

    async def aclose(self) -> None:
        if self.payments is not None:
            await self.payments.aclose()
        await self.notifier.aclose()
        await self.outbound.aclose()
        await self.db.dispose()
