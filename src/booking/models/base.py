"""The declarative base and the column types every table shares: aware UTC instants, stored enums."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, cast

from sqlalchemy import (
    DateTime,
    Dialect,
    Enum,
    MetaData,
    TypeDecorator,
    Uuid,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.elements import ColumnElement

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
