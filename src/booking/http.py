"""Transport concerns: the error envelope for every failure, body size limit, security headers, timing."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from functools import partial
from time import perf_counter
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking.db import UNWRAPPED_ERRORS, is_transient_conflict, is_unavailable
from booking.errors import AppError, Unauthorized, error_body

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
}

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def with_security_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    """The response's headers plus each security header it did not set itself (a calendar feed says
    `cache-control: no-cache`, so that calendar apps may keep it and ask with its ETag)."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((name, value) for name, value in SECURITY_HEADERS if name not in present)]


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison of an If-None-Match list against an ETag."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


def conditional_response(
    body: bytes, media_type: str, etag: str, cache_control: str, if_none_match: str | None
) -> Response:
    """The body with its ETag, or `304` with the same headers when If-None-Match names it."""
    headers = {"etag": etag, "cache-control": cache_control}
    if etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


# Told of each answered request: its scope (after routing), the status sent, the seconds it took.
RequestObserver = Callable[[Scope, int, float], None]


def envelope_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for error in exc.errors():
        details.append(
            {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        )
    return details


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(exc.envelope(), status_code=exc.status)


# Who is calling (raises Unauthorized): the app's own check, handed in so that this layer knows no route.
Authenticate = Callable[[Request], Awaitable[object]]


async def _refused_caller(authenticate: Authenticate, request: Request) -> JSONResponse | None:
    """The 401 owed to a caller the operation refuses, else None.

    FastAPI reads the JSON body before it solves dependencies, so a body that is not JSON fails before
    `get_principal` ran: what the request looks like is told only to a caller who may make it.
    """
    try:
        await authenticate(request)
    except Unauthorized as refused:
        return JSONResponse(refused.envelope(), status_code=refused.status)
    return None


async def _validation_error(authenticate: Authenticate, request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if (refused := await _refused_caller(authenticate, request)) is not None:
        return refused
    return envelope_response(422, "validation_error", "request is not valid", _validation_details(exc))


async def _http_error(authenticate: Authenticate, request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.__cause__ is not None:
        if (refused := await _refused_caller(authenticate, request)) is not None:
            return refused
        # FastAPI's answer to a body it could not decode (not UTF-8, nested too deep): the same 422 as
        # any other malformed JSON.
        detail = {"loc": ["body"], "msg": type(exc.__cause__).__name__, "type": "json_invalid"}
        return envelope_response(422, "validation_error", "the request body is not valid JSON", [detail])
    code = STATUS_CODES.get(exc.status_code, "error")
    response = envelope_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 405:
        # Starlette names the methods of the one route it matched; the path may be served by several
        # (GET and PATCH /api/bookings/{booking_id}): Allow lists them all.
        allowed = allowed_methods(request.app.routes, request.scope.get("route"))
        if allowed:
            response.headers["allow"] = ", ".join(sorted(allowed))
    return response


def endpoints(routes: Sequence[BaseRoute]) -> Iterator[tuple[str, set[str], BaseRoute]]:
    """(path template, methods, route as declared) of every HTTP route, included routers unfolded."""
    # FastAPI 0.16x keeps included routers as nodes of the route list; older versions flattened them.
    unfold = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in unfold(routes) if unfold is not None else routes:
        methods = getattr(route, "methods", None)
        path = getattr(route, "path_format", None)
        if methods and path is not None:
            yield path, set(methods), getattr(route, "original_route", route)


def allowed_methods(routes: Sequence[BaseRoute], matched: object) -> set[str]:
    """The methods of every route with the path (template) of `matched`, the route of a 405."""
    table = list(endpoints(routes))
    paths = {path for path, _, route in table if route is matched}
    return {method for path, methods, _ in table if path in paths for method in methods}


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if is_transient_conflict(exc):
        log.warning("transaction aborted for a concurrent one: %s", exc.orig)
        return envelope_response(409, "conflict", "a concurrent change got in the way; retry the request")
    if isinstance(exc, IntegrityError):
        # Services translate the conflicts they expect; one they did not is still the client's conflict.
        log.warning("unexpected integrity error: %s", exc.orig)
        return envelope_response(409, "conflict", "the change conflicts with existing data")
    return await _connection_error(request, exc)


async def _connection_error(request: Request, exc: Exception) -> JSONResponse:
    """503 when the database is away (booking.db.is_unavailable decides); any other database error
    (a statement the server rejects, a value it cannot take) is a bug, and a 500 says so."""
    if is_unavailable(exc):
        return _database_unavailable(exc)
    return await _unexpected_error(request, exc)


def _database_unavailable(exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return envelope_response(503, "database_unavailable", "the database is unavailable; retry shortly")


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return envelope_response(500, "internal_error", "internal error")


def install_error_handlers(app: FastAPI, authenticate: Authenticate) -> None:
    """Every failure in the envelope; `authenticate` answers a refused caller's 401 before a 422."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, partial(_validation_error, authenticate))
    app.add_exception_handler(StarletteHTTPException, partial(_http_error, authenticate))
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(OSError, _connection_error)
    for unwrapped in UNWRAPPED_ERRORS:  # also found by hot_paths, which picks handlers as FastAPI does
        app.add_exception_handler(unwrapped, _connection_error)
    app.add_exception_handler(Exception, _unexpected_error)


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413, whether or not Content-Length is honest."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        too_large = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # Once the body overflowed, whatever the app makes of the aborted read is replaced by 413.
            if not too_large:
                await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counting_receive, guarded_send)
        if too_large:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body is larger than {self.max_bytes} bytes"
        await envelope_response(413, "payload_too_large", message)(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class SecurityHeadersMiddleware:
    """Adds the security headers to every answer and, given `observe`, times each request for it.

    One layer does both (each layer costs every request): it already sees the status go out, and the
    router has put the matched route in the scope by the time the app returns. A request that raised is
    counted as the 500 it is answered with further out. Answers made outside this layer (413 for a
    declared oversized body, CORS preflights) are not timed.
    """

    def __init__(self, app: ASGIApp, observe: RequestObserver | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_security_headers(message.get("headers", []))
            await send(message)

        observe = self.observe
        if observe is None:
            await self.app(scope, receive, send_with_headers)
            return
        started = perf_counter()
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            observe(scope, status, perf_counter() - started)
