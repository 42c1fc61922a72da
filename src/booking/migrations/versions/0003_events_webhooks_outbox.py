"""Events, webhook endpoints and deliveries, and the outbox of messages.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column, uuid_column

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("events", "webhook_endpoints", "webhook_deliveries", "outbox_messages")
UNDISPATCHED = "dispatched_at IS NULL"
DELIVERY_PENDING = "status = 'pending'"
MESSAGE_OPEN = "status IN ('queued', 'sending', 'retrying')"


def upgrade() -> None:
    op.create_table(
        "events",
        uuid_column("id", primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE")),
        uuid_column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE")),
        sa.Column("data", sa.Text(), nullable=False),
        instant_column("created_at"),
        instant_column("dispatched_at", nullable=True),
    )
    op.create_index("ix_events_booking_id", "events", ["booking_id"])
    # The worker's fan-out queue: only events not yet turned into deliveries.
    op.create_index(
        "ix_events_undispatched",
        "events",
        ["created_at"],
        postgresql_where=sa.text(UNDISPATCHED),
        sqlite_where=sa.text(UNDISPATCHED),
    )
    op.create_table(
        "webhook_endpoints",
        uuid_column("id", primary_key=True),
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE")),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("secret", sa.String(64), nullable=False),
        instant_column("created_at"),
        instant_column("updated_at"),
    )
    op.create_index("ix_webhook_endpoints_brand_id", "webhook_endpoints", ["brand_id", "created_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        uuid_column("endpoint_id", sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE")),
        uuid_column("event_id", sa.ForeignKey("events.id", ondelete="CASCADE")),
        sa.Column("event_type", sa.String(32), nullable=False),
        uuid_column("booking_id"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        instant_column("next_attempt_at", nullable=True),
        instant_column("locked_until", nullable=True),
        instant_column("created_at"),
        instant_column("delivered_at", nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    )
    # The deliveries list, newest first, per endpoint.
    op.create_index(
        "ix_webhook_deliveries_endpoint_created", "webhook_deliveries", ["endpoint_id", "created_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_due",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text(DELIVERY_PENDING),
        sqlite_where=sa.text(DELIVERY_PENDING),
    )
    op.create_table(
        "outbox_messages",
        uuid_column("id", primary_key=True),
        uuid_column("booking_id", sa.ForeignKey("bookings.id", ondelete="CASCADE")),
        # The change that caused it and to whom: a message sent to the same audience of the same change is
        # the fallback of the others (SPEC §12: retried only when no fallback worked).
        uuid_column("change_id"),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        instant_column("next_attempt_at"),
        instant_column("locked_until", nullable=True),
        instant_column("give_up_at"),
        instant_column("created_at"),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'retrying', 'sent', 'failed', 'skipped', 'held')", name="status"
        ),
    )
    op.create_index("ix_outbox_messages_change_id", "outbox_messages", ["change_id"])
    op.create_index("ix_outbox_messages_booking_id", "outbox_messages", ["booking_id"])
    op.create_index(
        "ix_outbox_messages_due",
        "outbox_messages",
        ["next_attempt_at"],
        postgresql_where=sa.text(MESSAGE_OPEN),
        sqlite_where=sa.text(MESSAGE_OPEN),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
