-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0016).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE instructors ADD COLUMN locale VARCHAR(8);

ALTER TABLE bookings ADD COLUMN locale VARCHAR(8) DEFAULT 'en' NOT NULL;

UPDATE bookings SET locale = (SELECT brands.locale FROM brands WHERE brands.id = bookings.brand_id) WHERE EXISTS (SELECT 1 FROM brands WHERE brands.id = bookings.brand_id AND brands.locale <> 'en');

COMMIT;
