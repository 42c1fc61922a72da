"""HTTP conformance: authentication before validation, Allow on 405, strict instants, and an OpenAPI
document that says who may call each operation and which error codes it answers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from booking.bookings import errors as booking_errors
from booking.enums import ErrorCode
from booking.errors import AppError
from booking.openapi import CODES, schema_name
from tests.support import REMINDER_KEY, SERVICE, Api, bearer

UNAUTHORIZED = {"code": "unauthorized"}
PUBLIC_OPERATIONS = {
    ("get", "/api/brands"),
    ("get", "/api/instructors"),
    ("get", "/api/instructors/{instructor_id}/availability"),
    ("get", "/api/instructors/{instructor_id}/slots"),
    ("get", "/api/instructors/{instructor_id}/slots/explain"),  # details for the instructor and staff only
    ("get", "/api/brands/{brand_id}/packages"),  # what a brand sells
    ("get", "/api/calendar-feeds/{secret}.ics"),
    ("get", "/health"),
    # Without a token: the payer back from Stripe (its session id is the proof), and Stripe itself.
    ("post", "/api/bookings/{booking_id}/checkout/refresh"),
    ("post", "/api/series/{series_id}/checkout/refresh"),
    ("post", "/api/passes/{pass_id}/checkout/refresh"),
    ("post", "/api/payments/stripe/webhook"),
}
REMINDERS = ("post", "/api/bookings/reminders")


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"].items() >= UNAUTHORIZED.items()


# --- an anonymous caller learns nothing about the request -------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"json": {}},
        {"json": {"brand_id": "nope", "starts_at": 0, "extra": True}},
        {"json": [1, 2]},
        {"content": b'{"brand_id": ', "headers": {"content-type": "application/json"}},
        {"content": b"\xff\xfe\x00", "headers": {"content-type": "application/json"}},
    ],
    ids=["empty", "wrong fields", "wrong type", "malformed JSON", "not UTF-8"],
)
async def test_anonymous_booking_with_invalid_body_is_401(api: Api, body: dict[str, Any]) -> None:
    assert_unauthorized(await api.client.post("/api/bookings", **body))


async def test_anonymous_availability_write_with_garbage_is_401(api: Api) -> None:
    assert_unauthorized(await api.client.put("/api/instructors/not-a-uuid/availability", json=["garbage"]))
    assert_unauthorized(
        await api.client.put(
            f"/api/instructors/{uuid.uuid4()}/availability",
            content=b"garbage",
            headers={"content-type": "application/json"},
        )
    )


async def test_anonymous_reads_that_need_a_caller_are_401_whatever_the_query(api: Api) -> None:
    assert_unauthorized(await api.client.get("/api/bookings", params={"brand_id": "x", "from": "0.0"}))
    assert_unauthorized(await api.client.get("/api/bookings/not-a-uuid"))
    assert_unauthorized(await api.client.get(f"/api/instructors/{uuid.uuid4()}/calendar"))


async def test_a_caller_with_a_token_still_gets_the_validation_details(api: Api) -> None:
    response = await api.client.post("/api/bookings", json={}, headers=SERVICE)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_public_reads_answer_anonymous_callers_and_refuse_bad_tokens(api: Api) -> None:
    brand = (await api.brand())["id"]
    instructor = (await api.instructor([brand]))["id"]
    reads = [
        ("/api/brands", {}),
        ("/api/instructors", {"brand_id": brand}),
        (f"/api/instructors/{instructor}/availability", {"brand_id": brand}),
        (
            f"/api/instructors/{instructor}/slots",
            {"brand_id": brand, "from": "2026-12-02", "to": "2026-12-03"},
        ),
        ("/health", {}),
    ]
    for path, params in reads:
        anonymous = await api.client.get(path, params=params)
        assert anonymous.status_code == 200, (path, anonymous.text)
        assert_unauthorized(await api.client.get(path, params=params, headers=bearer("not-a-token")))


async def test_public_reads_validate_for_anonymous_callers(api: Api) -> None:
    response = await api.client.get("/api/instructors", params={"brand_id": "42"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_reminders_need_their_key_not_a_bearer(api: Api) -> None:
    answered = await api.client.post(
        "/api/bookings/reminders", headers={"x-booking-reminder-key": REMINDER_KEY}
    )
    assert answered.status_code == 200, answered.text
    assert_unauthorized(await api.client.post("/api/bookings/reminders"))
    assert_unauthorized(
        await api.client.post("/api/bookings/reminders", headers={"x-booking-reminder-key": "wrong"})
    )
    assert_unauthorized(
        await api.client.post(
            "/api/bookings/reminders", headers=SERVICE | {"x-booking-reminder-key": "wrong"}
        )
    )


# --- 405 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", f"/api/bookings/{uuid.UUID(int=1)}", "GET, PATCH"),
        ("PUT", "/api/bookings", "GET, POST"),
        ("DELETE", "/api/brands", "GET, POST"),
        ("POST", f"/api/instructors/{uuid.UUID(int=1)}/availability", "GET, PUT"),
        ("GET", f"/api/instructors/{uuid.UUID(int=1)}/brands/{uuid.UUID(int=2)}", "DELETE, PUT"),
        ("OPTIONS", "/api/bookings/reminders", "POST"),
    ],
)
async def test_method_not_allowed_lists_every_method_of_the_path(
    api: Api, method: str, path: str, allowed: str
) -> None:
    response = await api.client.request(method, path, headers=SERVICE)
    assert response.status_code == 405, response.text
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == allowed


# --- instants and dates are ISO 8601 text ------------------------------------------------------------


@pytest.mark.parametrize("value", ["0.0", "0", "1764590400", "2026-12-01", "2026-12-01 09:00:00Z"])
async def test_instant_query_parameters_are_iso_8601_only(api: Api, value: str) -> None:
    brand = (await api.brand())["id"]
    response = await api.client.get(
        "/api/bookings", params={"brand_id": brand, "from": value}, headers=SERVICE
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["loc"] == ["query", "from"]


async def test_an_iso_instant_with_an_offset_is_accepted(api: Api) -> None:
    brand = (await api.brand())["id"]
    params = {"brand_id": brand, "from": "2026-12-01T09:00:00+01:00", "to": "2026-12-02T09:00:00Z"}
    response = await api.client.get("/api/bookings", params=params, headers=SERVICE)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", [0, 0.0, 1764590400, True, "1764590400"])
async def test_instants_in_the_body_are_iso_8601_strings_only(api: Api, value: object) -> None:
    brand = (await api.brand())["id"]
    instructor = (await api.instructor([brand]))["id"]
    body = {
        "brand_id": brand,
        "instructor_id": instructor,
        "starts_at": value,
        "student_timezone": "UTC",
        "student_id": str(uuid.uuid4()),
    }
    response = await api.client.post("/api/bookings", json=body, headers=SERVICE)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["loc"] for d in error["details"]] == [["body", "starts_at"]]


@pytest.mark.parametrize("value", ["0", "20261202", "2026-12-02T00:00:00"])
async def test_dates_are_yyyy_mm_dd_only(api: Api, value: str) -> None:
    brand = (await api.brand())["id"]
    instructor = (await api.instructor([brand]))["id"]
    params = {"brand_id": brand, "from": value, "to": "2026-12-03"}
    response = await api.client.get(f"/api/instructors/{instructor}/slots", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["loc"] == ["query", "from"]


async def test_a_date_in_a_body_is_not_a_number(api: Api) -> None:
    brand = (await api.brand())["id"]
    instructor = (await api.instructor([brand]))["id"]
    body = {"brand_id": brand, "overrides": [{"date": 0, "kind": "blocked"}]}
    response = await api.client.put(f"/api/instructors/{instructor}/availability", json=body, headers=SERVICE)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["loc"][:2] == ["body", "overrides"]


# --- the OpenAPI document ----------------------------------------------------------------------------


async def openapi(api: Api) -> dict[str, Any]:
    response = await api.client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def codes_of(document: dict[str, Any], method: str, path: str, status: int) -> set[str]:
    """The codes the document lists for one status of one operation, read off the schemas."""
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    components = document["components"]["schemas"]
    names = [ref["$ref"].rpartition("/")[2] for ref in schema.get("oneOf", [schema])]
    return {components[name]["properties"]["error"]["properties"]["code"]["const"] for name in names}


async def test_booking_creation_documents_each_of_its_codes(api: Api) -> None:
    document = await openapi(api)
    assert codes_of(document, "post", "/api/bookings", 409) == {
        "slot_unavailable",
        "booking_limit_reached",
        "too_many_pending_bookings",
        "pass_not_usable",
        "conflict",
    }
    assert codes_of(document, "post", "/api/bookings", 422) == {
        "validation_error",
        "in_the_past",
        "too_soon",
        "beyond_booking_window",
        "outside_availability",
        "idempotency_key_reused",
    }
    # not_found: a pass_id naming another student's pass.
    assert codes_of(document, "post", "/api/bookings", 404) == {"instructor_not_in_brand", "not_found"}
    assert codes_of(document, "post", "/api/bookings", 403) == {"forbidden"}
    description = document["paths"]["/api/bookings"]["post"]["responses"]["422"]["description"]
    assert "`too_soon`" in description


async def test_every_operation_documents_the_app_wide_errors(api: Api) -> None:
    document = await openapi(api)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert codes_of(document, method, path, 401) == {"unauthorized"}, (method, path)
            assert "payload_too_large" in codes_of(document, method, path, 413)
            assert "database_unavailable" in codes_of(document, method, path, 503)
            if method != "get":
                assert "conflict" in codes_of(document, method, path, 409), (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "validation_error" in codes_of(document, method, path, 422), (method, path)
            for status in operation["responses"]:
                if status.startswith(("4", "5")):
                    codes_of(document, method, path, int(status))  # each one resolves to its code
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas, "FastAPI's 422 body is not what the API sends"


async def test_security_says_who_may_call(api: Api) -> None:
    document = await openapi(api)
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["ReminderKey"] == schemes["ReminderKey"] | {
        "type": "apiKey",
        "in": "header",
        "name": "x-booking-reminder-key",
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method, path) in PUBLIC_OPERATIONS:
                assert operation["security"] == [{}, {"HTTPBearer": []}], (method, path)
            elif (method, path) == REMINDERS:
                assert operation["security"] == [{"ReminderKey": []}]
            else:
                assert operation["security"] == [{"HTTPBearer": []}], (method, path)


def all_error_classes(base: type[AppError] = AppError) -> list[type[AppError]]:
    found = []
    for sub in base.__subclasses__():
        found += [sub, *all_error_classes(sub)]
    return found


def test_every_code_has_a_status_and_a_meaning_and_classes_agree() -> None:
    assert set(CODES) == set(ErrorCode)
    assert booking_errors.BOOKING_REFUSALS, "imported so that its classes are checked too"
    for error in all_error_classes():
        assert CODES[error.code][0] == error.status, error
    assert len({schema_name(code) for code in ErrorCode}) == len(ErrorCode)
