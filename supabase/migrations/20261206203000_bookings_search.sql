-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0015).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX ix_bookings_student_name_trgm ON bookings USING gin (lower(student_name) gin_trgm_ops);

CREATE INDEX ix_bookings_student_email_trgm ON bookings USING gin (lower(student_email) gin_trgm_ops);

COMMIT;
