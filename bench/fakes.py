"""Loopback stand-ins for Resend and Twilio that accept every message (for the "with providers" line)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Accepting(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        twilio = self.path.endswith("/Messages.json")
        body = json.dumps({"sid": "SM" + uuid.uuid4().hex} if twilio else {"id": str(uuid.uuid4())}).encode()
        self.send_response(201 if twilio else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def accepting_providers() -> Iterator[dict[str, str]]:
    """Environment for `booking serve` that points both providers at one accepting fake."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield {
            "RESEND_API_KEY": "re_bench",
            "RESEND_FROM_EMAIL": "bench@example.com",
            "RESEND_API_URL": url,
            "TWILIO_ACCOUNT_SID": "ACbench",
            "TWILIO_AUTH_TOKEN": "token",
            "TWILIO_FROM_NUMBER": "+15005550006",
            "TWILIO_API_BASE_URL": url,
        }
    finally:
        server.shutdown()
        server.server_close()
