"""Who may do what with bookings (SPEC §3, §6): a caller's role on a booking, whom they may book for."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from booking.access import is_brand_admin, own_instructor_id, require_authenticated, require_brand_admin
from booking.auth import Principal
from booking.bookings.lifecycle import Role
from booking.bookings.schemas import BookingCreate
from booking.errors import field_error
from booking.models.bookings import Booking
from booking.types import E164


@dataclass(frozen=True)
class Viewer:
    """A caller's relation to the bookings of one brand."""

    principal: Principal
    staff: bool  # service or admin of the brand
    instructor_id: UUID | None

    def role_for(self, booking: Booking) -> Role | None:
        if self.staff:
            return Role.STAFF
        if self.instructor_id is not None and booking.instructor_id == self.instructor_id:
            return Role.INSTRUCTOR
        if self.principal.user_id is not None and booking.student_id == self.principal.user_id:
            return Role.STUDENT
        return None

    @property
    def sees_notes(self) -> bool:
        """Staff and instructors read `instructor_notes` (of the bookings they may see)."""
        return self.staff or self.instructor_id is not None


async def viewer(session: AsyncSession, principal: Principal, brand_id: UUID) -> Viewer:
    require_authenticated(principal)
    return Viewer(
        principal=principal,
        staff=await is_brand_admin(session, principal, brand_id),
        instructor_id=await own_instructor_id(session, principal),
    )


@dataclass(frozen=True)
class Contact:
    student_id: UUID
    name: str | None
    email: str | None
    phone: str | None


async def student_of(session: AsyncSession, principal: Principal, data: BookingCreate) -> Contact:
    """Who the booking is for, and how to reach them (body first, then the token's claims).

    Students book for themselves; only staff of the brand may name another `student_id`.
    """
    require_authenticated(principal)
    if data.student_id is not None and data.student_id != principal.user_id:
        await require_brand_admin(session, principal, data.brand_id)
        return Contact(data.student_id, data.student_name, _email(data.student_email), data.student_phone)
    if principal.user_id is None:
        message = "student_id is required when the service books"
        raise field_error(message, "body", "student_id")
    email = _email(data.student_email) or _valid_email(principal.email)
    phone = data.student_phone or (
        principal.phone if principal.phone and E164.match(principal.phone) else None
    )
    return Contact(principal.user_id, data.student_name, email, phone)


def _email(value: object) -> str | None:
    return None if value is None else str(value)


@lru_cache(maxsize=4096)
def _valid_email(value: str | None) -> str | None:
    # Token claims are not validated by the auth server the way the body is: an invalid one is dropped.
    # A pure function of the text, and the same student sends the same claim with every booking.
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
