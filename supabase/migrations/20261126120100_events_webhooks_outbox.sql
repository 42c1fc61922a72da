-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0003).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE TABLE events (
    id UUID NOT NULL, 
    type VARCHAR(32) NOT NULL, 
    brand_id UUID NOT NULL, 
    booking_id UUID NOT NULL, 
    data TEXT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    dispatched_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_events PRIMARY KEY (id), 
    CONSTRAINT fk_events_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE, 
    CONSTRAINT fk_events_booking_id_bookings FOREIGN KEY(booking_id) REFERENCES bookings (id) ON DELETE CASCADE
);

CREATE INDEX ix_events_booking_id ON events (booking_id);

CREATE INDEX ix_events_undispatched ON events (created_at) WHERE dispatched_at IS NULL;

CREATE TABLE webhook_endpoints (
    id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    url VARCHAR(2000) NOT NULL, 
    events TEXT NOT NULL, 
    enabled BOOLEAN NOT NULL, 
    description TEXT, 
    secret VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_webhook_endpoints PRIMARY KEY (id), 
    CONSTRAINT fk_webhook_endpoints_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE
);

CREATE INDEX ix_webhook_endpoints_brand_id ON webhook_endpoints (brand_id, created_at);

CREATE TABLE webhook_deliveries (
    id VARCHAR(40) NOT NULL, 
    endpoint_id UUID NOT NULL, 
    event_id UUID NOT NULL, 
    event_type VARCHAR(32) NOT NULL, 
    booking_id UUID NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    attempts INTEGER NOT NULL, 
    last_status_code INTEGER, 
    last_error TEXT, 
    next_attempt_at TIMESTAMP WITH TIME ZONE, 
    locked_until TIMESTAMP WITH TIME ZONE, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    delivered_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_webhook_deliveries PRIMARY KEY (id), 
    CONSTRAINT ck_webhook_deliveries_status CHECK (status IN ('pending', 'delivered', 'failed')), 
    CONSTRAINT uq_webhook_deliveries_endpoint_event UNIQUE (endpoint_id, event_id), 
    CONSTRAINT fk_webhook_deliveries_endpoint_id_webhook_endpoints FOREIGN KEY(endpoint_id) REFERENCES webhook_endpoints (id) ON DELETE CASCADE, 
    CONSTRAINT fk_webhook_deliveries_event_id_events FOREIGN KEY(event_id) REFERENCES events (id) ON DELETE CASCADE
);

CREATE INDEX ix_webhook_deliveries_endpoint_created ON webhook_deliveries (endpoint_id, created_at);

CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE outbox_messages (
    id UUID NOT NULL, 
    booking_id UUID NOT NULL, 
    change_id UUID NOT NULL, 
    audience VARCHAR(16) NOT NULL, 
    channel VARCHAR(8) NOT NULL, 
    kind VARCHAR(32) NOT NULL, 
    recipient VARCHAR(320) NOT NULL, 
    message TEXT NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    attempts INTEGER NOT NULL, 
    last_error TEXT, 
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    locked_until TIMESTAMP WITH TIME ZONE, 
    give_up_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_outbox_messages PRIMARY KEY (id), 
    CONSTRAINT ck_outbox_messages_status CHECK (status IN ('queued', 'sending', 'retrying', 'sent', 'failed', 'skipped', 'held')), 
    CONSTRAINT fk_outbox_messages_booking_id_bookings FOREIGN KEY(booking_id) REFERENCES bookings (id) ON DELETE CASCADE
);

CREATE INDEX ix_outbox_messages_change_id ON outbox_messages (change_id);

CREATE INDEX ix_outbox_messages_booking_id ON outbox_messages (booking_id);

CREATE INDEX ix_outbox_messages_due ON outbox_messages (next_attempt_at) WHERE status IN ('queued', 'sending', 'retrying');

ALTER TABLE events ENABLE ROW LEVEL SECURITY;

ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;

ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;

ALTER TABLE outbox_messages ENABLE ROW LEVEL SECURITY;

COMMIT;
