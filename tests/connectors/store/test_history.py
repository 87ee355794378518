"""History buckets and overwrite semantics: the same answers from influxd and embedded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.store.base import Aggregate, HistoryBucket, HistoryQuery, TelemetryStore
from connectors.store.embedded import EmbeddedStore
from connectors.store.influx_v1 import InfluxV1Store
from core.telemetry import FieldValue, Point
from tests.fixtures.influx import HttpServer, unique_name

T0 = 1_795_305_600  # a multiple of 60 s: bucket boundaries fall on T0 + k * 60
MEASUREMENT = "voice_light"


def at(offset_s: float) -> datetime:
    return datetime.fromtimestamp(T0, UTC) + timedelta(seconds=offset_s)


def point(offset_s: int, fields: dict[str, FieldValue], *, device: str = "d1",
          estate: str = "e1") -> Point:
    return Point(MEASUREMENT, {"estate": estate, "device": device}, fields,
                 (T0 + offset_s) * 10**9)


KNOWN_DATA = [
    point(-1, {"current_ma": 99.0}),  # before the range
    point(5, {"current_ma": 10.0}),
    point(20, {"current_ma": 20.0}),
    point(59, {"current_ma": 30.0}),
    point(61, {"current_ma": 7.5}),
    point(185, {"current_ma": 1.0}),
    point(190, {"current_ma": 2.0}),
    point(240, {"current_ma": 99.0}),  # the range's end is exclusive
    point(10, {"current_ma": 1000.0}, device="d2"),
    point(30, {"current_ma": 500.0}, estate="e2"),
    point(1, {"lit": False}),
    point(2, {"lit": True}),
]

EXPECTED = {
    Aggregate.MEAN: [(0, 20.0), (60, 7.5), (180, 1.5)],
    Aggregate.MIN: [(0, 10.0), (60, 7.5), (180, 1.0)],
    Aggregate.MAX: [(0, 30.0), (60, 7.5), (180, 2.0)],
    Aggregate.SUM: [(0, 60.0), (60, 7.5), (180, 3.0)],
    Aggregate.COUNT: [(0, 3.0), (60, 1.0), (180, 2.0)],
    Aggregate.LAST: [(0, 30.0), (60, 7.5), (180, 2.0)],
}


def history(field: str, aggregate: Aggregate, estate: str | None = "e1",
            start_s: int = 3) -> HistoryQuery:
    # The start is not on a bucket boundary: buckets still start at epoch multiples.
    return HistoryQuery(measurement=MEASUREMENT, device_id="d1", field=field, start=at(start_s),
                        end=at(240), interval_s=60, aggregate=aggregate, estate_id=estate)


def as_offsets(buckets: list[HistoryBucket]) -> list[tuple[float, float | None]]:
    return [((bucket.start - at(0)).total_seconds(), bucket.value) for bucket in buckets]


@pytest.fixture(params=["influxdb_v1", "embedded"])
async def store(request: pytest.FixtureRequest,
                tmp_path: Path) -> AsyncIterator[TelemetryStore]:
    chosen: TelemetryStore
    if request.param == "influxdb_v1":
        server: HttpServer = request.getfixturevalue("influxdb_v1")
        chosen = InfluxV1Store(server.url, unique_name("history"))
    else:
        chosen = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    yield chosen
    await chosen.aclose()


@pytest.mark.parametrize("aggregate", list(Aggregate))
async def test_aggregates_over_known_buckets(store: TelemetryStore,
                                             aggregate: Aggregate) -> None:
    await store.write(KNOWN_DATA)
    buckets = await store.history(history("current_ma", aggregate))
    assert as_offsets(buckets) == EXPECTED[aggregate]
    assert all(bucket.start.tzinfo is UTC for bucket in buckets)


async def test_without_estate_every_estate_of_the_device_counts(store: TelemetryStore) -> None:
    await store.write(KNOWN_DATA)
    buckets = await store.history(history("current_ma", Aggregate.COUNT, estate=None))
    assert as_offsets(buckets) == [(0, 4.0), (60, 1.0), (180, 2.0)]


async def test_booleans_count_and_last_as_numbers(store: TelemetryStore) -> None:
    await store.write(KNOWN_DATA)
    count = await store.history(history("lit", Aggregate.COUNT, start_s=0))
    assert as_offsets(count) == [(0, 2.0)]
    last = await store.history(history("lit", Aggregate.LAST, start_s=0))
    assert as_offsets(last) == [(0, 1.0)]
    assert await store.history(history("lit", Aggregate.LAST, start_s=3)) == []


async def test_unknown_device_has_no_buckets(store: TelemetryStore) -> None:
    await store.write(KNOWN_DATA)
    query = HistoryQuery(measurement=MEASUREMENT, device_id="nobody' OR '1'='1",
                         field="current_ma", start=at(0), end=at(240), interval_s=60)
    assert await store.history(query) == []


async def test_same_series_and_time_overwrites_and_merges_fields(
        store: TelemetryStore) -> None:
    await store.write([point(5, {"current_ma": 1.0, "sound_db": 60.0})])
    await store.write([point(5, {"current_ma": 2.0})])
    assert as_offsets(await store.history(history("current_ma", Aggregate.COUNT))) == [(0, 1.0)]
    assert as_offsets(await store.history(history("current_ma", Aggregate.LAST))) == [(0, 2.0)]
    assert as_offsets(await store.history(history("sound_db", Aggregate.LAST))) == [(0, 60.0)]


async def test_within_one_batch_the_later_duplicate_wins(store: TelemetryStore) -> None:
    await store.write([point(65, {"current_ma": 1.0}), point(65, {"current_ma": 4.0})])
    assert as_offsets(await store.history(history("current_ma", Aggregate.COUNT))) == [(60, 1.0)]
    assert as_offsets(await store.history(history("current_ma", Aggregate.LAST))) == [(60, 4.0)]
