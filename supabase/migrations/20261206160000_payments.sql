-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0009).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

ALTER TABLE bookings ADD COLUMN payment_intent VARCHAR(255);

ALTER TABLE bookings ADD COLUMN checkout_session_id VARCHAR(255);

CREATE INDEX ix_bookings_payment_intent ON bookings (payment_intent) WHERE payment_intent IS NOT NULL;

CREATE TABLE checkout_sessions (
    id VARCHAR(255) NOT NULL, 
    booking_id UUID NOT NULL, 
    url TEXT NOT NULL, 
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_checkout_sessions PRIMARY KEY (id), 
    CONSTRAINT fk_checkout_sessions_booking_id_bookings FOREIGN KEY(booking_id) REFERENCES bookings (id) ON DELETE CASCADE
);

CREATE INDEX ix_checkout_sessions_booking_created ON checkout_sessions (booking_id, created_at);

CREATE TABLE payment_tasks (
    id UUID NOT NULL, 
    kind VARCHAR(16) NOT NULL, 
    booking_id UUID NOT NULL, 
    reference VARCHAR(255) NOT NULL, 
    amount BIGINT, 
    attempts INTEGER NOT NULL, 
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    done_at TIMESTAMP WITH TIME ZONE, 
    last_error TEXT, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_payment_tasks PRIMARY KEY (id), 
    CONSTRAINT fk_payment_tasks_booking_id_bookings FOREIGN KEY(booking_id) REFERENCES bookings (id) ON DELETE CASCADE
);

CREATE INDEX ix_payment_tasks_due ON payment_tasks (next_attempt_at) WHERE done_at IS NULL;

CREATE INDEX ix_payment_tasks_booking_id ON payment_tasks (booking_id);

CREATE TABLE stripe_events (
    id VARCHAR(255) NOT NULL, 
    type VARCHAR(100) NOT NULL, 
    received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_stripe_events PRIMARY KEY (id)
);

ALTER TABLE checkout_sessions ENABLE ROW LEVEL SECURITY;

ALTER TABLE payment_tasks ENABLE ROW LEVEL SECURITY;

ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY;

COMMIT;
