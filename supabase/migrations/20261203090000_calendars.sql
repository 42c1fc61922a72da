-- Booking service schema for Supabase / plain PostgreSQL 15+ (revision 0006).
--
-- Together with the other files of this folder, applied in name order, the same schema as the
-- service's Alembic history; a test applies both to fresh databases and compares their catalogues.
-- Apply with `supabase db push`, or:
--   for f in supabase/migrations/*.sql; do psql -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$f"; done
-- Row level security is enabled on every table with no policy, so Supabase's auto-generated REST API
-- exposes nothing: the booking service (connecting as the table owner) is the only way in.

BEGIN;

CREATE TABLE calendar_feeds (
    instructor_id UUID NOT NULL, 
    secret_hash VARCHAR(64) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_calendar_feeds PRIMARY KEY (instructor_id), 
    CONSTRAINT uq_calendar_feeds_secret_hash UNIQUE (secret_hash), 
    CONSTRAINT fk_calendar_feeds_instructor_id_instructors FOREIGN KEY(instructor_id) REFERENCES instructors (id) ON DELETE CASCADE
);

CREATE TABLE busy_calendars (
    id UUID NOT NULL, 
    instructor_id UUID NOT NULL, 
    url VARCHAR(2000) NOT NULL, 
    position INTEGER NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    last_synced_at TIMESTAMP WITH TIME ZONE, 
    last_error TEXT, 
    busy_count INTEGER NOT NULL, 
    etag VARCHAR(500), 
    last_modified VARCHAR(100), 
    expanded_until TIMESTAMP WITH TIME ZONE, 
    next_sync_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    locked_until TIMESTAMP WITH TIME ZONE, 
    CONSTRAINT pk_busy_calendars PRIMARY KEY (id), 
    CONSTRAINT uq_busy_calendars_instructor_url UNIQUE (instructor_id, url), 
    CONSTRAINT fk_busy_calendars_instructor_id_instructors FOREIGN KEY(instructor_id) REFERENCES instructors (id) ON DELETE CASCADE
);

CREATE INDEX ix_busy_calendars_next_sync ON busy_calendars (next_sync_at);

CREATE TABLE busy_intervals (
    calendar_id UUID NOT NULL, 
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    instructor_id UUID NOT NULL, 
    CONSTRAINT pk_busy_intervals PRIMARY KEY (calendar_id, starts_at), 
    CONSTRAINT fk_busy_intervals_calendar_id_busy_calendars FOREIGN KEY(calendar_id) REFERENCES busy_calendars (id) ON DELETE CASCADE
);

CREATE INDEX ix_busy_intervals_instructor_starts ON busy_intervals (instructor_id, starts_at) INCLUDE (ends_at);

CREATE INDEX ix_bookings_instructor_starts ON bookings (instructor_id, starts_at);

ALTER TABLE calendar_feeds ENABLE ROW LEVEL SECURITY;

ALTER TABLE busy_calendars ENABLE ROW LEVEL SECURITY;

ALTER TABLE busy_intervals ENABLE ROW LEVEL SECURITY;

COMMIT;
