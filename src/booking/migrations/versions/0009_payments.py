"""Online payment with Stripe: each booking's Checkout Sessions, the worker's refunds and session
expiries, the Stripe event ids already applied, and on each booking its payment intent and latest session.

Revision ID: 0009
Revises: 0008
Create Date: 2027-03-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column, uuid_column

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("checkout_sessions", "payment_tasks", "stripe_events")


def upgrade() -> None:
    op.add_column("bookings", sa.Column("payment_intent", sa.String(255), nullable=True))
    op.add_column("bookings", sa.Column("checkout_session_id", sa.String(255), nullable=True))
    # Stripe's charge events name the payment, not the booking.
    op.create_index(
        "ix_bookings_payment_intent",
        "bookings",
        ["payment_intent"],
        postgresql_where=sa.text("payment_intent IS NOT NULL"),
        sqlite_where=sa.text("payment_intent IS NOT NULL"),
    )
    op.create_table(
        "checkout_sessions",
        sa.Column("id", sa.String(255), primary_key=True),
        uuid_column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE")),
        sa.Column("url", sa.Text(), nullable=False),
        instant_column("expires_at"),
        sa.Column("status", sa.String(16), nullable=False),
        instant_column("created_at"),
    )
    op.create_index("ix_checkout_sessions_booking_created", "checkout_sessions", ["booking_id", "created_at"])
    op.create_table(
        "payment_tasks",
        uuid_column("id", primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        uuid_column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE")),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        instant_column("next_attempt_at"),
        instant_column("done_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        instant_column("created_at"),
    )
    # The worker's queue: what is due and not done.
    op.create_index(
        "ix_payment_tasks_due",
        "payment_tasks",
        ["next_attempt_at"],
        postgresql_where=sa.text("done_at IS NULL"),
        sqlite_where=sa.text("done_at IS NULL"),
    )
    op.create_index("ix_payment_tasks_booking_id", "payment_tasks", ["booking_id"])
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        instant_column("received_at"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_index("ix_bookings_payment_intent", "bookings")
    op.drop_column("bookings", "checkout_session_id")
    op.drop_column("bookings", "payment_intent")
