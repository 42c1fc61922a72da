"""Initial schema: brands, instructors, availability, bookings, notifications.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column, uuid_column

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "brands",
    "instructors",
    "instructors_brands",
    "brand_admins",
    "instructor_scheduling_settings",
    "availability_weekly",
    "availability_overrides",
    "bookings",
    "booking_events",
    "idempotency_keys",
    "notification_log",
)

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ACTIVE = "status IN ('pending', 'confirmed')"
OVERLAP = "b.starts_at < NEW.blocked_until AND NEW.starts_at < b.blocked_until"


def _link_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["instructor_id", "brand_id"],
        ["instructors_brands.instructor_id", "instructors_brands.brand_id"],
        name=f"fk_{table}_instructors_brands",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "brands",
        uuid_column("id", primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        instant_column("created_at"),
        sa.UniqueConstraint("slug", name="uq_brands_slug"),
    )
    op.create_table(
        "instructors",
        uuid_column("id", primary_key=True),
        uuid_column("user_id", nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        instant_column("created_at"),
        sa.UniqueConstraint("user_id", name="uq_instructors_user_id"),
    )
    op.create_table(
        "instructors_brands",
        uuid_column("instructor_id", sa.ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True),
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
        instant_column("created_at"),
        instant_column("unlinked_at", nullable=True),
    )
    op.create_index("ix_instructors_brands_brand_id", "instructors_brands", ["brand_id"])
    op.create_table(
        "brand_admins",
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
        uuid_column("user_id", primary_key=True),
        instant_column("created_at"),
    )
    op.create_index("ix_brand_admins_user_id", "brand_admins", ["user_id"])
    op.create_table(
        "instructor_scheduling_settings",
        uuid_column("instructor_id", primary_key=True),
        uuid_column("brand_id", primary_key=True),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False, server_default="15"),
        sa.Column("advance_booking_days", sa.Integer(), nullable=False, server_default="90"),
        sa.Column("cancellation_cutoff_hours", sa.Integer(), nullable=False, server_default="24"),
        sa.Column("session_minutes", sa.Integer(), nullable=False, server_default="60"),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False, server_default="0"),
        instant_column("updated_at"),
        _link_fk("instructor_scheduling_settings"),
        sa.CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer_minutes"),
        sa.CheckConstraint("advance_booking_days BETWEEN 1 AND 730", name="advance_booking_days"),
        sa.CheckConstraint("cancellation_cutoff_hours BETWEEN 0 AND 720", name="cancellation_cutoff_hours"),
        sa.CheckConstraint("session_minutes BETWEEN 5 AND 480", name="session_minutes"),
        sa.CheckConstraint("min_notice_minutes BETWEEN 0 AND 10080", name="min_notice_minutes"),
    )
    op.create_table(
        "availability_weekly",
        uuid_column("id", primary_key=True),
        uuid_column("instructor_id", nullable=False),
        uuid_column("brand_id", nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        _link_fk("availability_weekly"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint(
            "start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440",
            name="window",
        ),
    )
    op.create_index(
        "ix_availability_weekly_instructor_brand", "availability_weekly", ["instructor_id", "brand_id"]
    )
    op.create_table(
        "availability_overrides",
        uuid_column("id", primary_key=True),
        uuid_column("instructor_id", nullable=False),
        uuid_column("brand_id", nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=True),
        sa.Column("end_minute", sa.SmallInteger(), nullable=True),
        _link_fk("availability_overrides"),
        sa.CheckConstraint(
            "(kind = 'blocked' AND start_minute IS NULL AND end_minute IS NULL) OR "
            "(kind = 'custom' AND start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)",
            name="kind_window",
        ),
    )
    op.create_index(
        "ix_availability_overrides_instructor_brand_date",
        "availability_overrides",
        ["instructor_id", "brand_id", "date"],
    )
    op.create_table(
        "bookings",
        uuid_column("id", primary_key=True),
        uuid_column("brand_id", nullable=False),
        uuid_column("instructor_id", nullable=False),
        uuid_column("student_id", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_status", sa.String(16), nullable=False),
        instant_column("starts_at"),
        instant_column("ends_at"),
        instant_column("blocked_until"),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("student_timezone", sa.String(64), nullable=False),
        sa.Column("instructor_timezone", sa.String(64), nullable=False),
        sa.Column("student_name", sa.String(200), nullable=True),
        sa.Column("student_email", sa.String(320), nullable=True),
        sa.Column("student_phone", sa.String(32), nullable=True),
        sa.Column("instructor_notes", sa.Text(), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        instant_column("reminder_claimed_at", nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        instant_column("created_at"),
        instant_column("updated_at"),
        sa.ForeignKeyConstraint(
            ["instructor_id", "brand_id"],
            ["instructors_brands.instructor_id", "instructors_brands.brand_id"],
            name="fk_bookings_instructors_brands",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')",
            name="status",
        ),
        sa.CheckConstraint("payment_status IN ('unpaid', 'paid')", name="payment_status"),
        sa.CheckConstraint(
            "starts_at < ends_at AND ends_at <= blocked_until AND buffer_minutes >= 0",
            name="interval",
        ),
    )
    op.create_index("ix_bookings_instructor_starts", "bookings", ["instructor_id", "starts_at"])
    op.create_index("ix_bookings_brand_starts", "bookings", ["brand_id", "starts_at", "id"])
    op.create_index("ix_bookings_student", "bookings", ["student_id"])
    op.create_index("ix_bookings_status_starts", "bookings", ["status", "starts_at"])
    op.create_table(
        "booking_events",
        # A growing integer: the order of a booking's history, even for changes in the same microsecond.
        sa.Column("id", EVENT_ID, primary_key=True, autoincrement=True),
        uuid_column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("payment_status", sa.String(16), nullable=True),
        sa.Column("actor", sa.String(80), nullable=False),
        instant_column("created_at"),
    )
    op.create_index("ix_booking_events_booking_id", "booking_events", ["booking_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        instant_column("created_at"),
    )
    op.create_table(
        "notification_log",
        uuid_column("id", primary_key=True),
        uuid_column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        instant_column("created_at"),
        sa.CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        sa.CheckConstraint("status IN ('sent', 'failed', 'skipped')", name="status"),
    )
    op.create_index("ix_notification_log_booking_id", "notification_log", ["booking_id"])

    if op.get_bind().dialect.name == "postgresql":
        _postgres_guarantees()
    else:
        _sqlite_guarantees()


def _postgres_guarantees() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    # blocked_until is stored because timestamptz + interval is not immutable (cannot be indexed).
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist "
        f"(instructor_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) WHERE ({ACTIVE})"
    )
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def _sqlite_guarantees() -> None:
    # SQLite runs one writer at a time, so a check inside the write itself holds across processes.
    raise_if_overlap = (
        "SELECT RAISE(ABORT, 'bookings_no_overlap') WHERE EXISTS ("
        "SELECT 1 FROM bookings b WHERE b.instructor_id = NEW.instructor_id "
        f"AND b.id <> NEW.id AND b.{ACTIVE} AND {OVERLAP});"
    )
    op.execute(
        f"CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings "
        f"WHEN NEW.{ACTIVE} BEGIN {raise_if_overlap} END"
    )
    op.execute(
        "CREATE TRIGGER bookings_no_overlap_update "
        "BEFORE UPDATE OF status, starts_at, blocked_until, instructor_id ON bookings "
        f"WHEN NEW.{ACTIVE} BEGIN {raise_if_overlap} END"
    )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
