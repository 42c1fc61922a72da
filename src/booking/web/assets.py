"""The page's static files, read once from the package, each with the hash of its content: the HTML asks
for `name?v=<hash>`, which may be cached for a year; any other request revalidates by ETag."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from booking.i18n import catalogue_json
from booking.types import LOCALES

MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
JSON = "application/json"


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
            found[entry.name] = _asset(body, MEDIA_TYPES[suffix])
    # The language catalogues, as `locale-<code>.json`: the Language select fetches one to switch.
    for code in LOCALES:
        found[f"locale-{code}.json"] = _asset(catalogue_json(code), JSON)
    return found


def _asset(body: bytes, media_type: str) -> Asset:
    return Asset(body, media_type, hashlib.sha256(body).hexdigest()[:16])


def asset_url(name: str) -> str:
    return f"/book/assets/{name}?v={assets()[name].version}"
