-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0012).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE TABLE packages (
    id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    sessions SMALLINT NOT NULL, 
    valid_days SMALLINT NOT NULL, 
    price_amount BIGINT NOT NULL, 
    instructor_ids TEXT, 
    active BOOLEAN NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_packages PRIMARY KEY (id), 
    CONSTRAINT fk_packages_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE
);

CREATE INDEX ix_packages_brand_created ON packages (brand_id, created_at, id);

CREATE TABLE passes (
    id UUID NOT NULL, 
    package_id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    student_id UUID NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    sessions_total SMALLINT NOT NULL, 
    sessions_left SMALLINT NOT NULL, 
    valid_days SMALLINT NOT NULL, 
    instructor_ids TEXT, 
    status VARCHAR(16) NOT NULL, 
    valid_until TIMESTAMP WITH TIME ZONE, 
    activated_at TIMESTAMP WITH TIME ZONE, 
    price_amount BIGINT NOT NULL, 
    price_currency VARCHAR(3) NOT NULL, 
    payment_provider VARCHAR(16), 
    amount_paid BIGINT NOT NULL, 
    amount_refunded BIGINT NOT NULL, 
    refund_status VARCHAR(16), 
    payment_intent VARCHAR(255), 
    created_by VARCHAR(80) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_passes PRIMARY KEY (id), 
    CONSTRAINT ck_passes_sessions_left_not_negative CHECK (sessions_left >= 0), 
    CONSTRAINT fk_passes_package_id_packages FOREIGN KEY(package_id) REFERENCES packages (id) ON DELETE CASCADE, 
    CONSTRAINT fk_passes_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE
);

CREATE INDEX ix_passes_brand_created ON passes (brand_id, created_at, id);

CREATE INDEX ix_passes_student_brand_created ON passes (student_id, brand_id, created_at, id);

ALTER TABLE bookings ADD COLUMN pass_id UUID;

ALTER TABLE bookings ADD CONSTRAINT fk_bookings_pass_id_passes FOREIGN KEY(pass_id) REFERENCES passes (id) ON DELETE SET NULL;

CREATE INDEX ix_bookings_pass_id ON bookings (pass_id) WHERE pass_id IS NOT NULL;

ALTER TABLE events ALTER COLUMN booking_id DROP NOT NULL;

ALTER TABLE webhook_deliveries ALTER COLUMN booking_id DROP NOT NULL;

ALTER TABLE packages ENABLE ROW LEVEL SECURITY;

ALTER TABLE passes ENABLE ROW LEVEL SECURITY;

COMMIT;
