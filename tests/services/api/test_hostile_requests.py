"""What each bad request gets (docs/security.md): a 4xx in the one error shape, never a 500.
On SQLite and PostgreSQL (psycopg refuses NUL in text; both refuse integers past 2^63)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

BEYOND_INT64 = str(2**63 + 1)
TEN_MB = 10 * 1024 * 1024
ZH_EN = " / "


def assert_error_shape(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["error"] == code
    assert isinstance(body["detail"], str)
    assert ZH_EN in body["detail"]  # 中文 / English
    return body


@pytest.mark.parametrize("url", [
    "/api/v1/devices?estate=long%00di",
    "/api/v1/devices?type=%00",
    "/api/v1/dead-letters?reason=x%00y",
    "/api/v1/estates/long%00di/devices/leak-1",
    "/api/v1/estates/e1/devices/leak%00-1/history?field=battery",
    "/api/v1/work-orders?estate=%00",
])
async def test_a_nul_byte_in_path_or_query_is_400(client: httpx.AsyncClient, url: str) -> None:
    assert_error_shape(await client.get(url), 400, "invalid_characters")


async def test_a_nul_byte_in_a_form_or_json_body_is_400(client: httpx.AsyncClient) -> None:
    form = await client.post("/api/v1/auth/token",
                             content=b"grant_type=password&username=a%00b&password=x",
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert_error_shape(form, 400, "invalid_characters")
    created = await client.post("/api/v1/work-orders",
                                json={"estate_id": "e1", "team": "repair", "title_en": "a\x00b"})
    assert_error_shape(created, 400, "invalid_characters")


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", f"/api/v1/work-orders/{BEYOND_INT64}", None),
    ("POST", f"/api/v1/work-orders/{BEYOND_INT64}/acknowledge", None),
    ("GET", f"/api/v1/work-orders?offset={BEYOND_INT64}", None),
    ("GET", f"/api/v1/devices?offset={BEYOND_INT64}", None),
    ("GET", f"/api/v1/dead-letters?offset={BEYOND_INT64}", None),
    ("POST", "/api/v1/work-orders", {"estate_id": "e1", "team": "repair",
                                     "building_id": 2**63 + 1}),
    ("POST", "/api/v1/work-orders/1/assign", {"assignee_id": 2**63 + 1}),
    ("DELETE", f"/api/v1/admin/shifts/{BEYOND_INT64}", None),
    ("POST", f"/api/v1/admin/staff/{BEYOND_INT64}/password", {"password": "x" * 12}),
    ("GET", f"/api/v1/work-orders/1/photos/{BEYOND_INT64}", None),
])
async def test_an_integer_beyond_2_63_is_422(client: httpx.AsyncClient, method: str, url: str,
                                             body: object) -> None:
    response = await client.request(method, url, json=body)
    problems = assert_error_shape(response, 422, "invalid_request")["errors"]
    assert isinstance(problems, list)
    assert problems
    assert {"loc", "msg", "type"} <= set(problems[0])


async def _ten_megabytes() -> AsyncIterator[bytes]:
    chunk = b"a" * 65536
    for _ in range(TEN_MB // len(chunk)):
        yield chunk


async def test_a_10_mb_body_is_413_declared_or_streamed(anonymous: httpx.AsyncClient) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    declared = await anonymous.post("/api/v1/auth/token", headers=form,
                                    content=b"username=" + b"a" * TEN_MB)
    assert_error_shape(declared, 413, "body_too_large")
    streamed = await anonymous.post("/api/v1/auth/token", headers=form,
                                    content=_ten_megabytes())
    assert_error_shape(streamed, 413, "body_too_large")


async def test_framework_errors_have_the_same_shape(client: httpx.AsyncClient) -> None:
    assert_error_shape(await client.get("/api/v1/no-such-thing"), 404, "not_found")
    not_allowed = await client.delete("/api/v1/work-orders")
    assert_error_shape(not_allowed, 405, "method_not_allowed")
    assert not_allowed.headers["allow"] == "GET, POST"  # both routes of the path
    body = assert_error_shape(await client.get("/api/v1/devices?limit=0"), 422,
                              "invalid_request")
    assert str(body["detail"]).startswith("请求参数无效 / query.limit:")


@pytest.mark.parametrize("url", ["/api/v1/stats/on-time?since=0.5",
                                 "/api/v1/estates/e1/devices/leak-1/history?field=x&start=1e9"])
async def test_a_date_time_is_iso_8601_not_a_number(client: httpx.AsyncClient, url: str) -> None:
    assert_error_shape(await client.get(url), 422, "invalid_request")


async def test_a_garbage_token_is_401_and_tells_nothing(anonymous: httpx.AsyncClient) -> None:
    for token in ("garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."):
        response = await anonymous.get("/api/v1/devices",
                                       headers={"Authorization": f"Bearer {token}"})
        assert response.json() == {
            "error": "not_authenticated",
            "detail": "未通过身份验证 / the token is not valid: log in again"}


async def test_the_openapi_document_describes_every_error(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    token = document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert {"400", "401", "413", "422", "429"} <= set(token)
    history = document["paths"]["/api/v1/estates/{estate_id}/devices/{device_id}/history"]
    assert history["get"]["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorPublic"}


async def test_a_photo_route_takes_binary_bodies_up_to_the_upload_cap(
        client: httpx.AsyncClient) -> None:
    """An image holds NUL bytes and may pass 1 MiB: the guard lets it reach the photo route
    (whose own check then finds it is no real JPEG), and still caps it and refuses NUL in
    text."""
    image = {"content-type": "image/jpeg"}
    photo = b"\xff\xd8\xff\x00" * (2 * 1024 * 1024 // 4)
    reached = await client.post(f"/api/v1/work-orders/{2**62}/photos", content=photo,
                                headers=image)
    assert_error_shape(reached, 415, "photo_refused")
    too_large = await client.post(f"/api/v1/work-orders/{2**62}/photos", headers=image,
                                  content=b"\x00" * (13 * 1024 * 1024))
    assert_error_shape(too_large, 413, "body_too_large")
    as_json = await client.post(f"/api/v1/work-orders/{2**62}/photos", json={"a": "b\x00"})
    assert_error_shape(as_json, 400, "invalid_characters")
