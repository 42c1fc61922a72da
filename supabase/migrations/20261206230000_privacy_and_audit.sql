-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0017).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE TABLE audit_log (
    id BIGSERIAL NOT NULL, 
    brand_id UUID NOT NULL, 
    at TIMESTAMP WITH TIME ZONE NOT NULL, 
    actor_type VARCHAR(16) NOT NULL, 
    actor_id UUID, 
    action VARCHAR(40) NOT NULL, 
    target_type VARCHAR(24) NOT NULL, 
    target_id UUID NOT NULL, 
    student_id UUID, 
    changes TEXT NOT NULL, 
    CONSTRAINT pk_audit_log PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_brand_at ON audit_log (brand_id, at, id);

CREATE INDEX ix_audit_log_brand_target_at ON audit_log (brand_id, target_id, at, id);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;

ALTER TABLE bookings ADD COLUMN student_erased BOOLEAN DEFAULT false NOT NULL;

COMMIT;
