"""Real server processes on loopback, for tests that need HTTP across processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fake_providers import Providers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up in {timeout} s")


def service_env(database_url: str, providers: Providers, **extra: str) -> dict[str, str]:
    """The environment of a test server or worker process: keys, the fake providers, `extra` last."""
    from tests.support import REMINDER_KEY, SECRET, SERVICE_KEY

    env = {
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
        "BOOKING_REMINDER_API_KEY": REMINDER_KEY,
        "NOTIFICATION_TIMEOUT_SECONDS": "2",
        "LOG_LEVEL": "warning",
    }
    return env | {name.upper(): str(value) for name, value in providers.settings().items()} | extra


@contextmanager
def booking_process(
    args: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    health_path: str = "/health",
    module: str = "booking.cli",
) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """Run `booking ARGS --port P` (or another entry `module`); yields the base URL, the process and
    its output file."""
    port = free_port()
    output = cwd / f"server-{port}.log"
    # No background worker unless a test asks for one: what a test counts is what its requests did.
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/"),
        "BOOKING_WORKER": "off",
    }
    full_env |= env
    with output.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args, "--port", str(port)],
            env=full_env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + health_path, process)
        yield base, process, output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def two_servers(database_url: str, cwd: Path) -> Iterator[tuple[str, str]]:
    """Two `booking serve` processes sharing one database (no providers, no worker)."""
    from tests.support import SECRET, SERVICE_KEY

    env = {
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
        "LOG_LEVEL": "warning",
    }
    with (
        booking_process(["serve"], env=env, cwd=cwd) as (first, _, _),
        booking_process(["serve"], env=env, cwd=cwd) as (second, _, _),
    ):
        yield first, second


EVERY_DAY = [{"weekday": d, "start_time": "00:00", "end_time": "24:00"} for d in range(7)]


def seed_through(base: str, *, buffer_minutes: int = 15) -> dict[str, str]:
    """Through a running server, as the service: a brand and an instructor (UTC) available all day,
    every day, for two years ahead. Answers the ids as a booking body fragment."""
    from tests.support import SERVICE

    with httpx.Client(base_url=base, headers=SERVICE, timeout=30) as client:
        slug = f"seed-{uuid.uuid4().hex[:8]}"
        brand_id = client.post("/api/brands", json={"name": "Seed", "slug": slug}).json()["brand"]["id"]
        body = {"name": "I", "email": "i@example.com", "timezone": "UTC", "brand_ids": [brand_id]}
        instructor_id = client.post("/api/instructors", json=body).json()["instructor"]["id"]
        settings = {"advance_booking_days": 730, "buffer_minutes": buffer_minutes}
        response = client.put(
            f"/api/instructors/{instructor_id}/availability",
            json={"brand_id": brand_id, "weekly": EVERY_DAY, "settings": settings},
        )
        assert response.status_code == 200, response.text
        return {"brand_id": brand_id, "instructor_id": instructor_id}
