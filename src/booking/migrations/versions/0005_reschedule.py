"""Reschedule: the cutoff setting, the move count, the calendar sequence, moves in history.

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SETTINGS = "instructor_scheduling_settings"


def upgrade() -> None:
    op.add_column(
        SETTINGS, sa.Column("reschedule_cutoff_hours", sa.Integer(), nullable=False, server_default="24")
    )
    op.add_column("bookings", sa.Column("reschedule_count", sa.Integer(), nullable=False, server_default="0"))
    # The SEQUENCE of the booking's one calendar event (RFC 5545): grows with each move and each
    # change of the event's STATUS, so calendar apps replace the event they hold.
    op.add_column(
        "bookings", sa.Column("calendar_sequence", sa.Integer(), nullable=False, server_default="0")
    )
    # A move's entry in the history: both starts (NULL on status and payment entries).
    op.add_column("booking_events", instant_column("from_starts_at", nullable=True))
    op.add_column("booking_events", instant_column("to_starts_at", nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (PostgreSQL; SQLite 3.35+): a batch copy of bookings would lose its triggers.
    op.drop_column("booking_events", "to_starts_at")
    op.drop_column("booking_events", "from_starts_at")
    op.drop_column("bookings", "calendar_sequence")
    op.drop_column("bookings", "reschedule_count")
    op.drop_column(SETTINGS, "reschedule_cutoff_hours")
