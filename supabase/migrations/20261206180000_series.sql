-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0011).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE TABLE series (
    id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    instructor_id UUID NOT NULL, 
    student_id UUID NOT NULL, 
    count SMALLINT NOT NULL, 
    every_weeks SMALLINT NOT NULL, 
    created_by VARCHAR(80) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_series PRIMARY KEY (id), 
    CONSTRAINT fk_series_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE, 
    CONSTRAINT fk_series_instructor_id_instructors FOREIGN KEY(instructor_id) REFERENCES instructors (id) ON DELETE CASCADE
);

ALTER TABLE bookings ADD COLUMN series_id UUID;

ALTER TABLE bookings ADD CONSTRAINT fk_bookings_series_id_series FOREIGN KEY(series_id) REFERENCES series (id) ON DELETE CASCADE;

ALTER TABLE bookings ADD COLUMN series_index SMALLINT;

CREATE INDEX ix_bookings_series_index ON bookings (series_id, series_index) WHERE series_id IS NOT NULL;

ALTER TABLE series ENABLE ROW LEVEL SECURITY;

COMMIT;
