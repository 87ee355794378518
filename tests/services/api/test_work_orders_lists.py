"""Listing work orders with filters, the three-colour ledger and on-time statistics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.clock import ManualClock
from services.workorders.model import Status
from tests.services.api.work_order_steps import URL, act, create, created_in


@pytest.fixture
async def orders(client: httpx.AsyncClient, clock: ManualClock) -> dict[str, int]:
    """Five work orders of longdi and one of songhua, created a minute apart."""
    made: dict[str, int] = {}
    specs: list[tuple[str, Status, dict[str, Any]]] = [
        ("leak", Status.OPEN, {"priority": "P1"}),
        ("lamp", Status.ACKNOWLEDGED, {"team": "telecom", "source": "staff"}),
        ("lift", Status.RESOLVED, {"category": "complex", "team": "safety"}),
        ("roof", Status.OPEN, {"category": "external", "priority": "P4"}),
        ("bins", Status.CANCELLED, {"team": "cleaning"}),
        ("gate", Status.OPEN, {"estate_id": "songhua", "team": "safety"}),
    ]
    for name, status, overrides in specs:
        made[name] = (await created_in(client, status, title_en=name, **overrides))["id"]
        clock.advance(60)
    return made


async def _titles(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get(URL, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"]) or "limit" in params
    return [item["title_en"] for item in body["data"]]


@pytest.mark.parametrize(("params", "expected"), [
    ({}, ["gate", "bins", "roof", "lift", "lamp", "leak"]),
    ({"estate": "longdi"}, ["bins", "roof", "lift", "lamp", "leak"]),
    ({"status": "open"}, ["gate", "roof", "leak"]),
    ({"priority": "P1"}, ["leak"]),
    ({"team": "safety"}, ["gate", "lift"]),
    ({"colour": "red"}, ["roof"]),
    ({"colour": "yellow"}, ["lift"]),
    ({"source": "staff"}, ["lamp"]),
    ({"estate": "longdi", "status": "open", "priority": "P4"}, ["roof"]),
])
async def test_filters(client: httpx.AsyncClient, orders: dict[str, int],
                       params: dict[str, str], expected: list[str]) -> None:
    assert await _titles(client, **params) == expected


async def test_overdue_follows_the_clock(client: httpx.AsyncClient, orders: dict[str, int],
                                         clock: ManualClock) -> None:
    # Made at minutes 0..5, now minute 6: only "leak" (minute 0) is past its 5-minute ack.
    assert await _titles(client, overdue="true") == ["leak"]
    clock.advance(5 * 60)

    overdue = await _titles(client, overdue="true")
    on_time = await _titles(client, overdue="false")

    assert overdue == ["gate", "roof", "leak"]  # every open one
    assert on_time == ["bins", "lift", "lamp"]  # acknowledged, resolved or cancelled: not late


async def test_paging_keeps_the_total(client: httpx.AsyncClient, orders: dict[str, int]) -> None:
    body = (await client.get(URL, params={"limit": 2, "offset": 1})).json()

    assert [item["title_en"] for item in body["data"]] == ["bins", "roof"]
    assert body["count"] == 6


async def test_bad_filter_values_are_422(client: httpx.AsyncClient) -> None:
    for params in ({"status": "lost"}, {"colour": "blue"}, {"limit": 0}):
        assert (await client.get(URL, params=params)).status_code == 422


async def test_ledger_has_three_colours_per_estate(
    client: httpx.AsyncClient, orders: dict[str, int]
) -> None:
    response = await client.get("/api/v1/ledger")
    only_songhua = (await client.get("/api/v1/ledger", params={"estate": "songhua"})).json()

    assert response.status_code == 200
    rows = {(row["estate_id"], row["colour"]): (row["active"], row["done"])
            for row in response.json()["data"]}
    assert rows == {
        ("longdi", "green"): (2, 0), ("longdi", "yellow"): (0, 1), ("longdi", "red"): (1, 0),
        ("songhua", "green"): (1, 0), ("songhua", "yellow"): (0, 0), ("songhua", "red"): (0, 0),
    }
    assert [row["estate_id"] for row in only_songhua["data"]] == ["songhua"] * 3


async def test_on_time_stats_per_estate_and_team(
    client: httpx.AsyncClient, clock: ManualClock
) -> None:
    quick = await create(client, title_en="quick")
    assert (await act(client, quick["id"], "acknowledge")).status_code == 200
    await create(client, title_en="slow")
    clock.advance(10 * 60)  # the second one's 5-minute acknowledgement has passed

    response = await client.get("/api/v1/stats/on-time")

    assert response.status_code == 200
    [row] = response.json()["data"]
    assert (row["estate_id"], row["team"], row["count"]) == ("longdi", "repair", 2)
    assert (row["ack_on_time"], row["ack_late"], row["ack_on_time_pct"]) == (1, 1, 50.0)
