"""Payment holds and booking limits.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('pending', 'confirmed')"
PENDING = "status = 'pending'"
HOLDING = "status = 'pending' AND hold_expires_at IS NOT NULL"
SETTINGS = "instructor_scheduling_settings"


def upgrade() -> None:
    op.add_column(
        SETTINGS, sa.Column("payment_hold_minutes", sa.Integer(), nullable=False, server_default="30")
    )
    op.add_column(SETTINGS, sa.Column("max_bookings_per_day", sa.Integer(), nullable=True))
    op.add_column(SETTINGS, sa.Column("max_bookings_per_week", sa.Integer(), nullable=True))
    op.add_column(
        "brands", sa.Column("max_pending_per_student", sa.Integer(), nullable=True, server_default="3")
    )
    # Bookings made before holds existed never expire (NULL).
    op.add_column("bookings", instant_column("hold_expires_at", nullable=True))
    op.add_column(
        "bookings", sa.Column("refund_due", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # Busy time and the caps read the same rows: the hold's end and the brand ride along, so the read
    # stays index-only on PostgreSQL.
    op.drop_index("ix_bookings_active_instructor_starts", "bookings")
    op.create_index(
        "ix_bookings_active_instructor_starts",
        "bookings",
        ["instructor_id", "starts_at"],
        postgresql_include=["blocked_until", "hold_expires_at", "brand_id"],
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    # A student's pending bookings in a brand (the pending cap): bounded by the cap, not by history.
    op.create_index(
        "ix_bookings_pending_student_brand",
        "bookings",
        ["student_id", "brand_id"],
        postgresql_include=["hold_expires_at"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    # The worker's expiry queue: only holds that can expire.
    op.create_index(
        "ix_bookings_hold_expiry",
        "bookings",
        ["hold_expires_at"],
        postgresql_where=sa.text(HOLDING),
        sqlite_where=sa.text(HOLDING),
    )


def downgrade() -> None:
    op.drop_index("ix_bookings_hold_expiry", "bookings")
    op.drop_index("ix_bookings_pending_student_brand", "bookings")
    op.drop_index("ix_bookings_active_instructor_starts", "bookings")
    op.create_index(
        "ix_bookings_active_instructor_starts",
        "bookings",
        ["instructor_id", "starts_at"],
        postgresql_include=["blocked_until"],
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )
    # Plain DROP COLUMN (PostgreSQL; SQLite 3.35+): a batch copy of bookings would lose its triggers.
    op.drop_column("bookings", "refund_due")
    op.drop_column("bookings", "hold_expires_at")
    op.drop_column("brands", "max_pending_per_student")
    for column in ("max_bookings_per_week", "max_bookings_per_day", "payment_hold_minutes"):
        op.drop_column(SETTINGS, column)
