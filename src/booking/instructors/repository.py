"""Every query of instructors and their links to brands."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models.instructors import Instructor, InstructorBrand


async def instructor_by_id(session: AsyncSession, instructor_id: UUID) -> Instructor | None:
    return await session.get(Instructor, instructor_id)


async def instructor_id_of_user(session: AsyncSession, user_id: UUID) -> UUID | None:
    """The instructor record of a signed-in user, if they are one."""
    return await session.scalar(select(Instructor.id).where(Instructor.user_id == user_id))


async def linked_brand_ids(session: AsyncSession, instructor_id: UUID) -> list[UUID]:
    query = select(InstructorBrand.brand_id).where(
        InstructorBrand.instructor_id == instructor_id, InstructorBrand.unlinked_at.is_(None)
    )
    return list((await session.scalars(query.order_by(InstructorBrand.created_at))).all())


async def link_of(session: AsyncSession, instructor_id: UUID, brand_id: UUID) -> InstructorBrand | None:
    """The link row, current or unlinked (unlinking keeps the row: bookings refer to it)."""
    return await session.get(InstructorBrand, (instructor_id, brand_id))


async def active_instructors_of_brand(session: AsyncSession, brand_id: UUID) -> Sequence[Instructor]:
    query = (
        select(Instructor)
        .join(InstructorBrand, InstructorBrand.instructor_id == Instructor.id)
        .where(
            InstructorBrand.brand_id == brand_id,
            InstructorBrand.unlinked_at.is_(None),
            Instructor.active.is_(True),
        )
        .order_by(Instructor.name, Instructor.id)
    )
    return (await session.scalars(query)).all()
