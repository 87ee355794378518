"""InfluxV1Store against a real influxd 1.6: writes arrive intact, refusals are classified."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from connectors.store.base import StoreError
from connectors.store.influx_v1 import InfluxV1Store
from core.telemetry import Point
from tests.fixtures.influx import HttpServer, influx_rows, run_influxd, unique_name
from tests.fixtures.processes import free_port

T0_NS = 1_795_305_600_000_000_000


def charger_points(count: int, device: str = "c1") -> list[Point]:
    return [
        Point("ev_charger", {"estate": "e1", "device": device},
              {"power_kw": index / 10, "connector": index % 3, "charging": index % 2 == 0},
              T0_NS + index * 1_000_000)
        for index in range(count)
    ]


@pytest.fixture
async def store(influxdb_v1: HttpServer) -> AsyncIterator[InfluxV1Store]:
    store = InfluxV1Store(influxdb_v1.url, unique_name("v1"))
    yield store
    await store.aclose()


async def test_written_points_read_back_exactly(store: InfluxV1Store) -> None:
    points = charger_points(2_500)
    for start in range(0, len(points), 1_000):
        await store.write(points[start:start + 1_000])
    rows = await influx_rows(store.url, store.database,
                             'SELECT "power_kw", "connector", "charging" FROM "ev_charger"')
    assert len(rows) == 2_500
    assert rows[7] == {"time": T0_NS + 7_000_000, "power_kw": 0.7, "connector": 1,
                       "charging": False}
    counted = await influx_rows(store.url, store.database,
                                'SELECT count("power_kw") FROM "ev_charger"')
    assert counted[0]["count"] == 2_500


async def test_database_is_created_once_and_creation_is_idempotent(
        store: InfluxV1Store) -> None:
    await store.write(charger_points(1))
    second = InfluxV1Store(store.url, store.database)
    try:
        await second.write(charger_points(1, device="c2"))
    finally:
        await second.aclose()
    rows = await influx_rows(store.url, store.database,
                             'SELECT count("power_kw") FROM "ev_charger"')
    assert rows[0]["count"] == 2


async def test_field_type_conflict_is_bad_data_with_the_server_reason(
        store: InfluxV1Store) -> None:
    await store.write([Point("leak_sensor", {"device": "l1"}, {"battery": 96}, T0_NS)])
    with pytest.raises(StoreError) as caught:
        await store.write([Point("leak_sensor", {"device": "l1"}, {"battery": "full"}, T0_NS + 1)])
    assert caught.value.retryable is False
    assert "field type conflict" in str(caught.value)


async def test_unreachable_server_is_retryable() -> None:
    store = InfluxV1Store(f"http://127.0.0.1:{free_port()}", "nowhere", timeout_s=2)
    try:
        assert await store.ping() is False
        with pytest.raises(StoreError) as caught:
            await store.write(charger_points(1))
        assert caught.value.retryable is True
    finally:
        await store.aclose()


async def test_stopped_server_is_retryable(tmp_path: Path) -> None:
    with run_influxd(tmp_path) as server:
        store = InfluxV1Store(server.url, "stopping")
        await store.write(charger_points(1))
        assert await store.ping() is True
    try:
        with pytest.raises(StoreError) as caught:
            await store.write(charger_points(1))
        assert caught.value.retryable is True
        assert await store.ping() is False
    finally:
        await store.aclose()
