"""All tables (SPEC §4). The schema itself is created by the Alembic history in `migrations/`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from booking.enums import (
    Audience,
    BookingStatus,
    Channel,
    DeliveryStatus,
    EventType,
    MessageState,
    PaymentStatus,
    WebhookDeliveryStatus,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC instants in, aware UTC instants out, on every dialect.

    SQLite has no time zone type: instants are stored as naive UTC text in one fixed format, so that
    string comparison in SQL is time comparison.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _in_utc(value)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return _as_utc(value)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text  # what the two steps above and SQLAlchemy's DATETIME make, in one
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            # The stored text straight to an aware instant, in C: a busy read of a month of bookings
            # brings back a thousand of them, and SQLAlchemy's text parser is a regular expression.
            return _sqlite_instant
        return super().result_processor(dialect, coltype)


def _in_utc(value: datetime) -> datetime:
    """A bound instant in UTC; a naive one is refused, never guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_text(value: datetime | None) -> str | None:
    """An aware instant as SQLite stores it: naive UTC in SQLAlchemy's DATETIME storage format
    (`YYYY-MM-DD HH:MM:SS.ffffff`), written in C; a booking binds about twenty of them."""
    if value is None:
        return None
    return _in_utc(value).isoformat(" ", "microseconds")[:26]


def _sqlite_instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        # Stored naive (UTC by construction): parsed with its offset in one call, five times faster
        # here than parsing and then `replace(tzinfo=UTC)`.
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text that carries an offset of its own
        return _as_utc(datetime.fromisoformat(value))


def stored_enum(enum: type[StrEnum], length: int = 16) -> Enum:
    """A StrEnum column stored as its values in a plain VARCHAR (no database enum type to migrate)."""
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


def utcnow() -> datetime:
    # Only for column defaults of audit timestamps; rules use booking.clock.
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class Brand(Base):
    __tablename__ = "brands"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # A student's pending bookings in the brand (SPEC §10); NULL: no cap.
    max_pending_per_student: Mapped[int | None] = mapped_column(Integer, default=3, server_default="3")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Instructor(Base):
    __tablename__ = "instructors"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstructorBrand(Base):
    """The link between an instructor and a brand. Unlinking keeps the row (bookings refer to it)."""

    __tablename__ = "instructors_brands"

    instructor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column()


class BrandAdmin(Base):
    __tablename__ = "brand_admins"

    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _link_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["instructor_id", "brand_id"],
        ["instructors_brands.instructor_id", "instructors_brands.brand_id"],
        name=f"fk_{table}_instructors_brands",
        ondelete="CASCADE",
    )


class SchedulingSettings(Base):
    __tablename__ = "instructor_scheduling_settings"
    __table_args__ = (_link_fk("instructor_scheduling_settings"),)

    instructor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    brand_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=15)
    advance_booking_days: Mapped[int] = mapped_column(Integer, default=90)
    cancellation_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)
    session_minutes: Mapped[int] = mapped_column(Integer, default=60)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    payment_hold_minutes: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    max_bookings_per_day: Mapped[int | None] = mapped_column(Integer)
    max_bookings_per_week: Mapped[int | None] = mapped_column(Integer)
    reschedule_cutoff_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WeeklyRule(Base):
    """A weekly window; times are minutes after local midnight (1440 is `24:00`)."""

    __tablename__ = "availability_weekly"
    __table_args__ = (_link_fk("availability_weekly"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instructor_id: Mapped[uuid.UUID] = mapped_column()
    brand_id: Mapped[uuid.UUID] = mapped_column()
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class DateOverride(Base):
    __tablename__ = "availability_overrides"
    __table_args__ = (_link_fk("availability_overrides"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instructor_id: Mapped[uuid.UUID] = mapped_column()
    brand_id: Mapped[uuid.UUID] = mapped_column()
    date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    start_minute: Mapped[int | None] = mapped_column(SmallInteger)
    end_minute: Mapped[int | None] = mapped_column(SmallInteger)


class Booking(Base):
    __tablename__ = "bookings"
    __table_args__ = (
        ForeignKeyConstraint(
            ["instructor_id", "brand_id"],
            ["instructors_brands.instructor_id", "instructors_brands.brand_id"],
            name="fk_bookings_instructors_brands",
        ),
        # The indexes of migrations 0001 and 0002; each one serves a read whose cost must not grow with
        # history (docs/performance.md lists which).
        Index("ix_bookings_brand_starts", "brand_id", "starts_at", "id"),
        Index("ix_bookings_brand_created", "brand_id", "created_at", "id"),
        Index("ix_bookings_brand_status_created", "brand_id", "status", "created_at", "id"),
        Index("ix_bookings_instructor_brand_created", "instructor_id", "brand_id", "created_at", "id"),
        Index("ix_bookings_student_brand_created", "student_id", "brand_id", "created_at", "id"),
        Index(
            "ix_bookings_active_instructor_starts",
            "instructor_id",
            "starts_at",
            postgresql_include=["blocked_until", "hold_expires_at", "brand_id"],
            postgresql_where=text("status IN ('pending', 'confirmed')"),
            sqlite_where=text("status IN ('pending', 'confirmed')"),
        ),
        Index(
            "ix_bookings_pending_student_brand",
            "student_id",
            "brand_id",
            postgresql_include=["hold_expires_at"],
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_bookings_hold_expiry",
            "hold_expires_at",
            postgresql_where=text("status = 'pending' AND hold_expires_at IS NOT NULL"),
            sqlite_where=text("status = 'pending' AND hold_expires_at IS NOT NULL"),
        ),
        # The instructor's calendar feed: every booking of every status, by start.
        Index("ix_bookings_instructor_starts", "instructor_id", "starts_at"),
        Index(
            "ix_bookings_unreminded_starts",
            "starts_at",
            postgresql_where=text("status = 'confirmed' AND reminder_claimed_at IS NULL"),
            sqlite_where=text("status = 'confirmed' AND reminder_claimed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    brand_id: Mapped[uuid.UUID] = mapped_column()
    instructor_id: Mapped[uuid.UUID] = mapped_column()
    student_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[BookingStatus] = mapped_column(stored_enum(BookingStatus), default=BookingStatus.PENDING)
    payment_status: Mapped[PaymentStatus] = mapped_column(
        stored_enum(PaymentStatus), default=PaymentStatus.UNPAID
    )
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    # ends_at plus the brand's buffer at booking time: the overlap guard compares these.
    blocked_until: Mapped[datetime] = mapped_column()
    buffer_minutes: Mapped[int] = mapped_column(Integer)
    student_timezone: Mapped[str] = mapped_column(String(64))
    instructor_timezone: Mapped[str] = mapped_column(String(64))
    student_name: Mapped[str | None] = mapped_column(String(200))
    student_email: Mapped[str | None] = mapped_column(String(320))
    student_phone: Mapped[str | None] = mapped_column(String(32))
    instructor_notes: Mapped[str | None] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    reminder_claimed_at: Mapped[datetime | None] = mapped_column()
    # Set only while pending (SPEC §9): the instant the unpaid hold stops blocking; NULL never expires.
    hold_expires_at: Mapped[datetime | None] = mapped_column()
    # Paid after its expired hold's time was taken: the student is owed their money back.
    refund_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    reschedule_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The SEQUENCE of the booking's one calendar event (RFC 5545; see bookings.lifecycle.set_status).
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Who made the booking: the first entry of its history (booking_events holds the changes after).
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BookingEvent(Base):
    """The audit trail: who changed a booking's status, payment or time, and when."""

    __tablename__ = "booking_events"

    # SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a bigint sequence.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[BookingStatus | None] = mapped_column(stored_enum(BookingStatus))
    to_status: Mapped[BookingStatus] = mapped_column(stored_enum(BookingStatus))
    payment_status: Mapped[PaymentStatus | None] = mapped_column(stored_enum(PaymentStatus))
    # A move (SPEC §11): both starts; NULL on status and payment entries.
    from_starts_at: Mapped[datetime | None] = mapped_column()
    to_starts_at: Mapped[datetime | None] = mapped_column()
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    caller: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationLog(Base):
    __tablename__ = "notification_log"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel, 8))
    # Kinds are open-ended text (later features add their own); NotificationKind names today's.
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(320))
    status: Mapped[DeliveryStatus] = mapped_column(stored_enum(DeliveryStatus, 8))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def status_is(*statuses: BookingStatus) -> ColumnElement[bool]:
    """`bookings.status IN (…)` with the statuses written into the SQL, not sent as parameters.

    The partial indexes on bookings (`WHERE status IN ('pending', 'confirmed')`, …) then match a
    prepared statement's generic plan too, not only the plans made for each set of parameters.
    """
    return one_of(Booking.status, statuses)


def one_of(column: Any, values: Iterable[StrEnum]) -> ColumnElement[bool]:
    """`column IN (…)` with the values written into the SQL, so that partial indexes match any plan.

    One value is written as `=`: SQLite matches a partial index's `WHERE status = 'pending'` only then.
    Written as SQL text when the statement is built, so that a statement compiled once and sent to the
    driver (booking.driver) carries them too; the values are this code's own names, never input.
    """
    written = [literal_column(f"'{_sql_name(value)}'", column.type) for value in values]
    condition = column == written[0] if len(written) == 1 else column.in_(written)
    return cast(ColumnElement[bool], condition)


def _sql_name(value: StrEnum) -> str:
    if not value.value.replace("_", "").isalnum() or not value.value.isascii():
        raise ValueError(f"not a plain name: {value.value!r}")
    return value.value


class Event(Base):
    """A change of a booking's state, written in the change's transaction (SPEC §12)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_booking_id", "booking_id"),
        Index(
            "ix_events_undispatched",
            "created_at",
            postgresql_where=text("dispatched_at IS NULL"),
            sqlite_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    type: Mapped[EventType] = mapped_column(stored_enum(EventType, 32))
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    # JSON of the webhook's `data`: the booking as staff see it (and `previous` for a reschedule).
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    # When the worker turned it into one delivery per subscribed endpoint.
    dispatched_at: Mapped[datetime | None] = mapped_column()


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_brand_id", "brand_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    brand_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("brands.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(Text)  # JSON list of event types, or ["*"]
    enabled: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class WebhookDelivery(Base):
    """One event to one endpoint; its `id` is the `webhook-id` header, the same on every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    event_type: Mapped[EventType] = mapped_column(stored_enum(EventType, 32))
    booking_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[WebhookDeliveryStatus] = mapped_column(stored_enum(WebhookDeliveryStatus))
    attempts: Mapped[int] = mapped_column(Integer)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()


class OutboxMessage(Base):
    """An email or SMS committed with the change that caused it, until it is sent or given up."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_change_id", "change_id"),
        Index("ix_outbox_messages_booking_id", "booking_id"),
        Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('queued', 'sending', 'retrying')"),
            sqlite_where=text("status IN ('queued', 'sending', 'retrying')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    change_id: Mapped[uuid.UUID] = mapped_column()
    audience: Mapped[Audience] = mapped_column(stored_enum(Audience))
    channel: Mapped[Channel] = mapped_column(stored_enum(Channel, 8))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    message: Mapped[str] = mapped_column(Text)  # JSON of the composed Email or Sms
    status: Mapped[MessageState] = mapped_column(stored_enum(MessageState))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()
    give_up_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()


class CalendarFeed(Base):
    """An instructor's subscribable feed (SPEC §13): one per instructor; a new one replaces the old."""

    __tablename__ = "calendar_feeds"

    instructor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("instructors.id", ondelete="CASCADE"), primary_key=True
    )
    # SHA-256 of the secret in the feed's URL, hex: the secret itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()


class BusyCalendar(Base):
    """One of an instructor's own calendars (an iCalendar URL) whose events block their time (SPEC §13)."""

    __tablename__ = "busy_calendars"
    __table_args__ = (
        UniqueConstraint("instructor_id", "url", name="uq_busy_calendars_instructor_url"),
        Index("ix_busy_calendars_next_sync", "next_sync_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instructors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    position: Mapped[int] = mapped_column(Integer)  # its place in the instructor's list
    created_at: Mapped[datetime] = mapped_column()
    last_synced_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    busy_count: Mapped[int] = mapped_column(Integer, default=0)
    # The validators of the last good answer, for a conditional GET.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # How far the stored busy time reaches: a conditional GET is only asked while it covers the window.
    expanded_until: Mapped[datetime | None] = mapped_column()
    next_sync_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column()


class BusyInterval(Base):
    """Busy time read from a busy calendar, in pieces of at most a day (so the busy read is a bounded
    index range), replaced as a whole by each successful sync."""

    __tablename__ = "busy_intervals"
    __table_args__ = (
        Index(
            "ix_busy_intervals_instructor_starts",
            "instructor_id",
            "starts_at",
            postgresql_include=["ends_at"],
        ),
    )

    calendar_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("busy_calendars.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(primary_key=True)
    ends_at: Mapped[datetime] = mapped_column()
    instructor_id: Mapped[uuid.UUID] = mapped_column()
