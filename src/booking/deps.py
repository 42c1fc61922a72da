"""FastAPI dependencies: the process context, the calling principal, and who may call an operation.

Operations need a bearer token unless their route says otherwise, once, in its decorator:

    @router.get("", dependencies=[PUBLIC])             # anyone (SPEC §3: the public reads)
    @router.post("/reminders", dependencies=[REMINDER_KEY])  # its own header, checked by the route

The app-wide `get_principal` refuses an anonymous caller (401) on every other operation. FastAPI solves
dependencies before it validates the query and the body, so an anonymous call is a 401 whatever it sent
and never a 422 that describes the request; a body that is not JSON at all is caught before the
dependencies run, and `booking.http` asks `authenticate` first there too. Secure by default: a new route
with no mark needs a token. The OpenAPI document takes each operation's `security` from the same mark
(`booking.openapi`), so the document and the behaviour cannot disagree.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from booking.auth import Principal
from booking.context import AppContext
from booking.errors import Unauthorized

# Declared for the OpenAPI document (the Authorize button of /docs); the header is read raw below so
# that a malformed one is a 401 rather than an anonymous call.
_bearer = HTTPBearer(auto_error=False, description="A Supabase access token or the service role key")
_reminder_key = APIKeyHeader(
    name="x-booking-reminder-key",
    scheme_name="ReminderKey",
    auto_error=False,
    description="BOOKING_REMINDER_API_KEY, for the scheduler that sends reminders",
)
BEARER_SCHEME = _bearer.scheme_name
REMINDER_KEY_SCHEME = _reminder_key.scheme_name


class Access(Enum):
    BEARER = "bearer"  # a valid bearer token (the default)
    PUBLIC = "public"  # anyone; a token, when sent, is still checked
    REMINDER_KEY = "reminder_key"  # no bearer needed: the route checks x-booking-reminder-key itself


async def public() -> None:
    """Marks an operation anyone may call (it does nothing: `access_of` looks for it).

    Async so that FastAPI calls it in place rather than in its thread pool: the public reads are the
    hot ones.
    """


PUBLIC = Depends(public)
# Security(), not Depends(): FastAPI then lists the apiKey scheme in the document.
REMINDER_KEY = Security(_reminder_key)


def access_of(route: object) -> Access:
    """The access a route declared with PUBLIC or REMINDER_KEY; BEARER for anything else."""
    for dependency in getattr(route, "dependencies", None) or ():
        if dependency.dependency is public:
            return Access.PUBLIC
        if dependency.dependency is _reminder_key:
            return Access.REMINDER_KEY
    return Access.BEARER


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def authenticate(request: Request) -> Principal:
    """The caller: a bad token is always 401; no token is 401 unless the operation lets anyone in."""
    principal = await get_context(request).verifier.principal(request.headers.get("authorization"))
    # No route in scope means no operation matched: nothing to let through.
    if not principal.is_authenticated and access_of(request.scope.get("route")) is Access.BEARER:
        raise Unauthorized("this endpoint needs a bearer token")
    return principal


async def get_principal(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    return await authenticate(request)


Context = Annotated[AppContext, Depends(get_context)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
