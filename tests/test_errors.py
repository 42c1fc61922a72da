"""SPEC §6: every failure a client can cause is a 4xx in the error envelope."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import SERVICE, Api


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "details" in error
    return error


async def test_unknown_route(api: Api) -> None:
    assert_envelope(await api.client.get("/api/nothing-here"), 404, "not_found")


async def test_wrong_method(api: Api) -> None:
    assert_envelope(await api.client.delete("/api/brands"), 405, "method_not_allowed")


async def test_malformed_json(api: Api) -> None:
    response = await api.client.post(
        "/api/brands", content=b'{"name": "x", ', headers=SERVICE | {"content-type": "application/json"}
    )
    error = assert_envelope(response, 422, "validation_error")
    assert error["details"][0]["type"] == "json_invalid"


async def test_body_of_wrong_json_type(api: Api) -> None:
    assert_envelope(
        await api.client.post("/api/brands", json=[1, 2], headers=SERVICE), 422, "validation_error"
    )


async def test_bad_uuid_in_path(api: Api) -> None:
    response = await api.client.post("/api/brands/not-a-uuid/admins", json={"user_id": "x"}, headers=SERVICE)
    error = assert_envelope(response, 422, "validation_error")
    assert ["path", "brand_id"] in [d["loc"] for d in error["details"]]


async def test_bad_uuid_in_query(api: Api) -> None:
    error = assert_envelope(await api.client.get("/api/instructors?brand_id=42"), 422, "validation_error")
    assert error["details"][0]["loc"] == ["query", "brand_id"]


async def test_missing_query_parameter(api: Api) -> None:
    assert_envelope(await api.client.get("/api/instructors"), 422, "validation_error")


async def test_unknown_fields_are_refused(api: Api) -> None:
    body = {"name": "A", "slug": "a", "owner": "me"}
    assert_envelope(await api.client.post("/api/brands", json=body, headers=SERVICE), 422, "validation_error")


@pytest.mark.parametrize("size", [70_000, 1_000_000])
async def test_oversized_body_is_413(api: Api, size: int) -> None:
    body = b'{"name": "' + b"x" * size + b'", "slug": "big"}'
    response = await api.client.post(
        "/api/brands", content=body, headers=SERVICE | {"content-type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")
    assert (await api.client.get("/api/brands")).json()["brands"] == []


async def test_oversized_chunked_body_is_413(api: Api) -> None:
    async def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'", "slug": "chunked"}'

    response = await api.client.post(
        "/api/brands", content=chunks(), headers=SERVICE | {"content-type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_security_headers_and_no_cors_by_default(api: Api) -> None:
    response = await api.client.get("/api/brands", headers={"Origin": "https://evil.example"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in response.headers


async def test_health_reports_the_database(api: Api, backend: str) -> None:
    response = await api.client.get("/health")
    assert response.json() == {"status": "ok", "database": backend}


async def test_openapi_and_docs_are_served(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    assert "/api/brands" in spec["paths"]
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    # Swagger UI comes from the package itself: no script, style or icon from another origin.
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(source.startswith("/docs/assets/") for source in sources), sources
    assert "cdn" not in docs.text
    for source in sources:
        asset = await api.client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    assert (await api.client.get("/redoc")).status_code == 404
