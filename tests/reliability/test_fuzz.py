"""Schema-driven fuzzing: schemathesis against the service's own /openapi.json, a real server per database.

No 5xx; every status, content type, header and body as documented; the error envelope on every 4xx.
Then schemathesis's own run, every check but three, every phase: zero failures.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import BACKENDS
from tests.figures import FIGURES
from tests.servers import booking_process, seed_through
from tests.support import REMINDER_KEY, SECRET, SERVICE, SERVICE_KEY

# Per operation: the API has some sixty operations now. Ten examples each here and twenty in the
# every-check run below, on both databases, are still about ten thousand requests in all (the suite is
# kept under fifteen minutes on two cores).
EXAMPLES_PER_OPERATION = 10
# `schemathesis run --checks all` but three. positive_data_acceptance: the schema cannot say every rule
# (IANA timezone names, E.164 phones, dates within 1970-2199, no control characters, cursors this API
# handed out), so schema-valid data is refused with 422 by design. unsupported_method: PATCH
# /api/bookings/reminders is PATCH /api/bookings/{booking_id} with the id "reminders", a 422 and not a
# 405. ignored_auth: credentials are tested deterministically instead (tests/test_auth.py,
# tests/test_conformance.py, tests/reliability/test_hostile.py).
EXCLUDED_CHECKS = ("positive_data_acceptance", "ignored_auth", "unsupported_method")
EXAMPLES_PER_OPERATION_ALL_CHECKS = 20
CONFIG = Path(__file__).with_name("schemathesis.toml")


def error_envelope(ctx: Any, response: Any, case: Any) -> bool:
    """Every 4xx carries {"error": {"code", "message", "details"}}."""
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"], body
        assert isinstance(body["error"]["message"], str), body
        assert "details" in body["error"], body
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    error_envelope,
]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database_url = request.getfixturevalue(f"{request.param}_database")
    env = {
        "DATABASE_URL": database_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY,
        "BOOKING_REMINDER_API_KEY": REMINDER_KEY,
        "LOG_LEVEL": "warning",
    }
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    with booking_process(["serve"], env=env, cwd=workdir) as (base, _, _):
        seed_through(base)  # so that generated calls meet real rows too
        yield base


def operations(base: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    return [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_every_operation_conforms(fuzz_server: str, mode: GenerationMode) -> None:
    """As the service (so writes get through) and as whatever caller the case made up (mostly refused)."""
    found = operations(fuzz_server)
    assert len(found) >= 15, "every operation of the API is fuzzed"
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
        def conforms(case: Any) -> None:
            for headers in (SERVICE | {"x-booking-reminder-key": REMINDER_KEY}, None):
                case.call_and_validate(base_url=fuzz_server, headers=headers, checks=CHECKS)
                FIGURES["fuzz requests (schemathesis)"] += 1

        try:
            conforms()
        except Unsatisfiable:
            # No invalid request exists: nothing required to leave out or garble (GET /api/brands and
            # /health need no credentials; the reminders' one parameter is an optional header string).
            if mode != GenerationMode.NEGATIVE:
                raise


def test_every_check_passes(fuzz_server: str, tmp_path: Path) -> None:
    """`schemathesis run` with every check but EXCLUDED_CHECKS, in all its phases (examples, coverage,
    fuzzing, stateful), as the service and with the reminder key: no failure of any kind."""
    command = [
        *("--config-file", str(CONFIG), "run", f"{fuzz_server}/openapi.json"),
        *("--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS)),
        *("-H", f"Authorization: Bearer {SERVICE_KEY}", "-H", f"x-booking-reminder-key: {REMINDER_KEY}"),
        *("--max-examples", str(EXAMPLES_PER_OPERATION_ALL_CHECKS), "--workers", "1"),
        *("--suppress-health-check", "all", "--request-timeout", "30", "--no-color"),
    ]
    run = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"
    # In its own process and directory: its hypothesis settings and example database stay its own.
    result = subprocess.run(
        [sys.executable, "-c", run, *command], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
    if generated := re.search(r"(\d+) generated", result.stdout):
        FIGURES["schemathesis test cases (every check)"] += int(generated.group(1))
