-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0013).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE checkout_sessions ALTER COLUMN booking_id DROP NOT NULL;

ALTER TABLE checkout_sessions ADD COLUMN series_id UUID;

ALTER TABLE checkout_sessions ADD CONSTRAINT fk_checkout_sessions_series_id_series FOREIGN KEY(series_id) REFERENCES series (id) ON DELETE CASCADE;

ALTER TABLE checkout_sessions ADD COLUMN pass_id UUID;

ALTER TABLE checkout_sessions ADD CONSTRAINT fk_checkout_sessions_pass_id_passes FOREIGN KEY(pass_id) REFERENCES passes (id) ON DELETE CASCADE;

ALTER TABLE checkout_sessions ADD COLUMN amount BIGINT;

ALTER TABLE checkout_sessions ADD COLUMN covers TEXT;

CREATE INDEX ix_checkout_sessions_series_created ON checkout_sessions (series_id, created_at);

CREATE INDEX ix_checkout_sessions_pass_created ON checkout_sessions (pass_id, created_at);

COMMIT;
