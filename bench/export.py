"""`python -m bench export`: the peak memory of a `booking serve` process while it streams the CSV export
of 10,000 and of 100,000 bookings.

Each size gets its own PostgreSQL database (bench/scale.py's history: one brand, N / 500 - 10
instructors with 500 bookings each plus 5,000 for the first) and its own one-process server, so that
each peak (VmHWM, the resident set's high-water mark, read from /proc) is that export's alone. The
baseline is the peak after a first, one-day export (everything imported, the pool open). Flat: the
100,000-row export peaks about where the 10,000-row one does.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
import httpx

from bench.harness import SERVICE, database, seed, server
from bench.scale import LONG_HISTORY, PER_INSTRUCTOR, load_history

SIZES = (10_000, 100_000)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def server_pids(base: str) -> list[int]:
    """The `booking serve` process listening on `base`'s port, and any worker it started."""
    port = str(urlsplit(base).port)
    roots = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"booking.cli" in command and b"serve" in command and port.encode() in command:
            roots.append(int(entry.name))
    return [*roots, *(child for root in roots for child in _children(root))]


def peak_kib(pids: list[int]) -> int:
    """The largest VmHWM (kB) among the processes."""
    peaks = []
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks)


async def _load(url: str, brand_id: str, instructor_id: str, size: int) -> int:
    connection = await asyncpg.connect(url)
    try:
        instructors = (size - LONG_HISTORY) // PER_INSTRUCTOR
        now = datetime.now(UTC)
        return await load_history(connection, UUID(brand_id), UUID(instructor_id), now, instructors)
    finally:
        await connection.close()


def _export(client: httpx.Client, brand_id: str, **params: str) -> tuple[int, int]:
    """Streams the export, keeping nothing; answers (lines, bytes)."""
    lines = size = 0
    query = {"brand_id": brand_id} | params
    with client.stream("GET", "/api/bookings/export.csv", params=query, headers=SERVICE) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")  # a CRLF may straddle two chunks
            size += len(chunk)
    return lines, size


def measure(size: int) -> dict[str, Any]:
    with database("postgresql") as url, server(url) as base:
        seeded = seed(base)
        loaded = asyncio.run(_load(url, seeded.brand_id, seeded.instructor_ids[0], size))
        pids = server_pids(base)
        with httpx.Client(base_url=base, timeout=600) as client:
            today = datetime.now(UTC).date().isoformat()
            _export(client, seeded.brand_id, **{"from": today, "to": today})
            baseline = peak_kib(pids)
            began = time.perf_counter()
            lines, sent = _export(client, seeded.brand_id)
            seconds = time.perf_counter() - began
        peak = peak_kib(pids)
    return {
        "bookings": f"{loaded:,}",
        "csv_rows": f"{lines - 1:,}",
        "csv_mib": round(sent / 2**20, 1),
        "seconds": round(seconds, 2),
        "rows_per_s": round((lines - 1) / seconds),
        "baseline_peak_mib": round(baseline / 1024, 1),
        "export_peak_mib": round(peak / 1024, 1),
        "growth_mib": round((peak - baseline) / 1024, 1),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows = [measure(size) for size in SIZES]
    small, large = rows
    ratio = large["export_peak_mib"] / small["export_peak_mib"]
    for row in rows:
        row["peak_vs_10k"] = f"{row['export_peak_mib'] / small['export_peak_mib']:.2f}"
    large["flat"] = "yes" if ratio <= 1.1 else "no"
    return rows
