-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0001).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE TABLE brands (
    id UUID NOT NULL, 
    slug VARCHAR(64) NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_brands PRIMARY KEY (id), 
    CONSTRAINT uq_brands_slug UNIQUE (slug)
);

CREATE TABLE instructors (
    id UUID NOT NULL, 
    user_id UUID, 
    name VARCHAR(200) NOT NULL, 
    email VARCHAR(320) NOT NULL, 
    phone VARCHAR(32), 
    timezone VARCHAR(64) NOT NULL, 
    active BOOLEAN NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_instructors PRIMARY KEY (id), 
    CONSTRAINT uq_instructors_user_id UNIQUE (user_id)
);

CREATE TABLE instructors_brands (
    instructor_id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    unlinked_at TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_instructors_brands PRIMARY KEY (instructor_id, brand_id), 
    CONSTRAINT fk_instructors_brands_instructor_id_instructors FOREIGN KEY(instructor_id) REFERENCES instructors (id) ON DELETE CASCADE, 
    CONSTRAINT fk_instructors_brands_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE
);

CREATE INDEX ix_instructors_brands_brand_id ON instructors_brands (brand_id);

CREATE TABLE brand_admins (
    brand_id UUID NOT NULL, 
    user_id UUID NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_brand_admins PRIMARY KEY (brand_id, user_id), 
    CONSTRAINT fk_brand_admins_brand_id_brands FOREIGN KEY(brand_id) REFERENCES brands (id) ON DELETE CASCADE
);

CREATE INDEX ix_brand_admins_user_id ON brand_admins (user_id);

CREATE TABLE instructor_scheduling_settings (
    instructor_id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    buffer_minutes INTEGER DEFAULT '15' NOT NULL, 
    advance_booking_days INTEGER DEFAULT '90' NOT NULL, 
    cancellation_cutoff_hours INTEGER DEFAULT '24' NOT NULL, 
    session_minutes INTEGER DEFAULT '60' NOT NULL, 
    min_notice_minutes INTEGER DEFAULT '0' NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_instructor_scheduling_settings PRIMARY KEY (instructor_id, brand_id), 
    CONSTRAINT fk_instructor_scheduling_settings_instructors_brands FOREIGN KEY(instructor_id, brand_id) REFERENCES instructors_brands (instructor_id, brand_id) ON DELETE CASCADE, 
    CONSTRAINT ck_instructor_scheduling_settings_buffer_minutes CHECK (buffer_minutes BETWEEN 0 AND 240), 
    CONSTRAINT ck_instructor_scheduling_settings_advance_booking_days CHECK (advance_booking_days BETWEEN 1 AND 730), 
    CONSTRAINT ck_instructor_scheduling_settings_cancellation_cutoff_hours CHECK (cancellation_cutoff_hours BETWEEN 0 AND 720), 
    CONSTRAINT ck_instructor_scheduling_settings_session_minutes CHECK (session_minutes BETWEEN 5 AND 480), 
    CONSTRAINT ck_instructor_scheduling_settings_min_notice_minutes CHECK (min_notice_minutes BETWEEN 0 AND 10080)
);

CREATE TABLE availability_weekly (
    id UUID NOT NULL, 
    instructor_id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    weekday SMALLINT NOT NULL, 
    start_minute SMALLINT NOT NULL, 
    end_minute SMALLINT NOT NULL, 
    CONSTRAINT pk_availability_weekly PRIMARY KEY (id), 
    CONSTRAINT fk_availability_weekly_instructors_brands FOREIGN KEY(instructor_id, brand_id) REFERENCES instructors_brands (instructor_id, brand_id) ON DELETE CASCADE, 
    CONSTRAINT ck_availability_weekly_weekday CHECK (weekday BETWEEN 0 AND 6), 
    CONSTRAINT ck_availability_weekly_window CHECK (start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440)
);

CREATE INDEX ix_availability_weekly_instructor_brand ON availability_weekly (instructor_id, brand_id);

CREATE TABLE availability_overrides (
    id UUID NOT NULL, 
    instructor_id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    date DATE NOT NULL, 
    kind VARCHAR(16) NOT NULL, 
    start_minute SMALLINT, 
    end_minute SMALLINT, 
    CONSTRAINT pk_availability_overrides PRIMARY KEY (id), 
    CONSTRAINT fk_availability_overrides_instructors_brands FOREIGN KEY(instructor_id, brand_id) REFERENCES instructors_brands (instructor_id, brand_id) ON DELETE CASCADE, 
    CONSTRAINT ck_availability_overrides_kind_window CHECK ((kind = 'blocked' AND start_minute IS NULL AND end_minute IS NULL) OR (kind = 'custom' AND start_minute >= 0 AND start_minute < end_minute AND end_minute <= 1440))
);

CREATE INDEX ix_availability_overrides_instructor_brand_date ON availability_overrides (instructor_id, brand_id, date);

CREATE TABLE bookings (
    id UUID NOT NULL, 
    brand_id UUID NOT NULL, 
    instructor_id UUID NOT NULL, 
    student_id UUID NOT NULL, 
    status VARCHAR(16) NOT NULL, 
    payment_status VARCHAR(16) NOT NULL, 
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    blocked_until TIMESTAMP WITH TIME ZONE NOT NULL, 
    buffer_minutes INTEGER NOT NULL, 
    student_timezone VARCHAR(64) NOT NULL, 
    instructor_timezone VARCHAR(64) NOT NULL, 
    student_name VARCHAR(200), 
    student_email VARCHAR(320), 
    student_phone VARCHAR(32), 
    instructor_notes TEXT, 
    cancellation_reason TEXT, 
    reminder_claimed_at TIMESTAMP WITH TIME ZONE, 
    created_by VARCHAR(80) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_bookings PRIMARY KEY (id), 
    CONSTRAINT fk_bookings_instructors_brands FOREIGN KEY(instructor_id, brand_id) REFERENCES instructors_brands (instructor_id, brand_id), 
    CONSTRAINT ck_bookings_status CHECK (status IN ('pending', 'confirmed', 'completed', 'cancelled', 'no_show')), 
    CONSTRAINT ck_bookings_payment_status CHECK (payment_status IN ('unpaid', 'paid')), 
    CONSTRAINT ck_bookings_interval CHECK (starts_at < ends_at AND ends_at <= blocked_until AND buffer_minutes >= 0)
);

CREATE INDEX ix_bookings_instructor_starts ON bookings (instructor_id, starts_at);

CREATE INDEX ix_bookings_brand_starts ON bookings (brand_id, starts_at, id);

CREATE INDEX ix_bookings_student ON bookings (student_id);

CREATE INDEX ix_bookings_status_starts ON bookings (status, starts_at);

CREATE TABLE booking_events (
    id BIGSERIAL NOT NULL, 
    booking_id UUID NOT NULL, 
    from_status VARCHAR(16), 
    to_status VARCHAR(16) NOT NULL, 
    payment_status VARCHAR(16), 
    actor VARCHAR(80) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_booking_events PRIMARY KEY (id), 
    CONSTRAINT fk_booking_events_booking_id_bookings FOREIGN KEY(booking_id) REFERENCES bookings (id) ON DELETE CASCADE
);

CREATE INDEX ix_booking_events_booking_id ON booking_events (booking_id);

CREATE TABLE idempotency_keys (
    caller VARCHAR(80) NOT NULL, 
    key VARCHAR(255) NOT NULL, 
    request_hash VARCHAR(64) NOT NULL, 
    response_status INTEGER, 
    response_body TEXT, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_idempotency_keys PRIMARY KEY (caller, key)
);

CREATE TABLE notification_log (
    id UUID NOT NULL, 
    booking_id UUID NOT NULL, 
    channel VARCHAR(8) NOT NULL, 
    kind VARCHAR(32) NOT NULL, 
    recipient VARCHAR(320), 
    status VARCHAR(8) NOT NULL, 
    provider_message_id VARCHAR(128), 
    error TEXT, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_notification_log PRIMARY KEY (id), 
    CONSTRAINT ck_notification_log_channel CHECK (channel IN ('email', 'sms')), 
    CONSTRAINT ck_notification_log_status CHECK (status IN ('sent', 'failed', 'skipped')), 
    CONSTRAINT fk_notification_log_booking_id_bookings FOREIGN KEY(booking_id) REFERENCES bookings (id) ON DELETE CASCADE
);

CREATE INDEX ix_notification_log_booking_id ON notification_log (booking_id);

CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist (instructor_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) WHERE (status IN ('pending', 'confirmed'));

ALTER TABLE brands ENABLE ROW LEVEL SECURITY;

ALTER TABLE instructors ENABLE ROW LEVEL SECURITY;

ALTER TABLE instructors_brands ENABLE ROW LEVEL SECURITY;

ALTER TABLE brand_admins ENABLE ROW LEVEL SECURITY;

ALTER TABLE instructor_scheduling_settings ENABLE ROW LEVEL SECURITY;

ALTER TABLE availability_weekly ENABLE ROW LEVEL SECURITY;

ALTER TABLE availability_overrides ENABLE ROW LEVEL SECURITY;

ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;

ALTER TABLE booking_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;

ALTER TABLE notification_log ENABLE ROW LEVEL SECURITY;

COMMIT;
