"""Privacy and audit: the audit log, and `bookings.student_erased`.

Revision ID: 0017
Revises: 0016
Create Date: 2027-03-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTRY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", ENTRY_ID, primary_key=True, autoincrement=True),
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target_type", sa.String(24), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.Uuid(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_brand_at", "audit_log", ["brand_id", "at", "id"])
    op.create_index("ix_audit_log_brand_target_at", "audit_log", ["brand_id", "target_id", "at", "id"])
    if op.get_context().dialect.name == "postgresql":
        # No policy: Supabase's generated REST API exposes nothing of it.
        op.execute("ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY")
    # Plain ADD COLUMN (a batch copy of bookings would lose its SQLite triggers).
    op.add_column(
        "bookings", sa.Column("student_erased", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("bookings", "student_erased")
    op.drop_table("audit_log")
