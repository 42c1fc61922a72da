"""Weekly series: N bookings at the same local time every one to four weeks, made in one transaction.

Revision ID: 0011
Revises: 0010
Create Date: 2027-03-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from booking.migrations.columns import instant_column, uuid_column

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "series",
        uuid_column("id", primary_key=True),
        uuid_column("brand_id", sa.ForeignKey("brands.id", ondelete="CASCADE")),
        uuid_column("instructor_id", sa.ForeignKey("instructors.id", ondelete="CASCADE")),
        uuid_column("student_id"),
        sa.Column("count", sa.SmallInteger(), nullable=False),
        sa.Column("every_weeks", sa.SmallInteger(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        instant_column("created_at"),
    )
    # Plain ADD COLUMN (a batch copy of bookings would lose its SQLite triggers). SQLite takes a foreign
    # key on an added column (its default being NULL) only written into the column itself.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE bookings ADD COLUMN series_id CHAR(32) "
            "CONSTRAINT fk_bookings_series_id_series REFERENCES series (id) ON DELETE CASCADE"
        )
    else:
        op.add_column(
            "bookings",
            sa.Column(
                "series_id",
                sa.Uuid(),
                sa.ForeignKey("series.id", ondelete="CASCADE", name="fk_bookings_series_id_series"),
                nullable=True,
            ),
        )
    op.add_column("bookings", sa.Column("series_index", sa.SmallInteger(), nullable=True))
    op.create_index(
        "ix_bookings_series_index",
        "bookings",
        ["series_id", "series_index"],
        postgresql_where=sa.text("series_id IS NOT NULL"),
        sqlite_where=sa.text("series_id IS NOT NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE series ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.drop_index("ix_bookings_series_index", "bookings")
    op.drop_column("bookings", "series_index")
    op.drop_column("bookings", "series_id")
    op.drop_table("series")
