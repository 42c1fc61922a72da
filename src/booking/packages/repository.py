"""The packages room's queries."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from booking.models.instructors import InstructorBrand
from booking.models.packages import Package, Pass

MAX_LISTED = 200


async def package_in_brand(
    session: AsyncSession, brand_id: UUID, package_id: UUID, *, for_update: bool = False
) -> Package | None:
    found = await session.get(Package, package_id, with_for_update=for_update)
    return found if found is not None and found.brand_id == brand_id else None


async def package_by_id(session: AsyncSession, package_id: UUID) -> Package | None:
    return await session.get(Package, package_id)


async def packages_of_brand(session: AsyncSession, brand_id: UUID, *, active_only: bool) -> Sequence[Package]:
    query = select(Package).where(Package.brand_id == brand_id)
    if active_only:
        query = query.where(Package.active.is_(True))
    query = query.order_by(Package.created_at, Package.id).limit(MAX_LISTED)
    return (await session.scalars(query)).all()


async def linked_instructor_ids(session: AsyncSession, brand_id: UUID, ids: Sequence[UUID]) -> set[UUID]:
    """Which of `ids` are instructors of the brand now."""
    query = select(InstructorBrand.instructor_id).where(
        InstructorBrand.brand_id == brand_id,
        InstructorBrand.instructor_id.in_(ids),
        InstructorBrand.unlinked_at.is_(None),
    )
    return set((await session.scalars(query)).all())


async def pass_by_id(session: AsyncSession, pass_id: UUID, *, for_update: bool = False) -> Pass | None:
    return await session.get(Pass, pass_id, with_for_update=for_update, populate_existing=for_update)


async def passes_of(session: AsyncSession, brand_id: UUID | None, student_id: UUID | None) -> Sequence[Pass]:
    """The newest passes of a brand, of a student, or of a student in a brand (indexes by each)."""
    query = select(Pass)
    if student_id is not None:
        query = query.where(Pass.student_id == student_id)
    if brand_id is not None:
        query = query.where(Pass.brand_id == brand_id)
    query = query.order_by(Pass.created_at.desc(), Pass.id.desc()).limit(MAX_LISTED)
    return (await session.scalars(query)).all()
