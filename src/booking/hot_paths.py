"""The two hot operations, `POST /api/bookings` and `GET /api/instructors/{id}/slots`, answered without
FastAPI's per-request machinery (routing, dependency solving, the endpoint wrapper), which cost as much
as the booking's own rules and statements.

This layer sits inside the app's own middlewares (body limit, security headers, timing), so those
apply unchanged. It answers only a request it can answer exactly as the FastAPI route would: a JSON
body or query that validates with the route's own models, and a token that verifies. Anything else
(no token, a bad one, a body that does not validate, a repeated query parameter, a reschedule's slot
list) goes on to FastAPI untouched, body included, and gets the answer it always got. The routes stay
declared in FastAPI: the OpenAPI document and every other behaviour come from them.

Errors raised once the operation runs are answered by the app's own exception handlers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl
from uuid import UUID

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from booking.auth import Principal
from booking.availability.routes import bookable_slots
from booking.bookings import idempotency
from booking.bookings import service as bookings
from booking.bookings.routes import answered
from booking.bookings.schemas import BookingCreate
from booking.context import AppContext
from booking.errors import AppError, Unauthorized
from booking.http import endpoints
from booking.types import ApiDate, TimezoneName

M = TypeVar("M", bound=BaseModel)
Handler = Callable[[Request, Exception], Awaitable[Response]]
BOOKINGS_PATH = "/api/bookings"
SLOTS_TEMPLATE = "/api/instructors/{instructor_id}/slots"
SLOTS_PREFIX, SLOTS_SUFFIX = "/api/instructors/", "/slots"


class SlotQuery(BaseModel):
    """The query of GET …/slots, typed as the route declares it (booking.availability.routes)."""

    model_config = ConfigDict(populate_by_name=True)
    brand_id: UUID
    from_: ApiDate = Field(alias="from")
    to: ApiDate
    duration_minutes: int | None = Field(default=None, ge=5, le=480)
    timezone: TimezoneName | None = None


class NotHere(Exception):
    """The request is one for FastAPI: it would answer it differently from the common case."""


class HotPaths:
    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi
        self._routes: dict[tuple[str, str], Any] = {}

    def _route(self, method: str, path: str) -> Any:
        """FastAPI's route object, put in the scope as its router would (the request metrics read it)."""
        if not self._routes:  # the routes are all declared by the first request
            self._routes = {
                (method, template): route
                for template, methods, route in endpoints(self.fastapi.routes)
                for method in methods
            }
        return self._routes[(method, path)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == BOOKINGS_PATH:
            await self._create_booking(scope, receive, send)
        elif method == "GET" and path.startswith(SLOTS_PREFIX) and path.endswith(SLOTS_SUFFIX):
            await self._slots(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @property
    def context(self) -> AppContext:
        context: AppContext = self.fastapi.state.context
        return context

    async def _create_booking(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        try:
            headers = _headers(scope)
            if not headers.get(b"content-type", b"").startswith(b"application/json"):
                raise NotHere
            principal = await self._authenticated(headers)
            data = _validated(BookingCreate, _json(body))
            key = headers.get(b"idempotency-key")
            checked_key = None if key is None else _checked(idempotency.check_key, key.decode("latin-1"))
        except NotHere:
            await self.app(scope, _replaying(body, receive), send)
            return
        scope["route"] = self._route("POST", BOOKINGS_PATH)
        response = await self._answer(scope, receive, lambda: self._book(principal, data, checked_key))
        await response(scope, receive, send)

    async def _book(self, principal: Principal, data: BookingCreate, key: str | None) -> Response:
        return answered(await bookings.book(self.context.unit_of_work(principal), principal, data, key))

    async def _slots(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            instructor_id = _instructor_of(scope["path"])
            query = _validated(SlotQuery, _single_values(scope["query_string"]))
            headers = _headers(scope)
            if headers.get(b"authorization") is not None:
                await self._authenticated(headers)  # a bad token is a 401 even here: FastAPI says so
        except NotHere:
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route("GET", SLOTS_TEMPLATE)
        response = await self._answer(scope, receive, lambda: self._list_slots(instructor_id, query))
        await response(scope, receive, send)

    async def _list_slots(self, instructor_id: UUID, query: SlotQuery) -> Response:
        dates = (query.from_, query.to)
        return await bookable_slots(
            self.context, instructor_id, query.brand_id, dates, query.timezone, query.duration_minutes
        )

    async def _authenticated(self, headers: dict[bytes, bytes]) -> Principal:
        authorization = headers.get(b"authorization")
        if authorization is None:
            raise NotHere
        try:
            principal = await self.context.verifier.principal(authorization.decode("latin-1"))
        except Unauthorized as refused:
            raise NotHere from refused
        if not principal.is_authenticated:
            raise NotHere
        return principal

    async def _answer(
        self, scope: Scope, receive: Receive, operation: Callable[[], Awaitable[Response]]
    ) -> Response:
        """The operation's response, or the app's own handler's answer to what it raised."""
        try:
            return await operation()
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise  # the app's last-resort handler answers it, further out
            answered: Response = await handler(Request(scope, receive), error)
            return answered

    def _handler_for(self, error: Exception) -> Handler | None:
        """The handler FastAPI's exception middleware would pick: the nearest class that has one.
        `Exception` is left to the last-resort handler further out, as in FastAPI."""
        handlers: dict[Any, Any] = self.fastapi.exception_handlers
        for kind in type(error).__mro__:
            if kind is Exception:
                return None
            if kind in handlers:
                handler: Handler = handlers[kind]
                return handler
        return None


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """Header names to their first value, as Starlette's `Headers.get` reads them."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        found.setdefault(name.lower(), value)
    return found


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: FastAPI's route will see the same
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands FastAPI the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError alike
        raise NotHere from error


def _validated(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise NotHere from error


def _checked(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except AppError as error:
        raise NotHere from error


def _instructor_of(path: str) -> UUID:
    middle = path[len(SLOTS_PREFIX) : -len(SLOTS_SUFFIX)]
    try:
        if "/" in middle:
            raise ValueError(middle)
        return UUID(middle)
    except ValueError as error:
        raise NotHere from error


def _single_values(query_string: bytes) -> dict[str, str]:
    """The query as one value per name; a repeated name, or a reschedule's slot list, is FastAPI's."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    values = dict(pairs)
    if len(values) != len(pairs) or "reschedule_of" in values:
        raise NotHere
    return values
