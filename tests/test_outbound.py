"""The client for user-given URLs: the URL rules when saved and at every connection, and its limits."""

from __future__ import annotations

import asyncio
import datetime
import re
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from booking.outbound import (
    ConnectionFailed,
    OutboundClient,
    OutboundTimeout,
    RefusedAddress,
    Resolver,
    ResponseTooLarge,
    UnsafeUrl,
    _GuardedBackend,
    check_url,
)

PUBLIC = "93.184.216.34"


def answering(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


async def not_resolving(host: str, port: int) -> Sequence[str]:
    raise OSError(-2, "Name or service not known")


# --- a small HTTP/1.1 server on loopback whose paths misbehave on purpose ---


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Server:
    port: int
    requests: list[Seen] = field(default_factory=list)
    connections: int = 0


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def _reply(status: str, body: bytes, **headers: str) -> bytes:
    return _head(status, {"content-length": str(len(body)), **headers}) + body


async def _respond(seen: Seen, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
    path = seen.path
    if path == "/ok":
        writer.write(_reply("200 OK", b"hello", **{"content-type": "text/plain"}))
    elif path == "/echo":
        writer.write(_reply("200 OK", seen.body))
    elif path == "/redirect":
        writer.write(_reply("302 Found", b"", location="/target"))
    elif path == "/cookie":
        writer.write(_reply("200 OK", b"", **{"set-cookie": "session=s3cret; Path=/"}))
    elif path == "/gzip":
        writer.write(_reply("200 OK", b"\x1f\x8b not really", **{"content-encoding": "gzip"}))
    elif path == "/declared-huge":
        writer.write(_head("200 OK", {"content-length": str(10**9)}))
        await writer.drain()
        await stop.wait()
    elif path == "/endless":
        # Chunked and without end: only the client's limit stops it.
        writer.write(_head("200 OK", {"transfer-encoding": "chunked"}))
        chunk = b"x" * 16384
        while not stop.is_set():
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
    elif path == "/hang":
        await stop.wait()
    elif path == "/close":
        pass  # the handler closes the connection without a word
    else:
        writer.write(_reply("404 Not Found", b""))
    await writer.drain()


@asynccontextmanager
async def http_server(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    stop = asyncio.Event()
    state = Server(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ")
                headers = dict(line.split(": ", 1) for line in lines if line)
                headers = {k.lower(): v for k, v in headers.items()}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, path, headers, body)
                state.requests.append(seen)
                await _respond(seen, writer, stop)
                if path == "/close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            with suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ssl_context)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        stop.set()
        server.close()
        await server.wait_closed()


# --- saving a URL ---


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "absolute http:// or https:// URL"),
        ("ftp://example.com/feed.ics", "absolute http:// or https:// URL"),
        ("http://example.com/hook", "must use https://"),
        ("https://example.com/" + "a" * 2000, "longer than 2000 characters"),
        ("https://user:pass@example.com/hook", "user name or password"),
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://10.1.2.3/hook", "10.1.2.3 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/hook", "is a loopback address (as 127.0.0.1)"),
        ("https://0.0.0.0/hook", "0.0.0.0 is an unspecified address"),
        ("https://100.64.0.1/hook", "carrier-grade NAT"),
        ("https://[fc00::1]/hook", "fc00::1 is a private address"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "reserved"),
        ("https://[2002:7f00:1::]/hook", "loopback address (as 127.0.0.1)"),
    ],
)
async def test_refused_when_saved(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl, match=re.escape(message)):
        await check_url(url, allow_private=False, resolver=answering(PUBLIC))


async def test_a_name_resolving_to_loopback_is_refused_when_saved() -> None:
    # The machine's own resolver: localhost is 127.0.0.1 here.
    with pytest.raises(RefusedAddress, match=r"localhost resolves to 127\.0\.0\.1, which is a loopback"):
        await check_url("https://localhost/hook", allow_private=False)


async def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    with pytest.raises(RefusedAddress, match=r"10\.0\.0\.7, which is a private address"):
        await check_url(
            "https://hooks.example.com/", allow_private=False, resolver=answering(PUBLIC, "10.0.0.7")
        )


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeUrl, match=r"nowhere\.example\.com does not resolve"):
        await check_url("https://nowhere.example.com/feed.ics", allow_private=False, resolver=not_resolving)
    with pytest.raises(UnsafeUrl, match="does not resolve"):
        await check_url("https://nowhere.example.com/", allow_private=False, resolver=answering())


async def test_messages_never_show_the_path_or_query() -> None:
    with pytest.raises(UnsafeUrl) as caught:
        await check_url("https://10.1.2.3/private/s3cret.ics?token=t0ken", allow_private=False)
    assert "s3cret" not in str(caught.value)
    assert "t0ken" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://calendar.example.com/feeds/abc.ics?key=1",
        "https://[2606:4700::1111]/hook",
        "https://8.8.8.8:8443/",
    ],
)
async def test_public_https_urls_are_accepted(url: str) -> None:
    assert await check_url(url, allow_private=False, resolver=answering(PUBLIC)) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "http://[::1]:9/",
        "http://169.254.169.254/",
        "http://name-that-resolves-later.internal/",
    ],
)
async def test_anything_http_is_accepted_with_allow_private(url: str) -> None:
    assert await check_url(url, allow_private=True, resolver=not_resolving) == url


@pytest.mark.parametrize(
    "url", ["not a url", "ftp://127.0.0.1/x", "http://u:p@127.0.0.1/", "http://127.0.0.1/" + "a" * 2000]
)
async def test_the_shape_rules_hold_even_with_allow_private(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        await check_url(url, allow_private=True)


# --- connecting: the address actually connected to is checked ---


async def test_a_name_resolving_to_loopback_is_refused_at_connection_time() -> None:
    async with http_server() as server, OutboundClient(allow_private=False) as client:
        with pytest.raises(RefusedAddress, match=r"localhost resolves to 127\.0\.0\.1"):
            await client.get(f"https://localhost:{server.port}/ok")
        with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1 is a loopback address"):
            await client.post(f"https://127.0.0.1:{server.port}/ok", content=b"{}")
    assert server.connections == 0


async def test_dns_rebinding_after_the_save_is_refused() -> None:
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    async with http_server() as server:
        url = f"https://hooks.example.com:{server.port}/ok"
        assert await check_url(url, allow_private=False, resolver=rebinding) == url
        async with OutboundClient(allow_private=False, resolver=rebinding) as client:
            with pytest.raises(RefusedAddress, match=r"hooks\.example\.com resolves to 127\.0\.0\.1"):
                await client.post(url, content=b"{}")
    assert server.connections == 0


async def test_the_client_applies_the_shape_rules_too() -> None:
    async with OutboundClient(allow_private=False, resolver=answering(PUBLIC)) as client:
        with pytest.raises(UnsafeUrl, match="must use https://"):
            await client.get("http://hooks.example.com/")
        with pytest.raises(UnsafeUrl, match="user name or password"):
            await client.get("https://a:b@hooks.example.com/")


async def test_a_name_that_stopped_resolving_is_a_connection_failure() -> None:
    async with OutboundClient(allow_private=False, resolver=not_resolving) as client:
        with pytest.raises(ConnectionFailed, match="does not resolve"):
            await client.get("https://gone.example.com/feed.ics")


# --- answers and failures, on loopback with allow_private ---


async def test_a_plain_answer_with_its_body() -> None:
    async with http_server() as server, OutboundClient(allow_private=True) as client:
        response = await client.get(f"http://127.0.0.1:{server.port}/ok", headers={"if-none-match": '"v1"'})
        posted = await client.post(
            f"http://localhost:{server.port}/echo",
            content=b'{"a": 1}',
            headers={"content-type": "application/json"},
        )
    assert (response.status_code, response.body, response.is_success) == (200, b"hello", True)
    assert response.headers["content-type"] == "text/plain"
    assert posted.body == b'{"a": 1}'
    get, post = server.requests
    assert get.headers["if-none-match"] == '"v1"'
    assert get.headers["accept-encoding"] == "identity"
    assert (post.method, post.headers["content-type"], post.body) == ("POST", "application/json", b'{"a": 1}')


async def test_a_redirect_is_answered_not_followed() -> None:
    async with http_server() as server, OutboundClient(allow_private=True) as client:
        response = await client.post(f"http://127.0.0.1:{server.port}/redirect", content=b"{}")
    assert response.status_code == 302
    assert not response.is_success
    assert response.headers["location"] == "/target"
    assert [seen.path for seen in server.requests] == ["/redirect"]


async def test_a_server_that_hangs_times_out() -> None:
    async with http_server() as server, OutboundClient(allow_private=True, timeout_seconds=0.2) as client:
        started = time.monotonic()
        with pytest.raises(OutboundTimeout, match=r"within 0\.2 s"):
            await client.post(f"http://127.0.0.1:{server.port}/hang", content=b"{}")
    assert time.monotonic() - started < 2


async def test_an_endless_body_stops_at_the_limit() -> None:
    async with http_server() as server, OutboundClient(allow_private=True, max_bytes=100_000) as client:
        with pytest.raises(ResponseTooLarge, match="larger than 100000 bytes") as caught:
            await client.get(f"http://127.0.0.1:{server.port}/endless")
    assert caught.value.status_code == 200


async def test_a_declared_length_over_the_limit_fails_before_reading() -> None:
    async with http_server() as server, OutboundClient(allow_private=True, timeout_seconds=5) as client:
        with pytest.raises(ResponseTooLarge):
            await client.get(f"http://127.0.0.1:{server.port}/declared-huge", max_bytes=5 * 1024 * 1024)


async def test_a_closed_connection_and_a_refused_one_are_connection_failures() -> None:
    async with http_server() as server:
        port = server.port
        async with OutboundClient(allow_private=True) as client:
            with pytest.raises(ConnectionFailed, match="disconnected"):
                await client.post(f"http://127.0.0.1:{port}/close", content=b"{}")
    # The server is gone now: nothing listens on its port.
    async with OutboundClient(allow_private=True) as client:
        with pytest.raises(ConnectionFailed, match="ConnectError"):
            await client.get(f"http://127.0.0.1:{port}/ok")


async def test_an_unrequested_compressed_body_is_refused() -> None:
    async with http_server() as server, OutboundClient(allow_private=True) as client:
        with pytest.raises(ConnectionFailed, match="content-encoding gzip"):
            await client.get(f"http://127.0.0.1:{server.port}/gzip")


async def test_cookies_from_one_server_are_never_sent_on() -> None:
    async with http_server() as server, OutboundClient(allow_private=True) as client:
        await client.get(f"http://127.0.0.1:{server.port}/cookie")
        await client.get(f"http://127.0.0.1:{server.port}/ok")
    assert "cookie" not in server.requests[1].headers


# --- TLS: the certificate is checked against the name, though the connection goes to a checked address ---


def _certificate(name: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_https_verifies_the_certificate_against_the_name(tmp_path: Path) -> None:
    cert_path, key_path = _certificate("feed.example.test", tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    trusting = ssl.create_default_context(cafile=str(cert_path))
    resolver = answering("127.0.0.1")
    async with (
        http_server(server_context) as server,
        OutboundClient(allow_private=True, resolver=resolver, ssl_context=trusting) as client,
    ):
        response = await client.get(f"https://feed.example.test:{server.port}/ok")
        with pytest.raises(ConnectionFailed, match="certificate"):
            await client.get(f"https://other.example.test:{server.port}/ok")
    assert response.status_code == 200
    assert server.requests[0].headers["host"] == f"feed.example.test:{server.port}"


async def test_the_peer_really_connected_to_is_checked_too() -> None:
    """Should the network deliver a connection to a public address somewhere private (a NAT, a proxy in the
    way), the socket's own peer address still refuses it."""

    class Misrouted(httpcore.AsyncNetworkBackend):
        def __init__(self, port: int) -> None:
            self.port = port

        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
            local_address: str | None = None,
            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            assert host == PUBLIC  # asked for the checked address ...
            return await httpcore.AnyIOBackend().connect_tcp("127.0.0.1", self.port)  # ... got loopback

    async with http_server() as server:
        backend = _GuardedBackend(allow_private=False, resolver=answering(PUBLIC))
        backend._inner = Misrouted(server.port)
        with pytest.raises(RefusedAddress, match=r"hooks\.example\.com connected to a loopback address"):
            await backend.connect_tcp("hooks.example.com", 443)


async def test_a_public_peer_passes() -> None:
    class PublicPeer(httpcore.AsyncNetworkStream):
        def get_extra_info(self, info: str) -> object:
            return (PUBLIC, 443) if info == "server_addr" else None

    stream = PublicPeer()

    class Direct(httpcore.AsyncNetworkBackend):
        async def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
            local_address: str | None = None,
            socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
        ) -> httpcore.AsyncNetworkStream:
            return stream

    backend = _GuardedBackend(allow_private=False, resolver=answering(PUBLIC))
    backend._inner = Direct()
    assert await backend.connect_tcp("hooks.example.com", 443) is stream
