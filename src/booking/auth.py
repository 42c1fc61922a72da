"""Bearer tokens to principals (SPEC §3): the service role key, HS256 and JWKS-signed Supabase JWTs."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

import httpx
import jwt

from booking.errors import Unauthorized

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = ("ES256", "RS256")
USER_AUDIENCE = "authenticated"


@dataclass(frozen=True)
class Principal:
    kind: Literal["service", "user", "anonymous"]
    user_id: UUID | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def actor(self) -> str:
        """How the audit trail and the idempotency store name this caller."""
        return f"user:{self.user_id}" if self.kind == "user" else self.kind


ANONYMOUS = Principal("anonymous")
SERVICE = Principal("service")


class JwksCache:
    """The project's signing keys: fetched once, cached, fetched again when an unknown `kid` shows up.

    Refetches are spaced by `min_refresh_seconds` so that made-up key ids cannot make the service
    hammer the auth server.
    """

    def __init__(self, url: str, *, min_refresh_seconds: float = 30.0, timeout_seconds: float = 3.0) -> None:
        self.url = url
        self.min_refresh_seconds = min_refresh_seconds
        self.timeout_seconds = timeout_seconds
        self.fetches = 0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys and self._may_refresh():
            async with self._lock:
                if kid not in self._keys and self._may_refresh():
                    await self._refresh()
        if kid not in self._keys:
            raise Unauthorized("token signed with an unknown key")
        return self._keys[kid]

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self.min_refresh_seconds

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        try:
            async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                response = await client.get(self.url)
                response.raise_for_status()
                key_set = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            log.warning("could not fetch JWKS from %s: %s", self.url, exc)
            return
        self._keys = {key.key_id: key for key in key_set.keys if key.key_id}


VERIFIED_CACHE_SIZE = 4096


class TokenVerifier:
    def __init__(
        self,
        *,
        jwt_secret: str | None,
        service_role_key: str | None,
        jwks: JwksCache | None,
    ) -> None:
        self.jwt_secret = jwt_secret
        self.service_role_key = service_role_key
        self.jwks = jwks
        # Token -> (principal, expiry): a client sends the same token with every call, and a
        # signature check costs more than the rest of a cheap request. Expiry is checked on every hit.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    async def principal(self, authorization: str | None) -> Principal:
        if authorization is None or not authorization.strip():
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("Authorization must be 'Bearer <token>'")
        if self.service_role_key and hmac.compare_digest(token.encode(), self.service_role_key.encode()):
            return SERVICE
        if (cached := self._verified.get(token)) is not None and cached[1] > time.time():
            self._verified.move_to_end(token)
            return cached[0]
        claims = await self._verified_claims(token)
        principal = _principal_from_claims(claims)
        self._remember(token, principal, float(claims["exp"]))
        return principal

    def _remember(self, token: str, principal: Principal, expires: float) -> None:
        self._verified[token] = (principal, expires)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)

    async def _verified_claims(self, token: str) -> dict[str, Any]:
        if self.jwks is None and self.jwt_secret:
            # Only HS256 can verify here, and PyJWT checks the header's `alg` itself: no need to read
            # the header first. A token refused here goes the full way below, which says why.
            with contextlib.suppress(jwt.PyJWTError, ValueError, TypeError):
                return _decoded(token, self.jwt_secret, "HS256")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        algorithm = header.get("alg")
        key = await self._key_for(algorithm, header.get("kid"))
        try:
            return _decoded(token, key, str(algorithm))
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized("invalid token") from exc

    async def _key_for(self, algorithm: object, kid: object) -> Any:
        if algorithm == "HS256":
            if not self.jwt_secret:
                raise Unauthorized("user tokens are refused: SUPABASE_JWT_SECRET is not configured")
            return self.jwt_secret
        if algorithm in ASYMMETRIC_ALGORITHMS:
            if self.jwks is None:
                raise Unauthorized(f"{algorithm} tokens are refused: SUPABASE_URL is not configured")
            if not isinstance(kid, str):
                raise Unauthorized("asymmetric token without a key id")
            jwk = await self.jwks.key(kid)
            if jwk.algorithm_name != algorithm:
                raise Unauthorized("token algorithm does not match its key")
            return jwk.key
        raise Unauthorized(f"unsupported token algorithm {algorithm!r}")


def _decoded(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """The token's claims, its signature and expiry verified; refused for another audience."""
    claims: dict[str, Any] = jwt.decode(
        token, key, algorithms=[algorithm], options={"require": ["exp"], "verify_aud": False}
    )
    _check_audience(claims)
    return claims


def _check_audience(claims: dict[str, Any]) -> None:
    audience = claims.get("aud")
    if audience is None:
        return
    audiences = audience if isinstance(audience, list) else [audience]
    if USER_AUDIENCE not in audiences:
        raise Unauthorized("token is for another audience")


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    role = claims.get("role")
    if role == "service_role":
        return SERVICE
    if role == "anon" and "sub" not in claims:
        # The project's anon key, which Supabase clients send when nobody is signed in.
        return ANONYMOUS
    try:
        user_id = UUID(str(claims["sub"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("token has no user id (sub)") from exc
    return Principal(
        "user",
        user_id=user_id,
        email=_optional_text(claims.get("email")),
        phone=_optional_text(claims.get("phone")),
    )


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def mint_token(
    secret: str,
    *,
    sub: str,
    role: str = "authenticated",
    email: str | None = None,
    phone: str | None = None,
    ttl_seconds: int = 24 * 3600,
) -> str:
    """An HS256 token shaped like Supabase Auth's (development and tests)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "aud": USER_AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if email:
        claims["email"] = email
    if phone:
        claims["phone"] = phone
    return jwt.encode(claims, secret, algorithm="HS256")
