"""`python -m bench core` — prints a table and writes JSON to bench/results/."""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "machine": platform.machine()}


def print_table(rows: list[dict[str, Any]]) -> None:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    widths = {k: max(len(k), *(len(str(row.get(k, ""))) for row in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        print("  ".join(str(row.get(k, "")).ljust(widths[k]) for k in keys))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("suite", choices=["core"], help="which benchmark to run")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    from bench import core

    rows = [core.run(args.repeat)]
    print_table(rows)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{args.suite}.json"
    out.write_text(json.dumps({"machine": machine(), "results": rows}, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")


if __name__ == "__main__":
    main()
