-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0008).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE brands ADD COLUMN currency VARCHAR(3) DEFAULT 'usd' NOT NULL;

ALTER TABLE instructor_scheduling_settings ADD COLUMN price_amount BIGINT;

ALTER TABLE instructor_scheduling_settings ADD COLUMN refund_percent SMALLINT DEFAULT '100' NOT NULL;

ALTER TABLE bookings ADD COLUMN price_amount BIGINT;

ALTER TABLE bookings ADD COLUMN price_currency VARCHAR(3);

ALTER TABLE bookings ADD COLUMN refund_percent SMALLINT;

ALTER TABLE bookings ADD COLUMN payment_provider VARCHAR(16);

ALTER TABLE bookings ADD COLUMN amount_paid BIGINT DEFAULT '0' NOT NULL;

ALTER TABLE bookings ADD COLUMN amount_refunded BIGINT DEFAULT '0' NOT NULL;

ALTER TABLE bookings ADD COLUMN refund_status VARCHAR(16);

COMMIT;
