"""SPEC §3: which tokens are accepted, as whom, and that every bad one is a 401 in the envelope."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from booking.auth import ANONYMOUS, SERVICE, JwksCache, TokenVerifier, mint_token
from booking.errors import Unauthorized
from tests.loopback import LoopbackServer, Recorded, Reply, serve
from tests.support import SECRET, SERVICE_KEY, Api, bearer


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(uuid.uuid4()),
        "role": "authenticated",
        "aud": "authenticated",
        "exp": now + 600,
    } | extra


def verifier(jwks: JwksCache | None = None, secret: str | None = SECRET) -> TokenVerifier:
    return TokenVerifier(jwt_secret=secret, service_role_key=SERVICE_KEY, jwks=jwks)


def unsigned(payload: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


async def test_no_header_is_anonymous() -> None:
    assert await verifier().principal(None) == ANONYMOUS


async def test_service_role_key_is_the_service() -> None:
    assert await verifier().principal(f"Bearer {SERVICE_KEY}") == SERVICE


async def test_hs256_user_token_gives_user_with_contact_claims() -> None:
    payload = claims(email="s@example.com", phone="+15551234567")
    principal = await verifier().principal("Bearer " + jwt.encode(payload, SECRET, algorithm="HS256"))
    assert principal.kind == "user"
    assert str(principal.user_id) == payload["sub"]
    assert (principal.email, principal.phone) == ("s@example.com", "+15551234567")


async def test_service_role_claim_is_the_service() -> None:
    token = jwt.encode(claims(role="service_role"), SECRET, algorithm="HS256")
    assert await verifier().principal(f"Bearer {token}") == SERVICE


async def test_anon_key_is_anonymous() -> None:
    payload = {"role": "anon", "exp": int(time.time()) + 60}
    assert await verifier().principal("Bearer " + jwt.encode(payload, SECRET, algorithm="HS256")) == ANONYMOUS


# Each bad token, and the reason it is refused with (the fast HS256 path must not change the reason).
BAD_TOKENS: dict[str, tuple[Callable[[], str], str]] = {
    "alg none": (lambda: unsigned(claims()), "unsupported token algorithm 'none'"),
    "wrong signature": (
        lambda: jwt.encode(claims(), "another-secret-of-sufficient-length-123", algorithm="HS256"),
        "invalid token",
    ),
    "expired": (
        lambda: jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256"),
        "token expired",
    ),
    "no exp": (
        lambda: jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, algorithm="HS256"),
        "invalid token",
    ),
    "malformed": (lambda: "not.a.jwt", "malformed token"),
    "garbage": (lambda: "%%%", "malformed token"),
    "other audience": (
        lambda: jwt.encode(claims(aud="someone-else"), SECRET, algorithm="HS256"),
        "token is for another audience",
    ),
    "sub not a uuid": (
        lambda: jwt.encode(claims(sub="bob"), SECRET, algorithm="HS256"),
        "token has no user id (sub)",
    ),
    "HS512": (
        lambda: jwt.encode(claims(), SECRET * 2, algorithm="HS512"),
        "unsupported token algorithm 'HS512'",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
async def test_bad_tokens_are_refused_with_their_reason(kind: str) -> None:
    token, reason = BAD_TOKENS[kind]
    with pytest.raises(Unauthorized) as refused:
        await verifier().principal("Bearer " + token())
    assert refused.value.message == reason


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"])
async def test_other_schemes_are_refused(header: str) -> None:
    with pytest.raises(Unauthorized):
        await verifier().principal(header)


async def test_user_tokens_refused_without_secret() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="SUPABASE_JWT_SECRET"):
        await verifier(secret=None).principal(f"Bearer {token}")


# --- asymmetric keys from a JWKS served on loopback -----------------------------------------------


class KeyRing:
    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}

    def add_ec(self, kid: str) -> ec.EllipticCurvePrivateKey:
        key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = (key, "ES256")
        return key

    def add_rsa(self, kid: str) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = (key, "RS256")
        return key

    def jwks(self, _: Recorded) -> Reply:
        out = []
        for kid, (key, alg) in self.keys.items():
            public = key.public_key()
            algorithm = jwt.algorithms.ECAlgorithm if alg == "ES256" else jwt.algorithms.RSAAlgorithm
            jwk = json.loads(algorithm.to_jwk(public))
            out.append(jwk | {"kid": kid, "alg": alg, "use": "sig"})
        return Reply(200, {"keys": out})

    def sign(self, kid: str, payload: dict[str, Any]) -> str:
        key, alg = self.keys[kid]
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def keyring() -> Iterator[tuple[KeyRing, LoopbackServer]]:
    ring = KeyRing()
    with serve(ring.jwks) as server:
        yield ring, server


def jwks_verifier(server: LoopbackServer) -> tuple[TokenVerifier, JwksCache]:
    cache = JwksCache(server.url + "/auth/v1/.well-known/jwks.json", min_refresh_seconds=0)
    return verifier(jwks=cache), cache


async def test_es256_and_rs256_tokens_verified_against_jwks(keyring: tuple[KeyRing, LoopbackServer]) -> None:
    ring, server = keyring
    ring.add_ec("ec-1")
    ring.add_rsa("rsa-1")
    check, cache = jwks_verifier(server)
    for kid in ("ec-1", "rsa-1"):
        payload = claims()
        principal = await check.principal("Bearer " + ring.sign(kid, payload))
        assert str(principal.user_id) == payload["sub"]
    assert cache.fetches == 1, "the key set is fetched once and cached"
    assert server.requests[0].path == "/auth/v1/.well-known/jwks.json"


async def test_unknown_kid_refreshes_the_key_set(keyring: tuple[KeyRing, LoopbackServer]) -> None:
    ring, server = keyring
    ring.add_ec("old")
    check, cache = jwks_verifier(server)
    await check.principal("Bearer " + ring.sign("old", claims()))
    ring.add_ec("rotated")
    await check.principal("Bearer " + ring.sign("rotated", claims()))
    assert cache.fetches == 2


async def test_refresh_is_rate_limited(keyring: tuple[KeyRing, LoopbackServer]) -> None:
    ring, server = keyring
    ring.add_ec("known")
    cache = JwksCache(server.url + "/jwks", min_refresh_seconds=3600)
    check = verifier(jwks=cache)
    await check.principal("Bearer " + ring.sign("known", claims()))
    forged = jwt.encode(
        claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "x"}
    )
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await check.principal(f"Bearer {forged}")
    assert cache.fetches == 1


async def test_token_signed_by_a_key_not_in_the_set_is_refused(
    keyring: tuple[KeyRing, LoopbackServer],
) -> None:
    ring, server = keyring
    ring.add_ec("k")
    check, _ = jwks_verifier(server)
    impostor = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(claims(), impostor, algorithm="ES256", headers={"kid": "k"})
    with pytest.raises(Unauthorized):
        await check.principal(f"Bearer {token}")


async def test_hs256_signed_with_the_public_key_is_refused(keyring: tuple[KeyRing, LoopbackServer]) -> None:
    """Algorithm confusion: the public key used as an HMAC secret must not verify."""
    ring, server = keyring
    key = ring.add_rsa("k")
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    check, _ = jwks_verifier(server)
    header = {"alg": "HS256", "typ": "JWT", "kid": "k"}
    body = claims()

    def part(value: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    import hashlib
    import hmac

    signing_input = part(header) + b"." + part(body)
    signature = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(Unauthorized):
        await check.principal("Bearer " + (signing_input + b"." + signature).decode())


async def test_unreachable_jwks_refuses_the_token() -> None:
    cache = JwksCache("http://127.0.0.1:9/jwks", min_refresh_seconds=0, timeout_seconds=0.5)
    token = jwt.encode(
        claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "k"}
    )
    with pytest.raises(Unauthorized):
        await verifier(jwks=cache).principal(f"Bearer {token}")


# --- through HTTP -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["alg none", "wrong signature", "expired", "malformed"])
async def test_http_bad_token_is_401_envelope_not_anonymous(api: Api, kind: str) -> None:
    # A public read with a bad token must not silently fall back to anonymous.
    token, reason = BAD_TOKENS[kind]
    response = await api.client.get("/api/brands", headers=bearer(token()))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.json()["error"]["message"] == reason


async def test_minted_token_is_accepted_over_http(api: Api) -> None:
    response = await api.client.get("/api/brands", headers=bearer(mint_token(SECRET, sub=str(uuid.uuid4()))))
    assert response.status_code == 200


async def test_a_cached_token_still_expires() -> None:
    check = verifier()
    expires = int(time.time()) + 2
    token = jwt.encode(claims(exp=expires), SECRET, algorithm="HS256")
    assert (await check.principal(f"Bearer {token}")).kind == "user"
    assert (await check.principal(f"Bearer {token}")).kind == "user", "served from the cache"
    await asyncio.sleep(expires - time.time() + 0.1)
    with pytest.raises(Unauthorized, match="expired"):
        await check.principal(f"Bearer {token}")
