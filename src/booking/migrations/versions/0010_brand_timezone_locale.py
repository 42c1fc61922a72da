"""A brand's own timezone (the dates of its passes and its console) and its locale (the language of its
pages and messages).

Revision ID: 0010
Revises: 0009
Create Date: 2027-03-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("brands", sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))
    op.add_column("brands", sa.Column("locale", sa.String(8), nullable=False, server_default="en"))


def downgrade() -> None:
    op.drop_column("brands", "locale")
    op.drop_column("brands", "timezone")
