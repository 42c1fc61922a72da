"""Packages and passes (SPEC §17): selling a package, activating the pass it becomes, reading both.

A pass keeps the package's terms as they were when it was sold (sessions, validity, instructors,
price). It is usable once paid: at once when free, when staff mark it paid, or when Stripe reports its
checkout paid. Activated on brand-local date A, it covers sessions starting before the start of
brand-local date A + valid_days. Spending it is the bookings room's (rule 8).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, require_authenticated
from booking.audit import Watched, watch_table
from booking.auth import Principal
from booking.bookings.errors import InvalidTransition
from booking.bookings.passes import shown_status
from booking.bookings.render import Answer
from booking.bookings.schemas import Payment, Price
from booking.bookings.service import idempotent_write
from booking.brands.repository import brand_by_id
from booking.enums import EventType, PassStatus, PaymentProvider, PaymentStatus
from booking.errors import Conflict, Forbidden, NotFound, field_error
from booking.events import Events
from booking.models.brands import Brand
from booking.models.packages import Package, Pass
from booking.packages import repository
from booking.packages.schemas import (
    PackageCreate,
    PackageOut,
    PackageUpdate,
    PassCreate,
    PassOut,
    PassUpdate,
)
from booking.unit_of_work import UnitOfWork

# --- packages -------------------------------------------------------------------------------------


def package_out(package: Package, currency: str) -> PackageOut:
    return PackageOut(
        id=package.id,
        brand_id=package.brand_id,
        name=package.name,
        sessions=package.sessions,
        valid_days=package.valid_days,
        price=Price(amount=package.price_amount, currency=currency),
        instructor_ids=None if package.instructor_ids is None else json.loads(package.instructor_ids),
        active=package.active,
        created_at=package.created_at,
    )


async def staff_brand(session: AsyncSession, principal: Principal, brand_id: UUID) -> Brand:
    """The brand, for its service and admins; 404 for anyone else (as webhooks: nothing is leaked)."""
    require_authenticated(principal)
    brand = await brand_by_id(session, brand_id)
    if brand is None or not await is_brand_admin(session, principal, brand_id):
        raise NotFound("brand not found")
    return brand


async def create_package(
    work: UnitOfWork, principal: Principal, brand_id: UUID, data: PackageCreate
) -> PackageOut:
    async def change(work: UnitOfWork) -> PackageOut:
        brand = await staff_brand(work.session, principal, brand_id)
        ids = await _instructors_of_brand(work.session, brand_id, data.instructor_ids)
        package = Package(
            id=uuid4(),
            brand_id=brand_id,
            name=data.name,
            sessions=data.sessions,
            valid_days=data.valid_days,
            price_amount=data.price_amount,
            instructor_ids=ids,
            active=True,
            created_at=work.now,
            updated_at=work.now,
        )
        work.session.add(package)
        await work.session.flush()
        return package_out(package, brand.currency)

    return await work.run(change)


async def _instructors_of_brand(session: AsyncSession, brand_id: UUID, ids: list[UUID] | None) -> str | None:
    """The JSON of the package's instructors, each one of the brand's (422 naming those that are not)."""
    if ids is None:
        return None
    unique = list(dict.fromkeys(ids))
    linked = await repository.linked_instructor_ids(session, brand_id, unique)
    strangers = [str(instructor) for instructor in unique if instructor not in linked]
    if strangers:
        raise field_error(f"not instructors of this brand: {', '.join(strangers)}", "body", "instructor_ids")
    return json.dumps([str(instructor) for instructor in unique])


async def list_packages(session: AsyncSession, principal: Principal, brand_id: UUID) -> list[PackageOut]:
    """Anyone sees the packages on sale; the brand's staff see all of them."""
    brand = await brand_by_id(session, brand_id)
    if brand is None:
        raise NotFound("brand not found")
    staff = principal.is_authenticated and await is_brand_admin(session, principal, brand_id)
    packages = await repository.packages_of_brand(session, brand_id, active_only=not staff)
    return [package_out(package, brand.currency) for package in packages]


async def update_package(
    work: UnitOfWork, principal: Principal, brand_id: UUID, package_id: UUID, data: PackageUpdate
) -> PackageOut:
    async def change(work: UnitOfWork) -> PackageOut:
        brand = await staff_brand(work.session, principal, brand_id)
        package = await repository.package_in_brand(work.session, brand_id, package_id, for_update=True)
        if package is None:
            raise NotFound("package not found")
        for name, value in data.model_dump(exclude_unset=True).items():
            setattr(package, name, value)
        package.updated_at = work.now
        await work.session.flush()
        return package_out(package, brand.currency)

    return await work.run(change)


# --- passes ---------------------------------------------------------------------------------------


def pass_out(found: Pass, now: datetime) -> PassOut:
    return PassOut(
        id=found.id,
        package_id=found.package_id,
        brand_id=found.brand_id,
        student_id=found.student_id,
        name=found.name,
        sessions_total=found.sessions_total,
        sessions_left=found.sessions_left,
        status=shown_status(found, now),
        valid_until=found.valid_until,
        price=Price(amount=found.price_amount, currency=found.price_currency),
        payment=Payment(
            provider=found.payment_provider,
            amount_paid=found.amount_paid,
            amount_refunded=found.amount_refunded,
            refund_status=found.refund_status,
        ),
        created_at=found.created_at,
        activated_at=found.activated_at,
    )


def valid_until(activated_at: datetime, valid_days: int, zone: str) -> datetime:
    """The start of brand-local date A + valid_days, A being the brand-local date of activation (a
    midnight that a clock change skips is the first instant of that day, as zoneinfo maps it)."""
    local_zone = ZoneInfo(zone)
    day = activated_at.astimezone(local_zone).date() + timedelta(days=valid_days)
    return datetime.combine(day, time(0), tzinfo=local_zone).astimezone(UTC)


async def activate(
    work: UnitOfWork, found: Pass, provider: PaymentProvider | None, amount: int, intent: str | None = None
) -> None:
    """A pending pass paid (or free): active from now, `pass.activated` emitted."""
    brand = await brand_by_id(work.session, found.brand_id)
    found.status = PassStatus.ACTIVE
    found.activated_at = work.now
    found.valid_until = valid_until(work.now, found.valid_days, brand.timezone if brand else "UTC")
    found.payment_provider = provider
    found.amount_paid = amount
    found.payment_intent = intent
    found.updated_at = work.now
    await work.session.flush()
    data = {"pass": pass_out(found, work.now).model_dump(mode="json")}
    work.effect(Events).emit(EventType.PASS_ACTIVATED, brand_id=found.brand_id, booking_id=None, data=data)


@dataclass(frozen=True)
class PassWritten:
    """A new pass as its write left it (no message goes with it)."""

    found: Pass
    now: datetime
    messages: None = None

    def body(self, notifications: Any = None) -> dict[str, Any]:
        return {"pass": pass_out(self.found, self.now).model_dump(mode="json")}


async def buy_pass(work: UnitOfWork, principal: Principal, data: PassCreate, key: str | None) -> Answer:
    """POST /api/passes: a pass of an active package, for the caller (or, by staff, for `student_id`)."""
    require_authenticated(principal)
    request = {"pass": data.model_dump(mode="json")}
    return await idempotent_write(
        work, principal, key, request, 201, lambda w: create_pass(w, principal, data)
    )


async def create_pass(work: UnitOfWork, principal: Principal, data: PassCreate) -> PassWritten:
    session = work.session
    package = await repository.package_by_id(session, data.package_id)
    if package is None:
        raise NotFound("package not found")
    staff = await is_brand_admin(session, principal, package.brand_id)
    if data.student_id is not None and not staff:
        raise Forbidden("only the service or a brand admin may buy a pass for a student")
    if not package.active and not staff:
        raise NotFound("package not found")
    if not package.active:
        raise Conflict("the package is not on sale (inactive)")
    student_id = data.student_id or principal.user_id
    if student_id is None:
        raise field_error("student_id is required when the service buys", "body", "student_id")
    brand = await brand_by_id(session, package.brand_id)
    assert brand is not None  # the package's foreign key
    found = Pass(
        id=uuid4(),
        package_id=package.id,
        brand_id=package.brand_id,
        student_id=student_id,
        name=package.name,
        sessions_total=package.sessions,
        sessions_left=package.sessions,
        valid_days=package.valid_days,
        instructor_ids=package.instructor_ids,
        status=PassStatus.PENDING,
        price_amount=package.price_amount,
        price_currency=brand.currency,
        amount_paid=0,
        amount_refunded=0,
        created_by=principal.actor,
        created_at=work.now,
        updated_at=work.now,
    )
    session.add(found)
    await session.flush()
    if package.price_amount == 0:
        await activate(work, found, None, 0)
    return PassWritten(found, work.now)


async def visible_pass(
    session: AsyncSession, principal: Principal, pass_id: UUID, *, for_update: bool = False
) -> tuple[Pass, bool]:
    """The pass and whether the caller is its brand's staff; 404 for anyone but them and its student."""
    require_authenticated(principal)
    found = await repository.pass_by_id(session, pass_id, for_update=for_update)
    if found is None:
        raise NotFound("pass not found")
    if await is_brand_admin(session, principal, found.brand_id):
        return found, True
    if principal.user_id is not None and principal.user_id == found.student_id:
        return found, False
    raise NotFound("pass not found")


async def list_passes(
    session: AsyncSession, principal: Principal, brand_id: UUID | None, student_id: UUID | None, now: datetime
) -> list[PassOut]:
    """A student's own passes; a brand's (or one of its students') for its staff."""
    require_authenticated(principal)
    if brand_id is not None and await is_brand_admin(session, principal, brand_id):
        return [pass_out(found, now) for found in await repository.passes_of(session, brand_id, student_id)]
    if principal.user_id is None:
        raise field_error("brand_id is required when the service lists passes", "query", "brand_id")
    if student_id is not None and student_id != principal.user_id:
        raise Forbidden("a student lists only their own passes")
    return [
        pass_out(found, now) for found in await repository.passes_of(session, brand_id, principal.user_id)
    ]


async def read_pass(session: AsyncSession, principal: Principal, pass_id: UUID, now: datetime) -> PassOut:
    found, _ = await visible_pass(session, principal, pass_id)
    return pass_out(found, now)


async def update_pass(work: UnitOfWork, principal: Principal, pass_id: UUID, data: PassUpdate) -> PassOut:
    """Staff: mark a pending pass paid (it activates), or cancel a pass (it can no longer be spent)."""

    async def change(work: UnitOfWork) -> PassOut:
        found, staff = await visible_pass(work.session, principal, pass_id, for_update=True)
        if not staff:
            raise Forbidden("only the service or a brand admin may change a pass")
        if data.payment_status == PaymentStatus.PAID and found.status == PassStatus.PENDING:
            await activate(work, found, PaymentProvider.MANUAL, found.price_amount)
        elif data.payment_status == PaymentStatus.PAID and found.status == PassStatus.CANCELLED:
            raise InvalidTransition("a cancelled pass cannot be paid")
        if data.status is not None and found.status != PassStatus.CANCELLED:
            found.status = PassStatus.CANCELLED
            found.updated_at = work.now
        await work.session.flush()
        return pass_out(found, work.now)

    return await work.run(change)


# Packages and passes as the ORM changes them go to their brand's audit log (a pass's sessions taken
# or given back by a booking are recorded where that happens).
PACKAGE_FIELDS = ("name", "sessions", "valid_days", "price_amount", "instructor_ids", "active")
PASS_FIELDS = ("status", "sessions_left", "valid_until", "payment_provider", "amount_paid", "amount_refunded")
watch_table(Package, Watched("package", PACKAGE_FIELDS, json_fields=("instructor_ids",)))
watch_table(Pass, Watched("pass", PASS_FIELDS, student="student_id"))
