-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0004).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE instructor_scheduling_settings ADD COLUMN payment_hold_minutes INTEGER DEFAULT '30' NOT NULL;

ALTER TABLE instructor_scheduling_settings ADD COLUMN max_bookings_per_day INTEGER;

ALTER TABLE instructor_scheduling_settings ADD COLUMN max_bookings_per_week INTEGER;

ALTER TABLE brands ADD COLUMN max_pending_per_student INTEGER DEFAULT '3';

ALTER TABLE bookings ADD COLUMN hold_expires_at TIMESTAMP WITH TIME ZONE;

ALTER TABLE bookings ADD COLUMN refund_due BOOLEAN DEFAULT false NOT NULL;

DROP INDEX ix_bookings_active_instructor_starts;

CREATE INDEX ix_bookings_active_instructor_starts ON bookings (instructor_id, starts_at) INCLUDE (blocked_until, hold_expires_at, brand_id) WHERE status IN ('pending', 'confirmed');

CREATE INDEX ix_bookings_pending_student_brand ON bookings (student_id, brand_id) INCLUDE (hold_expires_at) WHERE status = 'pending';

CREATE INDEX ix_bookings_hold_expiry ON bookings (hold_expires_at) WHERE status = 'pending' AND hold_expires_at IS NOT NULL;

COMMIT;
