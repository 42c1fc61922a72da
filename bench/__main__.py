"""`python -m bench [core|slots|booking|load|peer|scale|webhooks|page|payments|series|all] [--quick]`:
tables and JSON.

The JSON goes to bench/results/<suite>.json.

Providers are unconfigured in every timed run unless a line says "with loopback fake providers".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

RESULTS = Path(__file__).parent / "results"
SUITES = ["core", "slots", "booking", "load", "peer", "scale", "webhooks", "page", "payments", "series"]
SUITES.append("export")  # bench/export.py


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "machine": platform.machine(),
    }


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    keys = list(dict.fromkeys(k for row in rows for k in row))
    widths = {k: max(len(k), *(len(str(row.get(k, ""))) for row in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        print("  ".join(str(row.get(k, "")).ljust(widths[k]) for k in keys))


def on_each_database(measure: Callable[[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """`measure(url, backend)` on a fresh SQLite database, then on a fresh PostgreSQL one."""
    from bench.harness import database

    rows = []
    for backend in ("sqlite", "postgresql"):
        with database(backend) as url:
            rows.append(measure(url, backend))
    return rows


def run_core(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import core

    return [core.run(50 if args.quick else 200)]


def run_slots(_: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import service
    from bench.harness import database

    rows = []
    for backend in ("sqlite", "postgresql"):
        with database(backend) as url:
            rows += service.slots(url, backend)
    return rows


def run_booking(_: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import service
    from bench.fakes import accepting_providers
    from bench.harness import database

    rows = on_each_database(service.sequential_bookings)
    with database("sqlite") as url, accepting_providers() as env:
        rows.append(service.sequential_bookings(url, "sqlite", label="with loopback fake providers", env=env))
    return rows


LOAD_CAPS = {"max_bookings_per_day": 100, "max_bookings_per_week": 500}  # never reached by the load


def run_load(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import limit, service
    from bench.harness import database

    seconds = 5.0 if args.quick else 20.0
    rows = []
    with database("postgresql") as url:
        ceiling = limit.driver_limit(url, clients=32, seconds=seconds, instructors=64)
    for workers in (1, 2, 4):
        with database("postgresql") as url:
            row = service.concurrent_load(url, workers=workers, clients=32, seconds=seconds, instructors=64)
        row["of_limit"] = f"{row['bookings_per_s'] / ceiling['bookings_per_s']:.0%}"
        rows.append(row)
    # Caps lock one instructor's bookings in a brand, nobody else's: 64 capped instructors book as fast
    # as 64 uncapped ones, while one capped instructor's bookings run one at a time.
    for instructors in (64, 1):
        with database("postgresql") as url:
            row = service.concurrent_load(
                url, workers=2, clients=32, seconds=seconds, instructors=instructors, caps=LOAD_CAPS
            )
        row["of_limit"] = f"{row['bookings_per_s'] / ceiling['bookings_per_s']:.0%}"
        rows.append(row)
    rows.append(ceiling | {"of_limit": "100%"})
    return rows


def _ours_ninety_days(url: str) -> tuple[float, float, int]:
    """Slots of 90 days through HTTP (a 62-day and a 28-day call), and sequential bookings, on SQLite."""
    from bench import service
    from bench.harness import MON_FRI_9_TO_17, LightClient, seed, server, tomorrow_midnight

    with server(url) as base:
        seeded = seed(base, weekly=MON_FRI_9_TO_17)
        first = tomorrow_midnight().date()
        path = f"/api/instructors/{seeded.instructor_ids[0]}/slots"
        spans = [
            (first, first + timedelta(days=61)),
            (first + timedelta(days=62), first + timedelta(days=89)),
        ]
        totals, listed = [], 0
        client = LightClient(base)
        try:
            for _ in range(20):
                began = time.perf_counter()
                listed = 0
                for start, end in spans:
                    query = urlencode({"brand_id": seeded.brand_id, "from": str(start), "to": str(end)})
                    status, body = client.request("GET", f"{path}?{query}")
                    if status != 200:
                        raise RuntimeError(body.decode())
                    listed += len(json.loads(body)["slots"])
                totals.append((time.perf_counter() - began) * 1000)
        finally:
            client.close()
    booking = service.sequential_bookings(url, "sqlite")
    return statistics.median(totals), booking["median_ms"], listed


PEER_ROUNDS = 5


def run_peer(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The peer and ours in alternating rounds, each ratio taken within its round.

    This machine moves between fast and slow phases within minutes, and a phase does not slow both
    sides alike (ours is a server and a client on loopback, the peer one process that only
    computes): a ratio of one side measured in one phase to the other measured in the next says more
    about the phases than about the code. So each round measures both, one right after the other, and
    the figure for the target is the median of the rounds' ratios; every round is printed."""
    from bench.harness import database
    from bench.peer import run_peer as peer_figures

    rounds = []
    for _ in range(1 if args.quick else PEER_ROUNDS):
        theirs = peer_figures()
        with database("sqlite") as url:
            ours_slots, ours_booking, listed = _ours_ninety_days(url)
        rounds.append((theirs, ours_slots, ours_booking, listed))
    rows = [_peer_round(number, *figures) for number, figures in enumerate(rounds, 1)]
    return [*rows, _peer_summary(rows)]


def _peer_round(
    number: int, theirs: dict[str, Any], ours_slots: float, ours_booking: float, listed: int
) -> dict[str, Any]:
    if listed != theirs["slots_listed"]:
        raise RuntimeError(f"the two sides listed different slots: {listed} against {theirs['slots_listed']}")
    return {
        "round": str(number),
        "slots_90_days_ours_ms": round(ours_slots, 2),
        "slots_90_days_peer_ms": theirs["slots_90_days_total_ms"],
        "slots_peer_over_ours": round(theirs["slots_90_days_total_ms"] / ours_slots, 1),
        "booking_ours_ms": ours_booking,
        "booking_peer_ms": theirs["booking_median_ms"],
        "booking_peer_over_ours": round(theirs["booking_median_ms"] / ours_booking, 2),
    }


def _peer_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each column over the rounds; the ratios are the medians of the rounds' ratios."""
    summary: dict[str, Any] = {"round": "median"}
    for key in rows[0]:
        if key != "round":
            summary[key] = round(statistics.median(row[key] for row in rows), 2)
    summary["booking_target"] = f">= 5x: {'met' if summary['booking_peer_over_ours'] >= 5 else 'not met'}"
    summary["slots_target"] = f">= 100x: {'met' if summary['slots_peer_over_ours'] >= 100 else 'not met'}"
    return summary


def run_scale(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import scale

    return scale.run(args.quick)


def run_webhooks(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import webhooks

    return webhooks.run(args.quick)


def run_payments(_: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import payments, service
    from bench.harness import database

    rows = []
    for backend in ("sqlite", "postgresql"):
        with database(backend) as url:
            label = "a price, Stripe on"
            env = payments.stripe_env()
            rows.append(
                service.sequential_bookings(url, backend, label, env=env, price_amount=payments.PRICE)
            )
        with database(backend) as url:
            rows.append(payments.webhook_events(url, backend))
    return rows


def run_series(_: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import series

    return on_each_database(series.series_of_52)


def run_page(_: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import page

    return on_each_database(page.first_slot_times)


def run_export(args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench import export

    return export.run(args.quick)


RUNNERS = {
    "core": run_core,
    "slots": run_slots,
    "booking": run_booking,
    "load": run_load,
    "peer": run_peer,
    "scale": run_scale,
    "webhooks": run_webhooks,
    "page": run_page,
    "payments": run_payments,
    "series": run_series,
    "export": run_export,
}
TITLES = {
    "core": "Scheduling core, in-process (no I/O)",
    "slots": "GET slots through HTTP, 1 server process, providers unconfigured",
    "booking": "POST /api/bookings through HTTP, 1 server process",
    "load": "Concurrent booking on PostgreSQL: 32 clients, distinct free slots of 64 instructors",
    "peer": "Against django-appointment (peer), alternating rounds: ours through HTTP, the peer in-process",
    "scale": "Hot calls through HTTP on PostgreSQL, no history against 1,005,000 bookings (1 process each)",
    "webhooks": "Webhooks sent by `booking worker` processes to a loopback receiver (rates: 1st to last)",
    "page": "The booking page in headless Chromium (Debian's), 1 server process",
    "payments": "Prices and Stripe through HTTP, 1 server process (Stripe unreachable: never asked)",
    "series": "POST /api/series through HTTP, 1 server process, providers unconfigured",
    "export": "CSV export: peak RSS of 1 server process, 10,000 against 100,000 bookings (PostgreSQL)",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suite", choices=[*SUITES, "all"])
    parser.add_argument("--quick", action="store_true", help="short runs, for trying the harness")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    for suite in SUITES if args.suite == "all" else [args.suite]:
        rows = RUNNERS[suite](args)
        print_table(TITLES[suite], rows)
        out = RESULTS / f"{suite}.json"
        out.write_text(
            json.dumps({"machine": machine(), "quick": args.quick, "results": rows}, indent=2) + "\n"
        )
    print(f"\nJSON written to {RESULTS}")


if __name__ == "__main__":
    main()
