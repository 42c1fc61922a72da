"""The service through PgBouncer in transaction mode, as behind Supabase's pooler (port 6543).

A transaction-mode pooler hands every transaction to any server connection, so the driver's
server-side prepared statements must be off: `?prepared_statements=false` (or port 6543) does that.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from booking.clock import FixedClock
from tests.booking_world import MONDAY, make_world
from tests.conftest import running_api
from tests.servers import free_port
from tests.support import SERVICE, make_settings, user_headers

CONFIG = """
[databases]
* = host=127.0.0.1 port=5432

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
auth_type = trust
auth_file = {directory}/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
unix_socket_dir =
logfile = {directory}/pgbouncer.log
pidfile = {directory}/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
"""


@pytest.fixture
def pgbouncer() -> Iterator[int]:
    if shutil.which("pgbouncer") is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer must be installed in CI (.ci/run installs it)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    directory.chmod(0o755)  # pgbouncer drops root for the postgres user, who must read this
    port = free_port()
    (directory / "pgbouncer.ini").write_text(CONFIG.format(port=port, directory=directory))
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    command = ["pgbouncer", str(directory / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
        shutil.chown(directory, "postgres")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode() if process.stderr else "pgbouncer exited")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("pgbouncer did not listen")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_bookings_through_a_transaction_mode_pooler(
    database_url: str, pgbouncer: int, clock: FixedClock
) -> None:
    database = database_url.rsplit("/", 1)[1]
    pooled = f"postgresql://postgres@127.0.0.1:{pgbouncer}/{database}?prepared_statements=false"
    clock.set(MONDAY)
    async with running_api(make_settings(pooled), clock) as api:
        world = await make_world(api)
        # Many transactions at once, more than the pooler's two server connections.
        # Two hours apart: clear of each other's buffer, so every one of them must be booked.
        starts = [
            datetime(2026, 12, day, hour, tzinfo=UTC).isoformat()
            for day in (1, 2, 3)
            for hour in (8, 10, 12, 14)
        ]
        responses = await asyncio.gather(
            *(world.book(start, headers=user_headers(uuid.uuid4())) for start in starts)
        )
        assert [r.status_code for r in responses] == [201] * len(starts), [
            r.text for r in responses if r.status_code != 201
        ]
        # The same statements again and again: a server-side statement cache would break here.
        for _ in range(3):
            listed = await api.client.get(
                "/api/bookings", params={"brand_id": world.brand["id"], "limit": 200}, headers=SERVICE
            )
            assert len(listed.json()["bookings"]) == len(starts)
        overlapping = await world.book("2026-12-01T08:30:00+00:00")
        assert overlapping.json()["error"]["code"] == "slot_unavailable"
