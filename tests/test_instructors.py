"""Instructors and brand links: SPEC §6 endpoints with the permissions of §3."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import SERVICE, Api, new_user


def instructor_body(brand_ids: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Ada",
        "email": "ada@example.com",
        "timezone": "Europe/Berlin",
        "brand_ids": brand_ids,
    } | extra


async def test_service_creates_instructor_in_several_brands(api: Api) -> None:
    a, b = await api.brand(slug="a"), await api.brand(slug="b")
    user_id = str(uuid.uuid4())
    body = instructor_body([a["id"], b["id"]], phone="+4915112345678", user_id=user_id)
    response = await api.client.post("/api/instructors", json=body, headers=SERVICE)
    assert response.status_code == 201, response.text
    instructor = response.json()["instructor"]
    assert set(instructor["brand_ids"]) == {a["id"], b["id"]}
    assert instructor["user_id"] == user_id and instructor["active"] is True
    assert instructor["phone"] == "+4915112345678"


async def test_admin_must_administer_every_listed_brand(api: Api) -> None:
    mine, theirs = await api.brand(slug="mine"), await api.brand(slug="theirs")
    _, admin = await api.admin_of(mine["id"])
    ok = await api.client.post("/api/instructors", json=instructor_body([mine["id"]]), headers=admin)
    assert ok.status_code == 201
    refused = await api.client.post(
        "/api/instructors", json=instructor_body([mine["id"], theirs["id"]], name="Bo"), headers=admin
    )
    assert refused.status_code == 403
    names = [
        i["name"]
        for i in (await api.client.get(f"/api/instructors?brand_id={mine['id']}")).json()["instructors"]
    ]
    assert names == ["Ada"]


async def test_students_and_anonymous_cannot_create_instructors(api: Api) -> None:
    brand = await api.brand()
    _, student = new_user()
    body = instructor_body([brand["id"]])
    assert (await api.client.post("/api/instructors", json=body)).status_code == 401
    assert (await api.client.post("/api/instructors", json=body, headers=student)).status_code == 403


async def test_invalid_instructor_fields_are_422_and_write_nothing(api: Api) -> None:
    brand = await api.brand()
    bad = [
        instructor_body([brand["id"]], timezone="Mars/Olympus"),
        instructor_body([brand["id"]], email="not-an-email"),
        instructor_body([brand["id"]], phone="0151 1234"),
        instructor_body([]),
        instructor_body([brand["id"]], name=""),
    ]
    for body in bad:
        assert (await api.client.post("/api/instructors", json=body, headers=SERVICE)).status_code == 422, (
            body
        )
    assert (await api.client.get(f"/api/instructors?brand_id={brand['id']}")).json()["instructors"] == []


async def test_unknown_brand_is_404(api: Api) -> None:
    response = await api.client.post(
        "/api/instructors", json=instructor_body([str(uuid.uuid4())]), headers=SERVICE
    )
    assert response.status_code == 404


async def test_user_can_be_instructor_once(api: Api) -> None:
    brand = await api.brand()
    user_id = str(uuid.uuid4())
    await api.client.post(
        "/api/instructors", json=instructor_body([brand["id"]], user_id=user_id), headers=SERVICE
    )
    again = await api.client.post(
        "/api/instructors", json=instructor_body([brand["id"]], user_id=user_id, name="Twin"), headers=SERVICE
    )
    assert again.status_code == 409
    listed = (await api.client.get(f"/api/instructors?brand_id={brand['id']}")).json()["instructors"]
    assert [i["name"] for i in listed] == ["Ada"]


async def test_public_list_shows_active_linked_instructors_without_contact(api: Api) -> None:
    brand, other = await api.brand(slug="a"), await api.brand(slug="b")
    shown = await api.instructor([brand["id"]], name="Shown")
    hidden = await api.instructor([brand["id"]], name="Inactive")
    await api.instructor([other["id"]], name="Elsewhere")
    await api.client.patch(f"/api/instructors/{hidden['id']}", json={"active": False}, headers=SERVICE)
    response = await api.client.get(f"/api/instructors?brand_id={brand['id']}")
    assert response.json() == {
        "instructors": [{"id": shown["id"], "name": "Shown", "timezone": "Europe/Berlin"}]
    }


async def test_list_of_unknown_brand_is_404(api: Api) -> None:
    assert (await api.client.get(f"/api/instructors?brand_id={uuid.uuid4()}")).status_code == 404


async def test_patch_by_instructor_admin_service_and_not_others(api: Api) -> None:
    brand, other = await api.brand(slug="a"), await api.brand(slug="b")
    user_id, own = new_user()
    instructor = await api.instructor([brand["id"]], user_id=user_id)
    _, admin = await api.admin_of(brand["id"])
    _, other_admin = await api.admin_of(other["id"])
    _, student = new_user()
    url = f"/api/instructors/{instructor['id']}"
    assert (await api.client.patch(url, json={"name": "By Self"}, headers=own)).status_code == 200
    assert (await api.client.patch(url, json={"timezone": "Asia/Tokyo"}, headers=admin)).status_code == 200
    assert (await api.client.patch(url, json={"phone": None}, headers=SERVICE)).status_code == 200
    assert (await api.client.patch(url, json={"name": "Nope"}, headers=other_admin)).status_code == 403
    assert (await api.client.patch(url, json={"name": "Nope"}, headers=student)).status_code == 403
    assert (await api.client.patch(url, json={"name": "Nope"})).status_code == 401
    final = (await api.client.patch(url, json={}, headers=SERVICE)).json()["instructor"]
    assert (final["name"], final["timezone"], final["phone"]) == ("By Self", "Asia/Tokyo", None)


async def test_patch_validation(api: Api) -> None:
    brand = await api.brand()
    instructor = await api.instructor([brand["id"]])
    url = f"/api/instructors/{instructor['id']}"
    for body in (
        {"timezone": "Nowhere/City"},
        {"name": None},
        {"active": "maybe"},
        {"email": "x@"},
        {"extra": 1},
    ):
        assert (await api.client.patch(url, json=body, headers=SERVICE)).status_code == 422, body
    assert (
        await api.client.patch(f"/api/instructors/{uuid.uuid4()}", json={}, headers=SERVICE)
    ).status_code == 404


async def test_link_and_unlink(api: Api) -> None:
    a, b = await api.brand(slug="a"), await api.brand(slug="b")
    instructor = await api.instructor([a["id"]])
    _, admin_b = await api.admin_of(b["id"])
    _, admin_a = await api.admin_of(a["id"])
    url = f"/api/instructors/{instructor['id']}/brands/{b['id']}"
    assert (await api.client.put(url, headers=admin_a)).status_code == 403
    linked = await api.client.put(url, headers=admin_b)
    assert linked.status_code == 201
    assert linked.json()["link"]["brand_id"] == b["id"]
    assert (await api.client.put(url, headers=admin_b)).status_code == 200
    listed = (await api.client.get(f"/api/instructors?brand_id={b['id']}")).json()["instructors"]
    assert [i["id"] for i in listed] == [instructor["id"]]

    assert (await api.client.delete(url, headers=admin_a)).status_code == 403
    assert (await api.client.delete(url, headers=admin_b)).status_code == 204
    assert (await api.client.delete(url, headers=admin_b)).status_code == 404
    assert (await api.client.get(f"/api/instructors?brand_id={b['id']}")).json()["instructors"] == []
    assert (await api.client.put(url, headers=SERVICE)).status_code == 201, "relinking restores the link"


async def test_link_unknown_instructor_or_brand_is_404(api: Api) -> None:
    brand = await api.brand()
    instructor = await api.instructor([brand["id"]])
    assert (
        await api.client.put(f"/api/instructors/{uuid.uuid4()}/brands/{brand['id']}", headers=SERVICE)
    ).status_code == 404
    assert (
        await api.client.put(f"/api/instructors/{instructor['id']}/brands/{uuid.uuid4()}", headers=SERVICE)
    ).status_code == 404
