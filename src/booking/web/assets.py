"""The page's static files, read once from the package, each with the hash of its content: the HTML asks
for `name?v=<hash>`, which may be cached for a year; any other request revalidates by ETag."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str  # the first 16 hex digits of the content's SHA-256

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


@cache
def assets() -> dict[str, Asset]:
    folder = resources.files("booking.web") / "static"
    found = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in MEDIA_TYPES:
            body = entry.read_bytes()
            found[entry.name] = Asset(body, MEDIA_TYPES[suffix], hashlib.sha256(body).hexdigest()[:16])
    return found


def asset_url(name: str) -> str:
    return f"/book/assets/{name}?v={assets()[name].version}"
