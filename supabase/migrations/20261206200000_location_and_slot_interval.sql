-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0014).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE instructor_scheduling_settings ADD COLUMN slot_interval_minutes SMALLINT;

ALTER TABLE instructor_scheduling_settings ADD COLUMN location VARCHAR(500);

ALTER TABLE bookings ADD COLUMN location VARCHAR(600);

COMMIT;
