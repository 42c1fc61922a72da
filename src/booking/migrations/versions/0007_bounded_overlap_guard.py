"""The SQLite overlap guard reads a bounded range of the instructor's bookings (no change on PostgreSQL).

The triggers of 0001 looked for an active booking with `starts_at < NEW.blocked_until`: through the
index on (instructor_id, starts_at) that is every active booking of the instructor that starts before
the new one ends, so an insert cost more with every session the instructor had not yet closed (2 ms
at 10,000 of them). No booking blocks more than its longest session plus the largest buffer
(LONGEST_BLOCK, as the busy read assumes), so one that overlaps the new one starts after
`NEW.starts_at - LONGEST_BLOCK`: that lower bound makes the read a bounded range. The guard now also
refuses a row that blocks longer than that, so the bound it relies on holds for every row it checks.

PostgreSQL's exclusion constraint is a GiST index search already.

Revision ID: 0007
Revises: 0006
Create Date: 2027-02-12
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('pending', 'confirmed')"
# booking.types.LONGEST_BLOCK when this revision was written (480-minute session + 240-minute buffer),
# frozen: a migration means the same whatever the code around it later says.
LONGEST_BLOCK_MINUTES = 720
UPDATE_OF = "status, starts_at, blocked_until, instructor_id"


def _guard(earliest_start: str) -> str:
    overlap = f"b.starts_at < NEW.blocked_until AND NEW.starts_at < b.blocked_until{earliest_start}"
    return (
        "SELECT RAISE(ABORT, 'bookings_no_overlap') WHERE EXISTS ("
        "SELECT 1 FROM bookings b WHERE b.instructor_id = NEW.instructor_id "
        f"AND b.id <> NEW.id AND b.{ACTIVE} AND {overlap});"
    )


# Stored instants are 'YYYY-MM-DD HH:MM:SS.ffffff' text; datetime() drops the fraction, which only
# moves the bound earlier (a few more rows read, never one missed).
BOUNDED = _guard(f" AND b.starts_at >= datetime(NEW.starts_at, '-{LONGEST_BLOCK_MINUTES} minutes')")
BLOCK_TOO_LONG = (
    "SELECT RAISE(ABORT, 'bookings_block_too_long') WHERE "
    f"julianday(NEW.blocked_until) - julianday(NEW.starts_at) > {LONGEST_BLOCK_MINUTES} / 1440.0 + 1e-9;"
)


def _triggers(guard: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS bookings_no_overlap_insert")
    op.execute("DROP TRIGGER IF EXISTS bookings_no_overlap_update")
    op.execute(
        f"CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings WHEN NEW.{ACTIVE} "
        f"BEGIN {guard} END"
    )
    op.execute(
        f"CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF {UPDATE_OF} ON bookings "
        f"WHEN NEW.{ACTIVE} BEGIN {guard} END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(BLOCK_TOO_LONG + " " + BOUNDED)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _triggers(_guard(""))
