-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0002).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE INDEX ix_bookings_brand_created ON bookings (brand_id, created_at, id);

CREATE INDEX ix_bookings_brand_status_created ON bookings (brand_id, status, created_at, id);

CREATE INDEX ix_bookings_instructor_brand_created ON bookings (instructor_id, brand_id, created_at, id);

CREATE INDEX ix_bookings_student_brand_created ON bookings (student_id, brand_id, created_at, id);

CREATE INDEX ix_bookings_active_instructor_starts ON bookings (instructor_id, starts_at) INCLUDE (blocked_until) WHERE status IN ('pending', 'confirmed');

CREATE INDEX ix_bookings_unreminded_starts ON bookings (starts_at) WHERE status = 'confirmed' AND reminder_claimed_at IS NULL;

DROP INDEX ix_bookings_status_starts;

DROP INDEX ix_bookings_instructor_starts;

DROP INDEX ix_bookings_student;

COMMIT;
