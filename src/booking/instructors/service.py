"""Instructors and their links to brands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, is_instructor_self, require_authenticated, require_brand_admin
from booking.audit import Watched, entry_of, watch_table, write_entries
from booking.auth import Principal
from booking.bookings.repository import has_active_sessions_ending_after
from booking.brands.service import get_brand
from booking.errors import Conflict, Forbidden, NotFound
from booking.instructors import repository
from booking.instructors.schemas import InstructorCreate, InstructorOut, InstructorUpdate
from booking.models.instructors import Instructor, InstructorBrand


async def get_instructor(session: AsyncSession, instructor_id: UUID) -> Instructor:
    instructor = await repository.instructor_by_id(session, instructor_id)
    if instructor is None:
        raise NotFound("instructor not found")
    return instructor


async def active_link(session: AsyncSession, instructor_id: UUID, brand_id: UUID) -> InstructorBrand | None:
    link = await repository.link_of(session, instructor_id, brand_id)
    return link if link is not None and link.unlinked_at is None else None


async def describe(session: AsyncSession, instructor: Instructor) -> InstructorOut:
    return InstructorOut(
        id=instructor.id,
        user_id=instructor.user_id,
        name=instructor.name,
        email=instructor.email,
        phone=instructor.phone,
        timezone=instructor.timezone,
        locale=instructor.locale,
        active=instructor.active,
        brand_ids=await repository.linked_brand_ids(session, instructor.id),
        created_at=instructor.created_at,
    )


async def create_instructor(
    session: AsyncSession, principal: Principal, data: InstructorCreate
) -> Instructor:
    require_authenticated(principal)
    for brand_id in data.brand_ids:
        await get_brand(session, brand_id)
    for brand_id in data.brand_ids:
        await require_brand_admin(session, principal, brand_id)
    instructor = Instructor(
        name=data.name,
        email=str(data.email),
        phone=data.phone,
        timezone=data.timezone,
        locale=data.locale,
        user_id=data.user_id,
        active=True,
    )
    session.add(instructor)
    await _flush_unique_user(session, data.user_id)
    session.add_all(InstructorBrand(instructor_id=instructor.id, brand_id=b) for b in data.brand_ids)
    await session.flush()
    return instructor


async def _flush_unique_user(session: AsyncSession, user_id: UUID | None) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"user {user_id} is already an instructor") from exc


async def may_manage_instructor(session: AsyncSession, principal: Principal, instructor: Instructor) -> bool:
    """Service, the instructor themself, or an admin of a brand the instructor teaches for."""
    if principal.is_service or is_instructor_self(principal, instructor):
        return True
    for brand_id in await repository.linked_brand_ids(session, instructor.id):
        if await is_brand_admin(session, principal, brand_id):
            return True
    return False


AUDITED_FIELDS = ("name", "email", "phone", "timezone", "locale", "active")


async def update_instructor(
    session: AsyncSession, principal: Principal, instructor_id: UUID, data: InstructorUpdate, now: datetime
) -> Instructor:
    """A PATCH; in the audit log of each brand the instructor is linked to (the instructor has no brand
    of their own)."""
    require_authenticated(principal)
    instructor = await get_instructor(session, instructor_id)
    if not await may_manage_instructor(session, principal, instructor):
        raise Forbidden("only the service, the instructor or an admin of their brand may change them")
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        changes["email"] = str(changes["email"])
    before = {field: getattr(instructor, field) for field in AUDITED_FIELDS}
    for field, value in changes.items():
        setattr(instructor, field, value)
    await session.flush()
    after = {field: getattr(instructor, field) for field in AUDITED_FIELDS}
    entries = [
        entry_of(principal, brand_id, "instructor.updated", ("instructor", instructor.id), before, after)
        for brand_id in await repository.linked_brand_ids(session, instructor.id)
    ]
    await write_entries(session, [entry for entry in entries if entry is not None], now)
    return instructor


async def list_public_instructors(session: AsyncSession, brand_id: UUID) -> Sequence[Instructor]:
    await get_brand(session, brand_id)
    return await repository.active_instructors_of_brand(session, brand_id)


async def _check_link_target(
    session: AsyncSession, principal: Principal, instructor_id: UUID, brand_id: UUID
) -> None:
    require_authenticated(principal)
    await get_instructor(session, instructor_id)
    await get_brand(session, brand_id)
    await require_brand_admin(session, principal, brand_id)


async def link(
    session: AsyncSession, principal: Principal, instructor_id: UUID, brand_id: UUID
) -> tuple[InstructorBrand, bool]:
    """Link (or relink) an instructor to a brand; answers the link and whether it is new."""
    await _check_link_target(session, principal, instructor_id, brand_id)
    existing = await repository.link_of(session, instructor_id, brand_id)
    if existing is None:
        created = InstructorBrand(instructor_id=instructor_id, brand_id=brand_id)
        session.add(created)
        await session.flush()
        return created, True
    was_unlinked = existing.unlinked_at is not None
    existing.unlinked_at = None
    await session.flush()
    return existing, was_unlinked


async def unlink(
    session: AsyncSession, principal: Principal, instructor_id: UUID, brand_id: UUID, now: datetime
) -> None:
    """Unlink, unless sessions are still to come in that brand.

    The link row is written before bookings are counted: a concurrent booking holds a share lock
    on it, so one of the two waits for the other and sees its result.
    """
    await _check_link_target(session, principal, instructor_id, brand_id)
    current = await active_link(session, instructor_id, brand_id)
    if current is None:
        raise NotFound("the instructor is not linked to this brand")
    current.unlinked_at = now
    await session.flush()
    if await has_active_sessions_ending_after(session, instructor_id, brand_id, now):
        raise Conflict("the instructor has upcoming bookings in this brand; cancel them first")


# A link made, ended or made again: in the brand's audit log, as a change of that instructor.
watch_table(
    InstructorBrand,
    Watched("instructor", ("instructor_id", "unlinked_at"), target="instructor_id", action="link"),
)
