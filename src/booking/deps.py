"""FastAPI dependencies: the process context and the calling principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from booking.auth import Principal
from booking.context import AppContext

# Declared for the OpenAPI document (the Authorize button of /docs); the header is read raw below so
# that a malformed one is a 401 rather than an anonymous call.
_bearer = HTTPBearer(auto_error=False, description="A Supabase access token or the service role key")


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


async def get_principal(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> Principal:
    return await get_context(request).verifier.principal(request.headers.get("authorization"))


Context = Annotated[AppContext, Depends(get_context)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
