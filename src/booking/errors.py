"""One error hierarchy, rendered by one handler into the envelope of SPEC §6."""

from __future__ import annotations

from typing import Any, ClassVar

from booking.enums import ErrorCode


class AppError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[ErrorCode] = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def envelope(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


class Unauthorized(AppError):
    status = 401
    code = ErrorCode.UNAUTHORIZED


class Forbidden(AppError):
    status = 403
    code = ErrorCode.FORBIDDEN


class NotFound(AppError):
    status = 404
    code = ErrorCode.NOT_FOUND


class Conflict(AppError):
    status = 409
    code = ErrorCode.CONFLICT


class ValidationFailed(AppError):
    status = 422
    code = ErrorCode.VALIDATION_ERROR


def field_error(message: str, *loc: str | int) -> ValidationFailed:
    """A 422 whose details name the offending field, as pydantic's own errors do."""
    return ValidationFailed(message, details=[{"loc": list(loc), "msg": message}])


class InstructorNotInBrand(NotFound):
    code = ErrorCode.INSTRUCTOR_NOT_IN_BRAND
