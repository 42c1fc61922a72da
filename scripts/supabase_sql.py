"""Regenerate the Supabase migration files from the Alembic history (run after adding a migration).

    python scripts/supabase_sql.py

writes one file per revision into supabase/migrations/, named so that `supabase db push` (and `psql`
in name order) applies them in history order; a file already applied is never edited, a new revision
gets a new file. tests/test_schema.py proves the files together equal the history.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from alembic import command

from booking.migrate import alembic_config

FOLDER = Path(__file__).parent.parent / "supabase" / "migrations"
# Revision -> its file. Add a line for each new revision; never rename or change an existing one.
FILES = {
    "0001": "20260220143000_booking_system_scheduling.sql",
    "0002": "20261126120000_bounded_booking_reads.sql",
    "0003": "20261126120100_events_webhooks_outbox.sql",
    "0004": "20261202090000_holds_and_limits.sql",
    "0005": "20261202190000_reschedule.sql",
    "0006": "20261203090000_calendars.sql",
    # 0007 changes SQLite's overlap triggers only: nothing for PostgreSQL, so no file.
    "0008": "20261206120000_prices.sql",
    "0009": "20261206160000_payments.sql",
    "0010": "20261206170000_brand_timezone_locale.sql",
    "0011": "20261206180000_series.sql",
    "0012": "20261206190000_packages.sql",
    "0013": "20261206193000_program_checkout.sql",
    "0014": "20261206200000_location_and_slot_interval.sql",
    "0015": "20261206203000_bookings_search.sql",
    "0016": "20261206220000_locales.sql",
    "0017": "20261206230000_privacy_and_audit.sql",
}

HEADER = """\
-- Booking service schema for Supabase / plain PostgreSQL 15+ ({part}).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

"""


def revision_sql(previous: str | None, revision: str) -> str:
    out = io.StringIO()
    steps = revision if previous is None else f"{previous}:{revision}"
    with contextlib.redirect_stdout(out):
        command.upgrade(alembic_config("postgresql://offline@localhost/offline"), steps, sql=True)
    sql = out.getvalue()
    sql = re.sub(r"CREATE TABLE alembic_version \(.*?\);\n\n", "", sql, flags=re.S)
    sql = re.sub(r"INSERT INTO alembic_version.*?;\n\n?", "", sql)
    sql = re.sub(r"UPDATE alembic_version.*?;\n\n?", "", sql)
    sql = re.sub(r"-- Running upgrade .*\n\n", "", sql)
    return sql.strip() + "\n"


def main() -> None:
    previous = None
    for revision, name in FILES.items():
        part = f"revision {revision}"
        (FOLDER / name).write_text(HEADER.format(part=part) + revision_sql(previous, revision))
        previous = revision


if __name__ == "__main__":
    main()
