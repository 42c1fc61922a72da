"""Booking indexes that match each hot read's filter and order, so cost does not grow with history.

Revision ID: 0002
Revises: 0001
Create Date: 2027-01-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('pending', 'confirmed')"
UNREMINDED = "status = 'confirmed' AND reminder_claimed_at IS NULL"


def upgrade() -> None:
    # The list for staff, oldest first, with and without a status filter: a LIMIT stops the scan.
    op.create_index("ix_bookings_brand_created", "bookings", ["brand_id", "created_at", "id"])
    op.create_index(
        "ix_bookings_brand_status_created", "bookings", ["brand_id", "status", "created_at", "id"]
    )
    # The list for an instructor or a student, in the same order; the first one also serves the
    # foreign key to instructors_brands (instructor_id, brand_id).
    op.create_index(
        "ix_bookings_instructor_brand_created", "bookings", ["instructor_id", "brand_id", "created_at", "id"]
    )
    op.create_index(
        "ix_bookings_student_brand_created", "bookings", ["student_id", "brand_id", "created_at", "id"]
    )
    # Busy time, the calendar and unlink's upcoming check read only active bookings of one instructor:
    # completed and cancelled history is not in this index at all.
    op.create_index(
        "ix_bookings_active_instructor_starts",
        "bookings",
        ["instructor_id", "starts_at"],
        postgresql_include=["blocked_until"],
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    # The reminder claim: only confirmed bookings whose reminder has not been claimed yet.
    op.create_index(
        "ix_bookings_unreminded_starts",
        "bookings",
        ["starts_at"],
        postgresql_where=sa.text(UNREMINDED),
        sqlite_where=sa.text(UNREMINDED),
    )
    # Replaced by the indexes above (and status-first could lead the planner across every instructor).
    op.drop_index("ix_bookings_status_starts", "bookings")
    op.drop_index("ix_bookings_instructor_starts", "bookings")
    op.drop_index("ix_bookings_student", "bookings")


def downgrade() -> None:
    op.create_index("ix_bookings_student", "bookings", ["student_id"])
    op.create_index("ix_bookings_instructor_starts", "bookings", ["instructor_id", "starts_at"])
    op.create_index("ix_bookings_status_starts", "bookings", ["status", "starts_at"])
    for name in (
        "ix_bookings_unreminded_starts",
        "ix_bookings_active_instructor_starts",
        "ix_bookings_student_brand_created",
        "ix_bookings_instructor_brand_created",
        "ix_bookings_brand_status_created",
        "ix_bookings_brand_created",
    ):
        op.drop_index(name, "bookings")
