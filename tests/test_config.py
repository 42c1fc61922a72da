"""DATABASE_URL forms (SPEC §2), settings sources and the development CLI."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import jwt
import pytest

from booking.config import Settings
from booking.db import UnsupportedDatabase, parse_database_url


def test_sqlite_url_gets_the_async_driver() -> None:
    target = parse_database_url("sqlite:///data/booking.db")
    assert target.dialect == "sqlite"
    assert target.url.drivername == "sqlite+aiosqlite"
    assert target.sqlite_file == "data/booking.db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgres_urls_get_asyncpg(scheme: str) -> None:
    target = parse_database_url(f"{scheme}://user:pw@db.example.com:5432/app")
    assert target.dialect == "postgresql"
    assert target.url.drivername == "postgresql+asyncpg"
    assert target.url.host == "db.example.com" and target.url.database == "app"
    assert target.prepared_statements


def test_supabase_pooler_turns_prepared_statements_off() -> None:
    assert not parse_database_url("postgres://u:p@pooler.example.com:6543/postgres").prepared_statements
    explicit = parse_database_url("postgresql://u@h:5432/db?prepared_statements=false&sslmode=require")
    assert not explicit.prepared_statements
    assert dict(explicit.url.query) == {"ssl": "require"}


def test_other_databases_are_refused() -> None:
    with pytest.raises(UnsupportedDatabase):
        parse_database_url("mysql://root@localhost/db")


def test_default_is_a_sqlite_file_in_the_working_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)
    assert parse_database_url(settings.database_url).sqlite_file == "booking.db"


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESEND_FROM_EMAIL", raising=False)
    env = tmp_path / ".env"
    env.write_text("RESEND_FROM_EMAIL=hello@example.com\n")
    assert Settings(_env_file=env).resend_from_email == "hello@example.com"


def test_token_command_mints_a_verifiable_token() -> None:
    sub = str(uuid.uuid4())
    result = subprocess.run(
        [sys.executable, "-m", "booking.cli", "token", "--sub", sub, "--email", "a@example.com"],
        env={"SUPABASE_JWT_SECRET": "cli-secret-long-enough-for-hs256-xxxxxxxx", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    claims = jwt.decode(
        result.stdout.strip(),
        "cli-secret-long-enough-for-hs256-xxxxxxxx",
        algorithms=["HS256"],
        audience="authenticated",
    )
    assert claims["sub"] == sub and claims["email"] == "a@example.com"


def test_token_command_without_secret_says_so(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "booking.cli", "token", "--sub", str(uuid.uuid4())],
        env={"PATH": ""},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "SUPABASE_JWT_SECRET" in result.stderr
