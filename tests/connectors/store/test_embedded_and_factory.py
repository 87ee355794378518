"""EmbeddedStore durability and failure, and open_store choosing the store from settings."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.store import (
    Aggregate,
    EmbeddedStore,
    HistoryQuery,
    InfluxV1Store,
    InfluxV2Store,
    StoreError,
    open_store,
)
from connectors.store.settings import InfluxSettings
from core.telemetry import Point
from tests.fixtures.influx import HttpServer, influx_rows, unique_name

T0 = 1_795_305_600


def leak_points(count: int, *, first: int = 0) -> list[Point]:
    return [Point("leak_sensor", {"estate": "e1", "device": "l1"},
                  {"leak": False, "battery": 90 + index % 10, "note": "小区 " * 8},
                  (T0 + first + index) * 10**9)
            for index in range(count)]


def battery_count(interval_s: int = 86_400) -> HistoryQuery:
    return HistoryQuery(measurement="leak_sensor", device_id="l1", field="battery",
                        start=datetime.fromtimestamp(T0, UTC),
                        end=datetime.fromtimestamp(T0 + 86_400, UTC),
                        interval_s=interval_s, aggregate=Aggregate.COUNT)


async def stored_count(store: EmbeddedStore) -> float | None:
    buckets = await store.history(battery_count())
    return sum(bucket.value or 0 for bucket in buckets)


async def test_points_survive_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "telemetry.sqlite3"
    store = EmbeddedStore(path)
    await store.write(leak_points(100))
    await store.aclose()
    reopened = EmbeddedStore(path)
    try:
        assert await stored_count(reopened) == 100
        assert await reopened.ping() is True
    finally:
        await reopened.aclose()


async def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    try:
        await asyncio.gather(*(store.write(leak_points(500, first=500 * batch))
                               for batch in range(8)))
        assert await stored_count(store) == 4_000
    finally:
        await store.aclose()


async def test_full_disk_is_retryable_and_keeps_what_was_stored(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    capped = EmbeddedStore(path, max_bytes=256 * 1024)
    try:
        await capped.write(leak_points(50))
        with pytest.raises(StoreError) as caught:
            await capped.write(leak_points(5_000, first=50))
        assert caught.value.retryable is True
        assert "full" in str(caught.value)
        assert await stored_count(capped) == 50
    finally:
        await capped.aclose()
    roomy = EmbeddedStore(path)
    try:
        await roomy.write(leak_points(5_000, first=50))
        assert await stored_count(roomy) == 5_050
    finally:
        await roomy.aclose()


async def test_without_url_the_store_is_embedded(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.sqlite3"
    async with open_store(InfluxSettings(), path) as store:
        assert isinstance(store, EmbeddedStore)
        await store.write(leak_points(3))
        assert [bucket.value for bucket in await store.history(battery_count())] == [3.0]
    assert path.exists()


async def test_api_version_1_writes_to_the_configured_database(
        influxdb_v1: HttpServer, tmp_path: Path) -> None:
    settings = InfluxSettings(url=influxdb_v1.url, api_version=1,
                              database=unique_name("factory"))
    async with open_store(settings, tmp_path / "unused.sqlite3") as store:
        assert isinstance(store, InfluxV1Store)
        await store.write(leak_points(3))
    rows = await influx_rows(influxdb_v1.url, settings.database,
                             'SELECT count("battery") FROM "leak_sensor"')
    assert rows[0]["count"] == 3
    assert not (tmp_path / "unused.sqlite3").exists()


async def test_api_version_2_uses_org_bucket_and_token(
        victoria_metrics: HttpServer, tmp_path: Path) -> None:
    settings = InfluxSettings(url=victoria_metrics.url, api_version=2, org="o", bucket="b",
                              token=SecretStr("secret"), database="dbrp")
    async with open_store(settings, tmp_path / "unused.sqlite3") as store:
        assert isinstance(store, InfluxV2Store)
        assert (store.org, store.bucket, store.database) == ("o", "b", "dbrp")
        assert await store.ping() is True
