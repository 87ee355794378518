"""InfluxV2Store: the v2 write API into a real VictoriaMetrics, and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.store.base import Aggregate, HistoryQuery, StoreError
from connectors.store.influx_v1 import InfluxV1Store
from connectors.store.influx_v2 import InfluxV2Store
from core.telemetry import Point
from tests.fixtures.influx import (
    HttpServer,
    sample_count,
    unique_name,
    vm_wait_for_samples,
)
from tests.fixtures.processes import free_port

T0_MS = 1_795_305_600_000


def gate_points(measurement: str, count: int) -> list[Point]:
    return [
        Point(measurement, {"estate": "e1", "device": "g1", "lane": "north-in"},
              {"loop_occupied": index % 2 == 1, "speed_kmh": index * 0.5, "axles": 2},
              (T0_MS + index) * 1_000_000)
        for index in range(count)
    ]


async def test_points_written_through_v2_api_read_back_exactly(
        victoria_metrics: HttpServer) -> None:
    measurement = unique_name("barrier_gate")
    points = gate_points(measurement, 3_000)
    store = InfluxV2Store(victoria_metrics.url, "estateops", "estateops", "ignored-token")
    try:
        assert await store.ping() is True
        for start in range(0, len(points), 1_000):
            await store.write(points[start:start + 1_000])
    finally:
        await store.aclose()
    match = f'{{__name__=~"{measurement}_.*"}}'
    series = await vm_wait_for_samples(victoria_metrics.url, match, expected=3 * 3_000)
    by_name = {one["metric"]["__name__"]: one for one in series}
    assert sorted(by_name) == [f"{measurement}_{field}"
                               for field in ("axles", "loop_occupied", "speed_kmh")]
    assert sample_count(series) == 9_000
    speed = by_name[f"{measurement}_speed_kmh"]
    assert speed["metric"]["lane"] == "north-in"
    assert dict(zip(speed["timestamps"], speed["values"], strict=True)) == {
        T0_MS + index: index * 0.5 for index in range(3_000)
    }
    assert sum(by_name[f"{measurement}_loop_occupied"]["values"]) == 1_500


async def test_unreachable_server_is_retryable() -> None:
    store = InfluxV2Store(f"http://127.0.0.1:{free_port()}", "o", "b", "t", timeout_s=2)
    try:
        assert await store.ping() is False
        with pytest.raises(StoreError) as caught:
            await store.write(gate_points("barrier_gate", 1))
        assert caught.value.retryable is True
    finally:
        await store.aclose()


async def test_missing_write_endpoint_keeps_points_for_retry(influxdb_v1: HttpServer) -> None:
    # influxd 1.6 has no /api/v2/write: a 404 is a setup problem, not bad data.
    store = InfluxV2Store(influxdb_v1.url, "o", "b", "t")
    try:
        with pytest.raises(StoreError) as caught:
            await store.write(gate_points("barrier_gate", 1))
        assert caught.value.retryable is True
        assert "404" in str(caught.value)
    finally:
        await store.aclose()


async def test_history_uses_the_v1_compatible_query_endpoint(influxdb_v1: HttpServer) -> None:
    # influxd 1.6 stands in for 2.x's /query here; it ignores the token (auth is off).
    database = unique_name("v2history")
    writer = InfluxV1Store(influxdb_v1.url, database)
    reader = InfluxV2Store(influxdb_v1.url, "o", "bucket-unused", "t", database=database)
    try:
        await writer.write(gate_points("barrier_gate", 120))
        query = HistoryQuery(measurement="barrier_gate", device_id="g1", field="speed_kmh",
                             start=datetime.fromtimestamp(T0_MS / 1000, UTC),
                             end=datetime.fromtimestamp(T0_MS / 1000 + 1, UTC),
                             interval_s=1, aggregate=Aggregate.COUNT, estate_id="e1")
        assert [bucket.value for bucket in await reader.history(query)] == [120.0]
    finally:
        await writer.aclose()
        await reader.aclose()
