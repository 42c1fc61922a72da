"""Checkout Sessions of a weekly series or a pass, not only of one booking.

Revision ID: 0013
Revises: 0012
Create Date: 2027-03-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nothing refers to checkout_sessions: SQLite's copy of the table (to let booking_id be NULL) is safe.
    with op.batch_alter_table("checkout_sessions") as batch:
        batch.alter_column("booking_id", existing_type=sa.Uuid(), nullable=True)
        batch.add_column(
            sa.Column(
                "series_id",
                sa.Uuid(),
                sa.ForeignKey("series.id", ondelete="CASCADE", name="fk_checkout_sessions_series_id_series"),
                nullable=True,
            )
        )
        batch.add_column(
            sa.Column(
                "pass_id",
                sa.Uuid(),
                sa.ForeignKey("passes.id", ondelete="CASCADE", name="fk_checkout_sessions_pass_id_passes"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("amount", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("covers", sa.Text(), nullable=True))
    op.create_index("ix_checkout_sessions_series_created", "checkout_sessions", ["series_id", "created_at"])
    op.create_index("ix_checkout_sessions_pass_created", "checkout_sessions", ["pass_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_checkout_sessions_pass_created", "checkout_sessions")
    op.drop_index("ix_checkout_sessions_series_created", "checkout_sessions")
    with op.batch_alter_table("checkout_sessions") as batch:
        batch.drop_column("covers")
        batch.drop_column("amount")
        batch.drop_column("pass_id")
        batch.drop_column("series_id")
