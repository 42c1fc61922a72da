"""Alembic environment: runs the history against the URL handed over by `booking.migrate`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from booking.db import create_engine, parse_database_url
from booking.models.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(url: str) -> None:
    engine = create_engine(parse_database_url(url), pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    target = parse_database_url(url)
    context.configure(url=target.url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


database_url = config.attributes["database_url"]
if context.is_offline_mode():
    _run_offline(database_url)
else:
    asyncio.run(_run_online(database_url))
