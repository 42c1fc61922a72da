"""Error responses for the OpenAPI document, so that every documented status has its body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DESCRIPTIONS = {
    401: "missing, malformed, expired or badly signed token",
    403: "the caller may see this but not change it",
    404: "not found, or not visible to the caller",
    409: "conflicts with the current state",
    413: "request body too large",
    422: "the request is not valid",
    503: "the database is unavailable",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorEnvelope, "description": DESCRIPTIONS[status]} for status in statuses}
