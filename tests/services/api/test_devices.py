"""GET /api/v1/devices and /api/v1/estates/{estate}/devices/{device}."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.services.api.factories import ALL_DEVICES


def _ids(body: dict[str, Any]) -> list[str]:
    return [f"{item['estate_id']}/{item['device_id']}" for item in body["data"]]


async def test_lists_every_device_ordered_by_estate_then_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/devices")

    assert response.status_code == 200
    assert _ids(response.json()) == ALL_DEVICES
    assert response.json()["count"] == len(ALL_DEVICES)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"estate": "songhua"}, ["songhua/leak-001"]),
        ({"building": "b41"}, ["longdi/leak-001"]),
        ({"building": "b42"}, ["longdi/light-001"]),
        ({"type": "leak_sensor"}, ["longdi/leak-001", "songhua/leak-001"]),
        ({"online": "true"}, ["longdi/leak-001", "songhua/leak-001"]),
        ({"online": "false"}, ["longdi/light-001"]),
        ({"estate": "longdi", "type": "leak_sensor"}, ["longdi/leak-001"]),
        ({"estate": "nowhere"}, []),
    ],
)
async def test_filters_narrow_the_list(
    client: httpx.AsyncClient, query: dict[str, str], expected: list[str]
) -> None:
    response = await client.get("/api/v1/devices", params=query)

    assert response.status_code == 200
    assert _ids(response.json()) == expected
    assert response.json()["count"] == len(expected)


async def test_limit_and_offset_page_while_count_stays_total(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/devices", params={"limit": 2, "offset": 1})

    assert _ids(response.json()) == ALL_DEVICES[1:3]
    assert response.json()["count"] == len(ALL_DEVICES)


@pytest.mark.parametrize("query", [{"limit": "0"}, {"offset": "-1"}, {"online": "maybe"}])
async def test_bad_paging_or_flag_is_422(client: httpx.AsyncClient, query: dict[str, str]) -> None:
    response = await client.get("/api/v1/devices", params=query)

    assert response.status_code == 422


async def test_device_carries_place_state_and_profile_interval(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/estates/longdi/devices/leak-001")

    assert response.status_code == 200
    device = response.json()
    assert device["display_name"] == "地下室漏水"
    assert device["building"] == {"code": "b41", "name": "41号楼"}
    assert device["unit"] == {"code": "u2", "name": "2单元"}
    assert device["location"] == "B1 pump room"
    assert device["reporting_interval_s"] == 300  # leak_sensor profile default
    assert device["online"] is True
    assert device["last_telemetry"] == {"leak": False, "battery": 96}
    assert device["last_telemetry_at"] == "2026-11-22T00:00:00Z"
    assert device["last_event"] == {"event": "triggered"}


@pytest.mark.parametrize(
    ("device", "interval", "kind"),
    [("charger-001", 30, "car"), ("mystery-001", None, None), ("light-001", 60, None)],
)
async def test_reporting_interval_is_own_then_profile_then_unknown(
    client: httpx.AsyncClient, device: str, interval: float | None, kind: str | None
) -> None:
    body = (await client.get(f"/api/v1/estates/longdi/devices/{device}")).json()

    assert body["reporting_interval_s"] == interval
    assert body["kind"] == kind


async def test_device_without_state_has_nulls(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/estates/longdi/devices/charger-001")).json()

    assert body["online"] is None
    assert body["last_seen_at"] is None
    assert body["last_telemetry"] is None
    assert body["building"] is None


@pytest.mark.parametrize("path", ["songhua/devices/light-001", "nowhere/devices/leak-001"])
async def test_unknown_device_is_404_with_a_clear_body(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(f"/api/v1/estates/{path}")

    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "not_found"
    estate, _, device = path.split("/")
    assert body["detail"] == f"未找到 / device {device!r} is not registered in estate {estate!r}"
    assert (body["estate_id"], body["device_id"]) == (estate, device)
