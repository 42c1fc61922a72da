"""The OpenAPI document: every error code an operation can answer, and who may call it.

Each route lists the errors its service can raise, as error classes or `ErrorCode` members:

    @router.post("", responses=errors(*BOOKING_REFUSALS, Forbidden, IdempotencyKeyReused))

`errors` groups them by status; in the document each status has one schema per code (a component
`Error<Code>` whose `error.code` is a constant), joined with `oneOf`, and a description naming the
codes. What every operation can answer is not repeated at the routes: `document` adds the app-wide
errors (`AppWideErrors`, declared in `booking.app`) to each operation, `validation_error` to each
operation that has parameters or a body (in place of FastAPI's default 422, which is not our
envelope), and each operation's `security` from its route's access mark (`booking.deps`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute

from booking.deps import BEARER_SCHEME, REMINDER_KEY_SCHEME, Access, access_of
from booking.enums import ErrorCode
from booking.errors import AppError
from booking.http import endpoints

# Every code with the status it is answered with and what it means: the components of the document.
CODES: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.BAD_REQUEST: (400, "the request could not be handled"),
    ErrorCode.UNAUTHORIZED: (
        401,
        "no token where one is needed, or a malformed, expired or badly signed one (reminders: a wrong key)",
    ),
    ErrorCode.FORBIDDEN: (403, "the caller may see this but not change it"),
    ErrorCode.NOT_FOUND: (404, "not found, or not visible to the caller"),
    ErrorCode.METHOD_NOT_ALLOWED: (405, "the path does not take this method (see the Allow header)"),
    ErrorCode.NOT_ACCEPTABLE: (406, "no acceptable representation"),
    ErrorCode.CONFLICT: (
        409,
        "conflicts with existing data, or a concurrent change got in the way (retry the request)",
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: (413, "the request body is larger than MAX_BODY_BYTES"),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: (415, "the body is not in a supported media type"),
    ErrorCode.VALIDATION_ERROR: (422, "a parameter or the body is not valid; `details` names each field"),
    ErrorCode.TOO_MANY_REQUESTS: (429, "too many requests"),
    ErrorCode.INTERNAL_ERROR: (500, "internal error"),
    ErrorCode.DATABASE_UNAVAILABLE: (503, "the database is unavailable; retry shortly"),
    ErrorCode.SERVICE_UNAVAILABLE: (503, "the service is unavailable; retry shortly"),
    ErrorCode.INSTRUCTOR_NOT_IN_BRAND: (404, "the instructor does not take bookings in this brand"),
    ErrorCode.IN_THE_PAST: (422, "the start is not in the future"),
    ErrorCode.TOO_SOON: (422, "the start is inside the instructor's minimum notice"),
    ErrorCode.BEYOND_BOOKING_WINDOW: (422, "the start is beyond the advance booking window"),
    ErrorCode.OUTSIDE_AVAILABILITY: (422, "the session is outside the instructor's availability"),
    ErrorCode.SLOT_UNAVAILABLE: (409, "the time is taken (another booking or its buffer)"),
    ErrorCode.BOOKING_LIMIT_REACHED: (409, "the instructor's daily or weekly cap in this brand is reached"),
    ErrorCode.TOO_MANY_PENDING_BOOKINGS: (409, "the student has as many unpaid bookings as the brand allows"),
    ErrorCode.INVALID_TRANSITION: (409, "the booking's status cannot change that way (now)"),
    ErrorCode.CANCELLATION_CUTOFF_PASSED: (409, "too close to the start for a student to cancel"),
    ErrorCode.RESCHEDULE_CUTOFF_PASSED: (409, "too close to the start for a student to reschedule"),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: (422, "this Idempotency-Key was used for a different request"),
    ErrorCode.SERIES_CONFLICT: (
        409,
        "occurrences of the series the rules refuse: `details.occurrences` names each "
        "(index, starts_at, code)",
    ),
    ErrorCode.PASS_NOT_USABLE: (
        409,
        "the pass cannot pay for this: `details.reason` is wrong_brand, not_active, "
        "instructor_not_included, no_sessions_left or expires_before_session",
    ),
    ErrorCode.PAYMENTS_NOT_CONFIGURED: (409, "online payment is off: STRIPE_SECRET_KEY is not set"),
    ErrorCode.NOTHING_TO_PAY: (409, "the booking has no price, or a price of 0"),
    ErrorCode.PAYMENT_PROVIDER_ERROR: (
        502,
        "Stripe refused the request or could not be reached; nothing changed",
    ),
    ErrorCode.INVALID_SIGNATURE: (
        400,
        "no Stripe-Signature, or one that signs the body with no configured secret within 300 s",
    ),
}

ErrorSpec = type[AppError] | ErrorCode


def code_of(error: ErrorSpec) -> ErrorCode:
    return error if isinstance(error, ErrorCode) else error.code


def schema_name(code: ErrorCode) -> str:
    return "Error" + "".join(part.capitalize() for part in code.value.split("_"))


def _ref(code: ErrorCode) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{schema_name(code)}"}


def _response(codes: Iterable[ErrorCode]) -> dict[str, Any]:
    ordered = sorted(set(codes), key=list(CODES).index)
    refs = [_ref(code) for code in ordered]
    schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
    # Markdown: /docs shows each code with its meaning, above the schemas.
    listed = "\n".join(f"- `{code.value}`: {CODES[code][1]}" for code in ordered)
    return {
        "description": listed,
        "content": {"application/json": {"schema": schema}},
    }


def _by_status(declared: Iterable[ErrorSpec]) -> dict[int, set[ErrorCode]]:
    grouped: dict[int, set[ErrorCode]] = {}
    for error in declared:
        code = code_of(error)
        grouped.setdefault(CODES[code][0], set()).add(code)
    return grouped


def errors(*declared: ErrorSpec) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route: the errors its operation answers beyond the app-wide ones."""
    return {status: _response(codes) for status, codes in _by_status(declared).items()}


def error_schema(code: ErrorCode) -> dict[str, Any]:
    """The envelope of SPEC §6 with `error.code` fixed to one code."""
    return {
        "title": schema_name(code),
        "description": CODES[code][1],
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "const": code.value},
                    "message": {"type": "string"},
                    "details": {"description": "more about the error (for validation_error: each field)"},
                },
            }
        },
    }


@dataclass(frozen=True)
class AppWideErrors:
    """Errors that do not depend on the operation's own work, added to the document by kind."""

    every: Sequence[ErrorSpec] = ()  # any operation
    writes: Sequence[ErrorSpec] = ()  # operations with a method other than GET


SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    Access.BEARER: [{BEARER_SCHEME: []}],
    Access.PUBLIC: [{}, {BEARER_SCHEME: []}],  # `{}`: no credentials at all is fine
    Access.REMINDER_KEY: [{REMINDER_KEY_SCHEME: []}],
}
# FastAPI's 422 for operations that declare none: a body our handler never sends.
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document(base: dict[str, Any], routes: Sequence[BaseRoute], app_wide: AppWideErrors) -> dict[str, Any]:
    """Completes FastAPI's document: app-wide errors, error components and security per operation."""
    for path, methods, route in endpoints(routes):
        item = base.get("paths", {}).get(path, {})
        for method in methods:
            operation = item.get(method.lower())
            if operation is not None:
                _complete(operation, method, access_of(route), app_wide)
    schemas = base.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas.update({schema_name(code): error_schema(code) for code in CODES})
    return base


def _complete(operation: dict[str, Any], method: str, access: Access, app_wide: AppWideErrors) -> None:
    extra: list[ErrorSpec] = list(app_wide.every)
    if method != "GET":
        extra += app_wide.writes
    if operation.get("parameters") or operation.get("requestBody"):
        # FastAPI validates them before the operation runs; our handler answers with the envelope.
        extra.append(ErrorCode.VALIDATION_ERROR)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, codes in _by_status(extra).items():
        declared = responses.get(str(status))
        responses[str(status)] = _response(codes | _codes_in(declared))
    operation["security"] = [dict(requirement) for requirement in SECURITY[access]]


def _codes_in(response: dict[str, Any] | None) -> set[ErrorCode]:
    """The codes a response made by `errors` names (none for FastAPI's own 422)."""
    if response is None:
        return set()
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    refs = schema.get("oneOf", [schema])
    by_ref = {_ref(code)["$ref"]: code for code in CODES}
    return {by_ref[ref["$ref"]] for ref in refs if ref.get("$ref") in by_ref}
