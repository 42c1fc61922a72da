"""A TCP proxy on loopback in front of PostgreSQL that fails the way a stopping server does.

It forwards the wire protocol untouched, but passes the server's messages on whole, so that it can cut a
connection between two messages with PostgreSQL's own FATAL, as a backend does when the server shuts
down (`57P01 terminating connection due to administrator command`), or with a reset. New connections
can be let through, closed at once, answered `57P03 the database system is shutting down` after their
startup packet, or refused (nothing listening). The proxy runs its own event loop in a thread, so that
it serves server processes and the test's own loop alike; its methods block only for that loop's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections import Counter
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")

# Startup-phase requests that the server answers with one byte ('N' or 'S'), not a framed message.
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
ONE_BYTE_ANSWERS = frozenset({SSL_REQUEST, GSSENC_REQUEST})


class Mode(StrEnum):
    FORWARD = "forward"
    CLOSE = "close"  # accept, then close at once
    SHUTTING_DOWN = "shutting_down"  # answer the startup packet with FATAL 57P03, then close
    REFUSE = "refuse"  # nothing listening: connection refused


def fatal(sqlstate: str, message: str) -> bytes:
    """An ErrorResponse message of severity FATAL, as PostgreSQL sends it before it closes."""
    fields = ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    body = b"".join(code + value.encode() + b"\0" for code, value in fields) + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


ADMIN_SHUTDOWN = fatal("57P01", "terminating connection due to administrator command")
SHUTTING_DOWN = fatal("57P03", "the database system is shutting down")


class _Link:
    """One proxied connection."""

    def __init__(
        self,
        client: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        server: tuple[asyncio.StreamReader, asyncio.StreamWriter],
    ) -> None:
        self.client_reader, self.client_writer = client
        self.server_reader, self.server_writer = server
        self.one_byte_answers = 0  # SSL/GSS requests the server has still to answer
        self.opaque = False  # TLS: no messages to frame
        self.tasks: list[asyncio.Task[None]] = []

    async def client_to_server(self) -> None:
        reader, writer = self.client_reader, self.server_writer
        while True:  # startup phase: length-prefixed packets without a type byte
            header = await reader.readexactly(8)
            length, code = struct.unpack("!ii", header)
            rest = await reader.readexactly(length - 8)
            if code in ONE_BYTE_ANSWERS:
                self.one_byte_answers += 1
            writer.write(header + rest)
            await writer.drain()
            if code not in ONE_BYTE_ANSWERS:
                break
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    async def server_to_client(self) -> None:
        """The server's bytes, passed on a whole message at a time."""
        reader, writer = self.server_reader, self.client_writer
        pending = bytearray()
        while data := await reader.read(65536):
            pending += data
            whole = bytearray()
            while self.one_byte_answers and pending:
                self.one_byte_answers -= 1
                self.opaque = self.opaque or pending[0:1] == b"S"
                whole += pending[0:1]
                del pending[0:1]
            if self.opaque:
                whole += pending
                pending.clear()
            while len(pending) >= 5:
                end = 1 + struct.unpack("!i", pending[1:5])[0]
                if len(pending) < end:
                    break
                whole += pending[:end]
                del pending[:end]
            writer.write(bytes(whole))
            await writer.drain()
        writer.write(bytes(pending))
        writer.close()

    async def cut(self, *, reset: bool) -> None:
        """End both sides: the client gets PostgreSQL's FATAL and an orderly close, or a reset.

        No await until both sides are closed: the pumps, cancelled, pass nothing on after the FATAL."""
        for task in self.tasks:
            task.cancel()
        if reset:
            _reset(self.client_writer)
        else:
            self.client_writer.write(ADMIN_SHUTDOWN)
            self.client_writer.close()
        self.server_writer.close()  # the backend sees the client go and rolls back
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class PostgresProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.mode = Mode.FORWARD
        self.counts: Counter[str] = Counter()  # connections per mode met, and connections cut
        self._links: set[_Link] = set()
        self._handlers: set[asyncio.Task[Any]] = set()  # one per accepted connection
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="pg-proxy", daemon=True)

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def start(self) -> None:
        self._thread.start()
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def set_mode(self, mode: Mode) -> None:
        self._call(self._set_mode(mode))

    def cut(self) -> int:
        """Cut every open connection, alternately with FATAL 57P01 and with a reset; answers how many."""
        return self._call(self._cut())

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, backlog=128)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set_mode(self, mode: Mode) -> None:
        if mode is Mode.REFUSE and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif mode is not Mode.REFUSE and self._server is None:
            await self._listen()  # the same port again (SO_REUSEADDR)
        self.mode = mode

    async def _cut(self) -> int:
        links = list(self._links)
        await asyncio.gather(*(link.cut(reset=i % 2 == 1) for i, link in enumerate(links)))
        self.counts["cut"] += len(links)
        return len(links)

    async def _stop(self) -> None:
        await self._cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._handlers:  # let them finish before the loop stops, so none is destroyed pending
            _, pending = await asyncio.wait(self._handlers, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = self.mode
        self.counts[mode] += 1
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        try:
            if mode is Mode.FORWARD:
                await self._forward(reader, writer)
            elif mode is Mode.SHUTTING_DOWN:
                await _refuse_startup(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            if handler is not None:
                self._handlers.discard(handler)

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server = await asyncio.open_connection(*self.upstream)
        link = _Link((reader, writer), server)
        link.tasks = [
            asyncio.create_task(link.client_to_server()),
            asyncio.create_task(link.server_to_client()),
        ]
        self._links.add(link)
        try:
            await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._links.discard(link)
            for task in link.tasks:
                task.cancel()
            await asyncio.gather(*link.tasks, return_exceptions=True)
            server[1].close()


async def _refuse_startup(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """What a stopping postmaster answers: no to SSL, then FATAL 57P03 to the startup packet."""
    while True:
        length, code = struct.unpack("!ii", await reader.readexactly(8))
        await reader.readexactly(length - 8)
        if code not in ONE_BYTE_ANSWERS:
            break
        writer.write(b"N")
    writer.write(SHUTTING_DOWN)
    await writer.drain()


@contextmanager
def postgres_proxy(upstream_host: str, upstream_port: int) -> Iterator[PostgresProxy]:
    proxy = PostgresProxy(upstream_host, upstream_port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
