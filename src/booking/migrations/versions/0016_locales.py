"""Languages: an instructor's own `locale` (NULL: their brand's) and each booking's `locale` (its
student's messages; a booking made before keeps its brand's language of now).

Revision ID: 0016
Revises: 0015
Create Date: 2027-03-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("instructors", sa.Column("locale", sa.String(8)))
    # Plain ADD COLUMN (a batch copy of bookings would lose its SQLite triggers), then each booking its
    # brand's language.
    op.add_column("bookings", sa.Column("locale", sa.String(8), nullable=False, server_default="en"))
    op.execute(
        "UPDATE bookings SET locale = (SELECT brands.locale FROM brands WHERE brands.id = bookings.brand_id)"
        " WHERE EXISTS (SELECT 1 FROM brands WHERE brands.id = bookings.brand_id AND brands.locale <> 'en')"
    )


def downgrade() -> None:
    op.drop_column("bookings", "locale")
    op.drop_column("instructors", "locale")
