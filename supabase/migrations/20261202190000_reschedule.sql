-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0005).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE instructor_scheduling_settings ADD COLUMN reschedule_cutoff_hours INTEGER DEFAULT '24' NOT NULL;

ALTER TABLE bookings ADD COLUMN reschedule_count INTEGER DEFAULT '0' NOT NULL;

ALTER TABLE bookings ADD COLUMN calendar_sequence INTEGER DEFAULT '0' NOT NULL;

ALTER TABLE booking_events ADD COLUMN from_starts_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE booking_events ADD COLUMN to_starts_at TIMESTAMP WITH TIME ZONE;

COMMIT;
