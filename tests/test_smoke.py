from tests.support import Api


async def test_brand_roundtrip(api: Api) -> None:
    brand = await api.brand()
    response = await api.client.get("/api/brands")
    assert response.status_code == 200
    assert [b["id"] for b in response.json()["brands"]] == [brand["id"]]
