"""The bookings list's search (`q`): trigram indexes on the student's name and email, lower-cased, so
that `lower(column) LIKE lower('%part%')` reads the matching bookings only (PostgreSQL; SQLite has no
trigram index and needs none at its scale).

Revision ID: 0015
Revises: 0014
Create Date: 2027-03-14
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = ("student_name", "student_email")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Supabase ships pg_trgm; plain PostgreSQL has it in contrib.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED:
        op.execute(
            f"CREATE INDEX ix_bookings_{column}_trgm ON bookings USING gin (lower({column}) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in SEARCHED:
        op.execute(f"DROP INDEX ix_bookings_{column}_trgm")
