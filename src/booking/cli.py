"""The `booking` command: serve, worker, migrate, token, send-reminders, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence

import uvicorn

from booking.auth import mint_token
from booking.config import Settings
from booking.db import parse_database_url
from booking.metrics import prepare_multiprocess_dir
from booking.migrate import upgrade

log = logging.getLogger("booking")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="booking", description="Booking service for 1:1 coaching sessions")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API")
    _add_server_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply the schema migrations to DATABASE_URL")
    migrate.set_defaults(run=_migrate)

    token = commands.add_parser("token", help="mint a user token with SUPABASE_JWT_SECRET (development)")
    token.add_argument("--sub", required=True, help="user id (uuid)")
    token.add_argument("--role", default="authenticated", help="authenticated or service_role")
    token.add_argument("--email")
    token.add_argument("--phone")
    token.add_argument("--ttl-hours", type=int, default=24)
    token.set_defaults(run=_token)

    worker = commands.add_parser("worker", help="run the background work (webhooks, messages, reminders)")
    worker.set_defaults(run=_worker)

    reminders = commands.add_parser("send-reminders", help="send the due 24 h reminders once (for cron)")
    reminders.set_defaults(run=_send_reminders)

    demo = commands.add_parser("demo", help="start on SQLite with a demo brand, instructors and tokens")
    _add_server_options(demo)
    demo.add_argument("--database", default="sqlite:///booking-demo.db", help="SQLite URL for the demo data")
    demo.set_defaults(run=_demo)
    return parser


def _add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)


def _serve(args: argparse.Namespace) -> int:
    settings = Settings()
    if parse_database_url(settings.database_url).dialect == "sqlite":
        # The embedded default needs no set-up step: bring its schema up to date first.
        upgrade(settings.database_url)
    prepare_multiprocess_dir()
    uvicorn.run(
        "booking.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        # uvicorn's access log writes at INFO: above that level, not even the line's arguments are made.
        access_log=_level(settings.log_level) <= logging.INFO,
        timeout_graceful_shutdown=10,
    )
    return 0


def _level(name: str) -> int:
    return logging.getLevelNamesMapping().get(name.upper(), logging.INFO)


def _migrate(_: argparse.Namespace) -> int:
    settings = Settings()
    upgrade(settings.database_url)
    log.info("schema is up to date (%s)", parse_database_url(settings.database_url).dialect)
    return 0


def _token(args: argparse.Namespace) -> int:
    secret = Settings().supabase_jwt_secret
    if not secret:
        print("SUPABASE_JWT_SECRET is not set: there is nothing to sign with.", file=sys.stderr)
        return 2
    print(
        mint_token(
            secret,
            sub=args.sub,
            role=args.role,
            email=args.email,
            phone=args.phone,
            ttl_seconds=args.ttl_hours * 3600,
        )
    )
    return 0


def _worker(_: argparse.Namespace) -> int:
    settings = Settings()
    if parse_database_url(settings.database_url).dialect == "sqlite":
        upgrade(settings.database_url)
    asyncio.run(run_worker(settings))
    return 0


async def run_worker(settings: Settings) -> None:
    """`booking worker`: the loop until SIGTERM or SIGINT, which let the current pass finish."""
    from booking.context import AppContext
    from booking.jobs import background_jobs

    context = AppContext.from_settings(settings, jobs=background_jobs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker started (%s)", context.db.dialect)
    try:
        await context.worker.run(stop)
    finally:
        await context.aclose()
    log.info("worker stopped")


def _send_reminders(_: argparse.Namespace) -> int:
    print(asyncio.run(run_reminders(Settings())))
    return 0


async def run_reminders(settings: Settings) -> str:
    """`booking send-reminders`: the reminder run without HTTP, for cron on a host with database access."""
    from booking.bookings.reminders import send_due_reminders
    from booking.bookings.render import reminder_result
    from booking.clock import SystemClock
    from booking.db import Database
    from booking.notifications.notifier import Notifier

    db = Database(parse_database_url(settings.database_url), pool_size=2)
    notifier = Notifier.from_settings(settings)
    try:
        results = await send_due_reminders(notifier, db, SystemClock().now())
    finally:
        await notifier.aclose()
        await db.dispose()
    results_json = [reminder_result(result).model_dump(mode="json") for result in results]
    return json.dumps({"reminded": len(results), "results": results_json})


def _demo(args: argparse.Namespace) -> int:
    from booking.demo import run_demo

    if parse_database_url(args.database).dialect != "sqlite":
        print("the demo runs on SQLite only; use `booking serve` for PostgreSQL", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = args.database
    return run_demo(host=args.host, port=args.port)


if __name__ == "__main__":
    raise SystemExit(main())
