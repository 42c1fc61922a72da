"""The one HTTP client for URLs that users give us: webhook endpoints, busy-calendar feeds (SPEC §12, §13).

Two checks, one rule set (`ALLOW_PRIVATE_URLS` of SPEC Part two):

- `check_url` when a URL is saved: an absolute http(s) URL of at most 2,000 characters without credentials,
  `https://` only, and a host that is not, and does not resolve to, a loopback, private, link-local,
  multicast, reserved or unspecified address. A name that does not resolve is refused too: a feed or an
  endpoint that cannot be reached is a typo far more often than a name that will appear later.
- `OutboundClient` at every connection: it resolves the name itself, checks every address, and connects to a
  checked address, so a name that resolved to a public address when saved and to 127.0.0.1 now (DNS
  rebinding) still cannot reach a private one. TLS still verifies the certificate against the name.

With `allow_private=True` (development, tests) `http://` and every address are allowed; the URL must still be
an absolute http(s) URL of bounded length without credentials, and names are not resolved at save time.

Error messages name the host, never the path or query: calendar URLs carry their secret there.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Literal

import httpcore
import httpx

from booking.errors import field_error

MAX_URL_LENGTH = 2000
DEFAULT_TIMEOUT_SECONDS = 15.0
DEFAULT_MAX_BYTES = 1024 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to now; raises OSError (socket.gaierror) when it does not resolve.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")


class OutboundError(Exception):
    """Base of every failure of this module; `str()` is a short reason fit for `last_error`."""


class UnsafeUrl(OutboundError, ValueError):
    """The URL breaks the URL rules. At save time callers answer `422` with the message, e.g. by
    `raise booking.errors.field_error(str(exc), "body", "url") from exc`."""


class RefusedAddress(UnsafeUrl):
    """The host is, or resolves to, an address the rules forbid (at save time or at connection time)."""


class OutboundTimeout(OutboundError):
    """No complete answer within the time limit (connecting, sending, or reading)."""


class ConnectionFailed(OutboundError):
    """The exchange broke: the name does not resolve now, the connection was refused, reset or closed before
    a complete answer, TLS failed, or the answer was not valid HTTP."""


class ResponseTooLarge(OutboundError):
    """The answer's body is longer than the limit; reading stopped there."""

    def __init__(self, limit: int, status_code: int) -> None:
        super().__init__(f"response body larger than {limit} bytes")
        self.limit = limit
        self.status_code = status_code


@dataclass(frozen=True)
class OutboundResponse:
    """Any answer, 3xx included (redirects are never followed). `body` is at most the size limit."""

    status_code: int
    headers: httpx.Headers
    body: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_refusal(address: IPAddress) -> str | None:
    """Why the rules forbid connecting to this address, or None when it is a public unicast address."""
    # An IPv6 address that carries an IPv4 one reaches that IPv4 address: judge that one.
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            reason = address_refusal(embedded)
            return None if reason is None else f"{reason} (as {embedded})"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_ADDRESS_SPACE:
        return "a carrier-grade NAT address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local):
        return "a private address"
    if not address.is_global:
        return "a reserved address"
    return None


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Target:
    url: httpx.URL
    host: str  # as the connection sees it: IDNA-encoded, IPv6 without brackets
    port: int


def _parse(url: str, *, allow_private: bool) -> _Target:
    """The rules that need no resolver. Parsed by httpx, so what is checked is what gets connected to."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise UnsafeUrl("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.is_absolute_url or not parsed.raw_host:
        raise UnsafeUrl("URL must be an absolute http:// or https:// URL")
    if parsed.userinfo:
        raise UnsafeUrl("URL must not contain a user name or password")
    if parsed.scheme != "https" and not allow_private:
        raise UnsafeUrl("URL must use https://")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return _Target(parsed, parsed.raw_host.decode("ascii"), port)


async def _checked_addresses(host: str, port: int, resolver: Resolver, *, check: bool) -> list[IPAddress]:
    """The addresses to connect to for `host`; with `check`, every one of them must pass the rules."""
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            answers = await resolver(host, port)
            addresses = [ipaddress.ip_address(answer) for answer in answers]
        except (OSError, ValueError):
            addresses = []
        if not addresses:
            raise ConnectionFailed(f"host {host} does not resolve")
    if check:
        # One forbidden answer refuses the name: mixing public and private answers is how rebinding starts.
        for address in addresses:
            reason = address_refusal(address)
            if reason is not None:
                shown = host if literal is not None else f"{host} resolves to {address}, which"
                raise RefusedAddress(f"URL host {shown} is {reason}")
    return addresses


async def check_saved_url(url: str, *loc: str | int, allow_private: bool) -> str:
    """`check_url` for a URL a client is saving: a refusal is a `422` naming the field at `loc`."""
    try:
        return await check_url(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise field_error(f"url: {exc}", *loc) from exc


async def check_url(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> str:
    """The URL unchanged if it may be saved, else `UnsafeUrl` (callers answer `422` with its message).

    Without `allow_private` the host is resolved now (`resolver`, default the system's) and refused when
    any of its addresses is forbidden or when it does not resolve at all.
    """
    target = _parse(url, allow_private=allow_private)
    if not allow_private:
        try:
            await _checked_addresses(target.host, target.port, resolver or system_resolver, check=True)
        except ConnectionFailed as exc:
            raise UnsafeUrl(f"URL host {target.host} does not resolve") from exc
    return url


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the address rules applied to the address actually connected to."""

    def __init__(self, *, allow_private: bool, resolver: Resolver) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner: httpcore.AsyncNetworkBackend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        check = not self._allow_private
        try:
            async with asyncio.timeout(timeout):
                try:
                    addresses = await _checked_addresses(host, port, self._resolver, check=check)
                except ConnectionFailed as exc:
                    # httpcore's own type, so httpx reports it as the connect error it is.
                    raise httpcore.ConnectError(str(exc)) from exc
                stream = await self._connect_first(addresses, port, local_address, socket_options)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from exc
        if check:
            # Belt and braces: judge the peer the socket really has, not only the address asked for.
            peer = stream.get_extra_info("server_addr")
            reason = address_refusal(ipaddress.ip_address(peer[0])) if peer else "not known"
            if reason is not None:
                await stream.aclose()
                raise RefusedAddress(f"URL host {host} connected to {reason}")
        # The TLS handshake that follows (httpcore's) still uses `host` as server name, so certificates are
        # verified against the name, not the address.
        return stream

    async def _connect_first(
        self,
        addresses: Sequence[IPAddress],
        port: int,
        local_address: str | None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # addresses is never empty
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable through user-given URLs")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, backend: httpcore.AsyncNetworkBackend, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        # httpx offers no way to pass a network backend: replace the pool it built (no connection exists yet).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            network_backend=backend,
            max_connections=100,  # httpx's default limits
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )


class OutboundClient:
    """Requests to user-given URLs: no redirects followed, a time limit per request, a bounded body.

    Every method returns an `OutboundResponse` for any HTTP answer (3xx, 4xx, 5xx included) or raises one
    of: `UnsafeUrl` (the URL breaks the rules; `RefusedAddress` when its address does, checked at connection
    time), `OutboundTimeout`, `ConnectionFailed`, `ResponseTooLarge` — all `OutboundError`.

    The time limit covers the whole request (resolving, connecting, sending, reading the whole body), so a
    server that trickles bytes cannot hold it longer. Bodies are asked for uncompressed (`accept-encoding:
    identity`) so the limit bounds memory; an answer compressed anyway is a `ConnectionFailed`.
    No environment proxies, `.netrc` or cookies are used. One instance per event loop; `aclose()` it.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.timeout_seconds = timeout_seconds
        self.max_bytes = max_bytes
        backend = _GuardedBackend(allow_private=allow_private, resolver=resolver or system_resolver)
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._client = httpx.AsyncClient(
            transport=_GuardedTransport(backend, context),
            follow_redirects=False,
            trust_env=False,
            # A jar that keeps nothing: a cookie one user's server sets must not reach another's.
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
        )

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float | None = None,
        max_bytes: int | None = None,
    ) -> OutboundResponse:
        return await self._request("GET", url, None, headers, timeout_seconds, max_bytes)

    async def post(
        self,
        url: str,
        *,
        content: bytes,
        headers: Mapping[str, str] | None = None,
        timeout_seconds: float | None = None,
        max_bytes: int | None = None,
    ) -> OutboundResponse:
        return await self._request("POST", url, content, headers, timeout_seconds, max_bytes)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> OutboundClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _request(
        self,
        method: Literal["GET", "POST"],
        url: str,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        timeout_seconds: float | None,
        max_bytes: int | None,
    ) -> OutboundResponse:
        target = _parse(url, allow_private=self.allow_private)
        seconds = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        limit = self.max_bytes if max_bytes is None else max_bytes
        sent = httpx.Headers(headers)
        sent["accept-encoding"] = "identity"
        try:
            async with (
                asyncio.timeout(seconds),
                self._client.stream(
                    method, target.url, content=content, headers=sent, timeout=seconds
                ) as response,
            ):
                return await _read(response, limit)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise OutboundTimeout(f"no complete answer within {seconds:g} s") from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(_describe(exc)) from exc


async def _read(response: httpx.Response, limit: int) -> OutboundResponse:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(limit, response.status_code)
    body = bytearray()
    async for chunk in response.aiter_raw():
        if not body and chunk:
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise ConnectionFailed(f"answered with content-encoding {encoding}, which was not asked for")
        body += chunk
        if len(body) > limit:
            raise ResponseTooLarge(limit, response.status_code)
    return OutboundResponse(response.status_code, response.headers, bytes(body))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
