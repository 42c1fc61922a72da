"""Column builders shared by the migration scripts (frozen in meaning: changing one changes history)."""

from __future__ import annotations

import sqlalchemy as sa

from booking.models.base import UTCDateTime


def uuid_column(
    name: str, *args: sa.ForeignKey, primary_key: bool = False, nullable: bool = False
) -> sa.Column[object]:
    return sa.Column(name, sa.Uuid(), *args, primary_key=primary_key, nullable=nullable)


def instant_column(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)
