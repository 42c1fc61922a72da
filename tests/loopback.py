"""Small HTTP servers on 127.0.0.1 for tests: a JWKS endpoint today, fake providers later."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)
    raw: bytes | None = None  # sent as it is instead of JSON (garbage, HTML error pages)
    hang: bool = False  # read the request, then never answer
    reset: bool = False  # read the request, then drop the connection
    headers: dict[str, str] = field(default_factory=dict)  # sent besides content-type and content-length


Responder = Callable[[Recorded], Reply]


@dataclass
class LoopbackServer:
    url: str
    requests: list[Recorded]


class _Server(ThreadingHTTPServer):
    # A provider takes a burst of connections (ten workers sending at once): with socketserver's
    # default backlog of 5, a connection beyond it waits a second for its SYN to be sent again.
    request_queue_size = 128


@contextmanager
def serve(responder: Responder, port: int = 0) -> Iterator[LoopbackServer]:
    requests: list[Recorded] = []
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            recorded = Recorded(self.command, self.path, dict(self.headers.items()), self.rfile.read(length))
            requests.append(recorded)
            reply = responder(recorded)
            if reply.hang:
                stopping.wait(60)
                self.close_connection = True
                return
            if reply.reset:
                self.close_connection = True
                return
            payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            headers = {"content-type": "application/json"} | reply.headers
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *_: Any) -> None:
            pass

    server = _Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield LoopbackServer(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
