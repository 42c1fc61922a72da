"""Brands and brand admins: SPEC §6 endpoints with the permissions of §3."""

from __future__ import annotations

import uuid

from tests.support import SERVICE, Api, new_user


async def test_service_creates_brand(api: Api) -> None:
    response = await api.client.post("/api/brands", json={"name": "Acme", "slug": "acme"}, headers=SERVICE)
    assert response.status_code == 201
    brand = response.json()["brand"]
    assert brand["slug"] == "acme" and brand["name"] == "Acme"
    assert brand["created_at"].endswith("Z")
    uuid.UUID(brand["id"])


async def test_duplicate_slug_is_409_conflict(api: Api) -> None:
    await api.brand(slug="acme")
    response = await api.client.post("/api/brands", json={"name": "Other", "slug": "acme"}, headers=SERVICE)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert len((await api.client.get("/api/brands")).json()["brands"]) == 1


async def test_only_the_service_creates_brands(api: Api) -> None:
    brand = await api.brand()
    _, admin = await api.admin_of(brand["id"])
    _, student = new_user()
    body = {"name": "X", "slug": "x"}
    assert (await api.client.post("/api/brands", json=body)).status_code == 401
    assert (await api.client.post("/api/brands", json=body, headers=student)).status_code == 403
    assert (await api.client.post("/api/brands", json=body, headers=admin)).status_code == 403
    assert len((await api.client.get("/api/brands")).json()["brands"]) == 1


async def test_invalid_slug_and_name_are_422(api: Api) -> None:
    for body in (
        {"name": "X", "slug": "Has Space"},
        {"name": "", "slug": "ok"},
        {"name": "a\x00b", "slug": "ok"},
    ):
        response = await api.client.post("/api/brands", json=body, headers=SERVICE)
        assert response.status_code == 422, body
    assert (await api.client.get("/api/brands")).json()["brands"] == []


async def test_anyone_lists_brands(api: Api) -> None:
    await api.brand(slug="b", name="Beta")
    await api.brand(slug="a", name="Alpha")
    response = await api.client.get("/api/brands")
    assert [b["name"] for b in response.json()["brands"]] == ["Alpha", "Beta"]


async def test_brand_admin_adds_another_admin_of_own_brand_only(api: Api) -> None:
    mine = await api.brand(slug="mine")
    theirs = await api.brand(slug="theirs")
    _, admin = await api.admin_of(mine["id"])
    new_admin = str(uuid.uuid4())
    response = await api.client.post(
        f"/api/brands/{mine['id']}/admins", json={"user_id": new_admin}, headers=admin
    )
    assert response.status_code == 201
    assert response.json()["brand_admin"] == response.json()["brand_admin"] | {
        "brand_id": mine["id"],
        "user_id": new_admin,
    }
    again = await api.client.post(
        f"/api/brands/{mine['id']}/admins", json={"user_id": new_admin}, headers=admin
    )
    assert again.status_code == 200
    other = await api.client.post(
        f"/api/brands/{theirs['id']}/admins", json={"user_id": new_admin}, headers=admin
    )
    assert other.status_code == 403


async def test_students_cannot_add_admins(api: Api) -> None:
    brand = await api.brand()
    student_id, student = new_user()
    response = await api.client.post(
        f"/api/brands/{brand['id']}/admins", json={"user_id": str(student_id)}, headers=student
    )
    assert response.status_code == 403
    # The refused call changed nothing: the student is still not an admin.
    retry = await api.client.post(
        f"/api/brands/{brand['id']}/admins", json={"user_id": str(student_id)}, headers=student
    )
    assert retry.status_code == 403


async def test_admin_of_unknown_brand_is_404(api: Api) -> None:
    response = await api.client.post(
        f"/api/brands/{uuid.uuid4()}/admins", json={"user_id": str(uuid.uuid4())}, headers=SERVICE
    )
    assert response.status_code == 404


async def test_a_brand_has_its_own_timezone_and_locale(api: Api) -> None:
    brand = await api.brand()
    assert (brand["settings"]["timezone"], brand["settings"]["locale"]) == ("UTC", "en")
    url = f"/api/brands/{brand['id']}"
    changed = await api.client.patch(
        url, json={"settings": {"timezone": "Europe/Paris", "locale": "pt-BR"}}, headers=SERVICE
    )
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["brand"]["settings"]["timezone"],
        changed.json()["brand"]["settings"]["locale"],
    ) == (
        "Europe/Paris",
        "pt-BR",
    )
    for settings in (
        {"timezone": "Mars/Olympus"},
        {"timezone": None},
        {"timezone": "europe/paris"},
        {"locale": "pt"},
        {"locale": "EN"},
        {"locale": None},
        {"locale": 7},
    ):
        refused = await api.client.patch(url, json={"settings": settings}, headers=SERVICE)
        assert refused.status_code == 422, (settings, refused.text)
    listed = (await api.client.get("/api/brands")).json()["brands"]
    (found,) = [b for b in listed if b["id"] == brand["id"]]
    assert (found["settings"]["timezone"], found["settings"]["locale"]) == ("Europe/Paris", "pt-BR")
