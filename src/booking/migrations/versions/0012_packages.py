"""Packages of sessions and the passes students hold; bookings paid with a pass; events of a pass.

Revision ID: 0012
Revises: 0011
Create Date: 2027-03-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column, uuid_column

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("packages", "passes")
DELIVERY_COLUMNS = (
    "id, endpoint_id, event_id, event_type, booking_id, status, attempts, last_status_code, last_error, "
    "next_attempt_at, locked_until, created_at, delivered_at"
)


def upgrade() -> None:
    op.create_table(
        "packages",
        uuid_column("id", primary_key=True),
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE")),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sessions", sa.SmallInteger(), nullable=False),
        sa.Column("valid_days", sa.SmallInteger(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("instructor_ids", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        instant_column("created_at"),
        instant_column("updated_at"),
    )
    op.create_index("ix_packages_brand_created", "packages", ["brand_id", "created_at", "id"])
    op.create_table(
        "passes",
        uuid_column("id", primary_key=True),
        uuid_column("package_id", sa.ForeignKey("packages.id", ondelete="CASCADE")),
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE")),
        uuid_column("student_id"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sessions_total", sa.SmallInteger(), nullable=False),
        sa.Column("sessions_left", sa.SmallInteger(), nullable=False),
        sa.Column("valid_days", sa.SmallInteger(), nullable=False),
        sa.Column("instructor_ids", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        instant_column("valid_until", nullable=True),
        instant_column("activated_at", nullable=True),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.Column("payment_provider", sa.String(16), nullable=True),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("refund_status", sa.String(16), nullable=True),
        sa.Column("payment_intent", sa.String(255), nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        instant_column("created_at"),
        instant_column("updated_at"),
        # The last line of defence of the guarded decrement: a pass never goes below zero.
        sa.CheckConstraint("sessions_left >= 0", name="sessions_left_not_negative"),
    )
    op.create_index("ix_passes_brand_created", "passes", ["brand_id", "created_at", "id"])
    op.create_index(
        "ix_passes_student_brand_created", "passes", ["student_id", "brand_id", "created_at", "id"]
    )
    _add_pass_to_bookings()
    _events_without_a_booking()
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def _add_pass_to_bookings() -> None:
    # Plain ADD COLUMN, as 0011 did for the series (a batch copy of bookings would lose its triggers).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE bookings ADD COLUMN pass_id CHAR(32) "
            "CONSTRAINT fk_bookings_pass_id_passes REFERENCES passes (id) ON DELETE SET NULL"
        )
    else:
        op.add_column(
            "bookings",
            sa.Column(
                "pass_id",
                sa.Uuid(),
                sa.ForeignKey("passes.id", ondelete="SET NULL", name="fk_bookings_pass_id_passes"),
                nullable=True,
            ),
        )
    op.create_index(
        "ix_bookings_pass_id",
        "bookings",
        ["pass_id"],
        postgresql_where=sa.text("pass_id IS NOT NULL"),
        sqlite_where=sa.text("pass_id IS NOT NULL"),
    )


def _events_without_a_booking() -> None:
    """`pass.activated` is about a pass: an event's (and its deliveries') booking may be NULL now.

    SQLite changes a column's NULL-ness only by copying the table. The copy of `events` drops the old
    table, which (foreign keys being on) deletes its deliveries by cascade: they are kept aside and put
    back once both tables are copied."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("events", "booking_id", existing_type=sa.Uuid(), nullable=True)
        op.alter_column("webhook_deliveries", "booking_id", existing_type=sa.Uuid(), nullable=True)
        return
    op.execute("CREATE TEMPORARY TABLE deliveries_kept AS SELECT * FROM webhook_deliveries")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("booking_id", existing_type=sa.Uuid(), nullable=True)
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.alter_column("booking_id", existing_type=sa.Uuid(), nullable=True)
    op.execute("DELETE FROM webhook_deliveries")
    op.execute(
        f"INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) SELECT {DELIVERY_COLUMNS} FROM deliveries_kept"
    )
    op.execute("DROP TABLE deliveries_kept")


def downgrade() -> None:
    op.drop_index("ix_bookings_pass_id", "bookings")
    op.drop_column("bookings", "pass_id")
    for table in reversed(TABLES):
        op.drop_table(table)
