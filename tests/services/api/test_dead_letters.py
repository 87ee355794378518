"""GET /api/v1/dead-letters and /api/v1/dead-letters/reasons."""

from __future__ import annotations

import httpx
import pytest

from tests.services.api.factories import SPLIT_PAYLOAD

URL = "/api/v1/dead-letters"


async def test_lists_newest_first_with_total_count(client: httpx.AsyncClient) -> None:
    response = await client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    minutes = [letter["received_at"][14:16] for letter in body["data"]]
    assert minutes == ["06", "05", "04", "03", "02", "01"]
    assert body["data"][0]["received_at"] == "2026-11-21T00:06:00Z"


@pytest.mark.parametrize(
    ("query", "expected_minutes"),
    [
        ({"reason": "invalid_json"}, ["05", "02", "01"]),
        ({"estate": "songhua"}, ["05", "04"]),
        ({"device": "leak-001"}, ["05", "03", "01"]),
        ({"estate": "longdi", "device": "leak-001"}, ["03", "01"]),
        ({"reason": "no_such_reason"}, []),
        ({"limit": "2", "offset": "1"}, ["05", "04"]),
    ],
)
async def test_filters_and_paging(
    client: httpx.AsyncClient, query: dict[str, str], expected_minutes: list[str]
) -> None:
    body = (await client.get(URL, params=query)).json()

    assert [letter["received_at"][14:16] for letter in body["data"]] == expected_minutes
    if "limit" not in query:
        assert body["count"] == len(expected_minutes)


async def test_short_payload_is_shown_whole(client: httpx.AsyncClient) -> None:
    [letter] = (await client.get(URL, params={"estate": "longdi", "reason": "invalid_json",
                                              "device": "leak-001"})).json()["data"]

    assert letter["payload"] == "{not json"
    assert letter["payload_size"] == 9
    assert letter["payload_truncated"] is False
    assert letter["topic"] == "estates/longdi/leak_sensor/leak-001/telemetry"
    assert letter["detail"] == "invalid_json detail"


async def test_large_payload_is_cut_to_4_kib_without_a_broken_character(
    client: httpx.AsyncClient,
) -> None:
    [letter] = (await client.get(URL, params={"reason": "payload_too_large"})).json()["data"]

    assert letter["payload_size"] == len(SPLIT_PAYLOAD) == 5001
    assert letter["payload_truncated"] is True
    assert letter["payload"] == "x" + "é" * 2047  # 4095 bytes; the half "é" at 4096 is dropped
    assert len(letter["payload"].encode()) <= 4096


async def test_invalid_utf8_is_replaced_not_refused(client: httpx.AsyncClient) -> None:
    [letter] = (await client.get(URL, params={"device": "leak-002"})).json()["data"]

    assert letter["payload"] == "\ufffd\ufffd{"
    assert letter["payload_size"] == 3


async def test_reason_counts_most_frequent_first(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{URL}/reasons")

    assert response.status_code == 200
    assert response.json() == {
        "data": [{"reason": "invalid_json", "count": 3},
                 {"reason": "unknown_device", "count": 2},
                 {"reason": "payload_too_large", "count": 1}],
        "count": 3,
    }


async def test_reason_counts_by_estate(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{URL}/reasons", params={"estate": "songhua"})).json()

    assert body["data"] == [{"reason": "invalid_json", "count": 1},
                            {"reason": "unknown_device", "count": 1}]
