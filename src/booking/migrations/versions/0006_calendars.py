"""Calendars: the instructor's feed, their busy calendars and the busy time read from them.

Revision ID: 0006
Revises: 0005
Create Date: 2027-02-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column, uuid_column

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("calendar_feeds", "busy_calendars", "busy_intervals")


def upgrade() -> None:
    op.create_table(
        "calendar_feeds",
        uuid_column("instructor_id", sa.ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True),
        # SHA-256 of the secret in the feed's URL: the secret itself is never stored.
        sa.Column("secret_hash", sa.String(64), nullable=False),
        instant_column("created_at"),
        sa.UniqueConstraint("secret_hash", name="uq_calendar_feeds_secret_hash"),
    )
    op.create_table(
        "busy_calendars",
        uuid_column("id", primary_key=True),
        uuid_column("instructor_id", sa.ForeignKey("instructors.id", ondelete="CASCADE")),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        instant_column("created_at"),
        instant_column("last_synced_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("busy_count", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(500), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        instant_column("expanded_until", nullable=True),
        instant_column("next_sync_at"),
        instant_column("locked_until", nullable=True),
        sa.UniqueConstraint("instructor_id", "url", name="uq_busy_calendars_instructor_url"),
    )
    # The worker's sync queue: every calendar is due again every CALENDAR_SYNC_MINUTES.
    op.create_index("ix_busy_calendars_next_sync", "busy_calendars", ["next_sync_at"])
    op.create_table(
        "busy_intervals",
        uuid_column("calendar_id", sa.ForeignKey("busy_calendars.id", ondelete="CASCADE")),
        instant_column("starts_at"),
        instant_column("ends_at"),
        uuid_column("instructor_id"),
        sa.PrimaryKeyConstraint("calendar_id", "starts_at", name="pk_busy_intervals"),
    )
    # The busy read of every slot list and booking: one instructor, a bounded range of starts.
    op.create_index(
        "ix_busy_intervals_instructor_starts",
        "busy_intervals",
        ["instructor_id", "starts_at"],
        postgresql_include=["ends_at"],
    )
    # The instructor's calendar feed: every booking of every status, by start.
    op.create_index("ix_bookings_instructor_starts", "bookings", ["instructor_id", "starts_at"])
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_index("ix_bookings_instructor_starts", "bookings")
    for table in reversed(TABLES):
        op.drop_table(table)
