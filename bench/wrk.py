"""Concurrent POST /api/bookings with wrk (a C load generator: it leaves the CPU to the server).

Each request books a distinct free slot: request k of thread t takes instructor (k·T + t) mod N at
hour (k·T + t) div N after the origin, so no two requests ever compete for a slot.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

SCRIPT = """
local brand = "%(brand)s"
local token = "%(token)s"
local origin = %(origin)d
local instructors = {%(instructors)s}
local thread_count = %(threads)d
local next_thread = 0
local counter = 0
local id = 0

function setup(thread)
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
end

function request()
  local k = counter * thread_count + id
  counter = counter + 1
  local instructor = instructors[(k %% #instructors) + 1]
  local starts = os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", origin + math.floor(k / #instructors) * 3600)
  local body = string.format(
    '{"brand_id":"%%s","instructor_id":"%%s","starts_at":"%%s","student_timezone":"UTC"}',
    brand, instructor, starts)
  return wrk.format("POST", "/api/bookings",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %%d, "non_2xx": %%d, "socket_errors": %%d, ' ..
    '"seconds": %%f, "p50_ms": %%f, "p99_ms": %%f}\\n',
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    base: str, brand: str, instructors: list[str], token: str, origin: datetime, clients: int, seconds: float
) -> dict[str, Any]:
    threads = 2
    script = SCRIPT % {
        "brand": brand,
        "token": token,
        "origin": int(origin.timestamp()),
        "instructors": ", ".join(f'"{i}"' for i in instructors),
        "threads": threads,
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "book.lua"
        path.write_text(script)
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--timeout",
            "30s",
            "-s",
            str(path),
            base,
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    errors = result["non_2xx"] + result["socket_errors"]
    done = result["requests"] - errors
    return {
        "bookings_per_s": round(done / result["seconds"], 1),
        "p50_ms": round(result["p50_ms"], 1),
        "p99_ms": round(result["p99_ms"], 1),
        "errors": errors,
        "bookings": done,
        "client": "wrk",
    }
