"""Who may do what (SPEC §3): the brand-admin and instructor roles of a principal, and the checks."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from booking.auth import Principal
from booking.brands.repository import is_admin_of
from booking.errors import Forbidden, Unauthorized
from booking.instructors.repository import instructor_id_of_user
from booking.models.instructors import Instructor


def require_authenticated(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise Unauthorized("this endpoint needs a bearer token")


async def is_brand_admin(session: AsyncSession, principal: Principal, brand_id: UUID) -> bool:
    if principal.is_service:
        return True
    if principal.user_id is None:
        return False
    return await is_admin_of(session, principal.user_id, brand_id)


async def require_brand_admin(session: AsyncSession, principal: Principal, brand_id: UUID) -> None:
    require_authenticated(principal)
    if not await is_brand_admin(session, principal, brand_id):
        raise Forbidden("only the service or an admin of this brand may do this")


def is_instructor_self(principal: Principal, instructor: Instructor) -> bool:
    return principal.user_id is not None and principal.user_id == instructor.user_id


async def require_instructor_or_brand_admin(
    session: AsyncSession, principal: Principal, instructor: Instructor, brand_id: UUID, action: str
) -> None:
    """The instructor themself, an admin of the brand or the service; 403 for anyone else."""
    if not is_instructor_self(principal, instructor) and not await is_brand_admin(
        session, principal, brand_id
    ):
        raise Forbidden(f"only the instructor, an admin of the brand or the service may {action}")


async def own_instructor_id(session: AsyncSession, principal: Principal) -> UUID | None:
    """The instructor record of the calling user, if they are one."""
    if principal.user_id is None:
        return None
    return await instructor_id_of_user(session, principal.user_id)
