"""Where a session happens (`location`, per instructor and brand, copied to each booking) and the step of
the slot list (`slot_interval_minutes`).

Revision ID: 0014
Revises: 0013
Create Date: 2027-03-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN everywhere (a batch copy of bookings would lose its SQLite triggers).
    op.add_column("instructor_scheduling_settings", sa.Column("slot_interval_minutes", sa.SmallInteger()))
    op.add_column("instructor_scheduling_settings", sa.Column("location", sa.String(500)))
    op.add_column("bookings", sa.Column("location", sa.String(600)))


def downgrade() -> None:
    op.drop_column("bookings", "location")
    op.drop_column("instructor_scheduling_settings", "location")
    op.drop_column("instructor_scheduling_settings", "slot_interval_minutes")
