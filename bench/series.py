"""A weekly series of 52 occurrences in one call, through HTTP: every occurrence judged by the rules of
a booking over a year's span, 52 rows inserted, one set of messages recorded, in one transaction."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from bench.harness import LightClient, booking_body, seed, server, student_headers, tomorrow_midnight
from bench.service import _latency_row

SERIES = 20
OCCURRENCES = 52
TARGET_MS = 50.0


def series_of_52(database_url: str, backend: str) -> dict[str, Any]:
    """SERIES series one after another, each at its own hour (so none conflicts), a new student each."""
    with server(database_url) as base:
        seeded = seed(base)
        client = LightClient(base)
        timings = []
        try:
            start = tomorrow_midnight()
            client.request("GET", "/health")
            for index in range(SERIES):
                body = booking_body(seeded, seeded.instructor_ids[0], start + timedelta(hours=index))
                body |= {"count": OCCURRENCES}
                began = time.perf_counter()
                status, answer = client.request("POST", "/api/series", body, student_headers())
                timings.append((time.perf_counter() - began) * 1000)
                if status != 201 or len(json.loads(answer)["series"]["bookings"]) != OCCURRENCES:
                    raise RuntimeError(answer.decode())
        finally:
            client.close()
    note = f"{SERIES} series of {OCCURRENCES}"
    return _latency_row("weekly series of 52, one call", backend, timings, TARGET_MS, note)
