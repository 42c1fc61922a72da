"""Regenerate the Supabase migration file from the Alembic history (run after adding a migration).

    python scripts/supabase_sql.py > supabase/migrations/20260220143000_booking_system_scheduling.sql

tests/test_schema.py proves the result equals the history; this script only saves typing.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys

from alembic import command

from booking.migrate import alembic_config

HEADER = """\
-- Booking service schema for Supabase / plain PostgreSQL 15+.
--
-- The same schema as the service's Alembic history; a test applies both to fresh databases and
-- compares their catalogues. Apply with:
--   psql -v ON_ERROR_STOP=1 "$DATABASE_URL" \\
--     -f supabase/migrations/20260220143000_booking_system_scheduling.sql
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

"""


def main() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        command.upgrade(alembic_config("postgresql://offline@localhost/offline"), "head", sql=True)
    sql = out.getvalue()
    sql = re.sub(r"CREATE TABLE alembic_version \(.*?\);\n\n", "", sql, flags=re.S)
    sql = re.sub(r"INSERT INTO alembic_version.*?;\n\n?", "", sql)
    sql = re.sub(r"UPDATE alembic_version.*?;\n\n?", "", sql)
    sql = re.sub(r"-- Running upgrade .*\n\n", "", sql)
    sys.stdout.write(HEADER + sql.strip() + "\n")


if __name__ == "__main__":
    main()
