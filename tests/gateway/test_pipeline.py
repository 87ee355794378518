"""A simulated estate end to end: simulator → Mosquitto → gateway → InfluxDB, on real servers.

Expectations are computed from what the devices actually published (a test subscriber sees
every message), not from the gateway's own code.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.mqtt import BrokerOptions
from connectors.store import TelemetryStore
from connectors.store.base import Aggregate, HistoryQuery
from connectors.store.influx_v1 import InfluxV1Store
from connectors.store.influx_v2 import InfluxV2Store
from device_profiles import ProfileSet, load_profiles
from gateway.tables import DeviceState
from registry.importer import import_estates
from registry.tables import Device
from simulators.estate import build_estate
from simulators.runner import SimulationConfig, simulate
from tests.fixtures.influx import HttpServer, influx_rows, unique_name, vm_export
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import unique_estate_id
from tests.utils.gateway import eventually, gateway_settings, running_gateway

MESSAGES = 400
Published = list[tuple[str, dict[str, Any]]]


def _instant(ts: object) -> datetime:
    if isinstance(ts, int):
        return datetime.fromtimestamp(ts / 1000, tz=UTC)
    return datetime.fromisoformat(str(ts)).astimezone(UTC)


def _stored_fields(message: dict[str, Any], device_type: str,
                   profiles: ProfileSet) -> dict[str, Any]:
    """The fields a telemetry message should leave in the store, by canonical name."""
    profile = profiles.by_type[device_type]
    fields = {}
    for key, value in message.items():
        name = profile.canonical_field(key)
        if key in ("ts", "seq") or name is None or value is None:
            continue
        spec = profile.telemetry[name]
        if spec.tag:
            continue
        fields[name] = value
    return fields


def expected_counts(published: Published, profiles: ProfileSet) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for topic, message in published:
        _, _, device_type, _, channel = topic.split("/")
        profile = profiles.by_type[device_type]
        if channel == "event":
            attributes = profile.events[message["event"]]
            counts[(profile.events_measurement, "occurred")] += 1
            for name, value in message.items():
                spec = attributes.get(name)
                if spec is not None and not spec.tag and value is not None:
                    counts[(profile.events_measurement, name)] += 1
            continue
        for name in _stored_fields(message, device_type, profiles):
            counts[(profile.measurement, name)] += 1
    return counts


@pytest.fixture(params=["influxdb-1.x-v1-write", "victoria-metrics-v2-write"])
async def store_under_test(request: pytest.FixtureRequest) -> AsyncIterator[
        tuple[str, HttpServer, str, TelemetryStore]]:
    database = unique_name("pipeline")
    if request.param.startswith("influxdb"):
        server: HttpServer = request.getfixturevalue("influxdb_v1")
        store: TelemetryStore = InfluxV1Store(server.url, database)
    else:
        server = request.getfixturevalue("victoria_metrics")
        store = InfluxV2Store(server.url, org="estateops", bucket=database, token="unused")
    yield request.param, server, database, store
    await store.aclose()


async def _collect(broker: Broker, estate_id: str, published: Published,
                   subscribed: asyncio.Event) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for channel in ("telemetry", "event"):
            await client.subscribe(f"estates/{estate_id}/+/+/{channel}", qos=1)
        subscribed.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            published.append((str(message.topic), json.loads(message.payload)))


async def _stored_counts(kind: str, server: HttpServer, database: str, estate_id: str,
                         measurements: set[str]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    if kind.startswith("influxdb"):
        for measurement in measurements:
            rows = await influx_rows(server.url, database,
                                     f"SELECT count(*) FROM \"{measurement}\" "
                                     f"WHERE \"estate\"='{estate_id}'")
            for row in rows:
                for column, value in row.items():
                    if column.startswith("count_") and value:
                        counts[(measurement, column.removeprefix("count_"))] = value
        return counts
    series = await vm_export(server.url, f'{{estate="{estate_id}"}}')
    for one in series:
        name = one["metric"]["__name__"]
        measurement = next(m for m in sorted(measurements, key=len, reverse=True)
                           if name.startswith(m + "_"))
        counts[(measurement, name.removeprefix(measurement + "_"))] += len(one["values"])
    return counts


async def test_simulated_estate_lands_exactly_once(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        store_under_test: tuple[str, HttpServer, str, TelemetryStore], tmp_path: Path) -> None:
    kind, server, database, store = store_under_test
    profiles = load_profiles()
    estate_id = unique_estate_id()
    estate = build_estate(buildings=1, estate_id=estate_id)
    await import_estates(sessions, estate, profiles)
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    published: Published = []
    subscribed = asyncio.Event()
    collector = asyncio.create_task(_collect(mosquitto, estate_id, published, subscribed))
    await subscribed.wait()

    async with running_gateway(settings, store=store, sessions=sessions):
        stats = await simulate(SimulationConfig(
            broker=BrokerOptions(host=mosquitto.host, port=mosquitto.port, client_id=estate_id),
            estate=estate, speed=600, max_messages=MESSAGES))
        await eventually(lambda: asyncio.sleep(0, len(published)), lambda n: n >= MESSAGES)
        expected = expected_counts(published, profiles)
        measurements = {m for m, _ in expected}
        stored = await eventually(
            lambda: _stored_counts(kind, server, database, estate_id, measurements),
            lambda counts: counts == expected, within=20)
    collector.cancel()

    assert stats.total == MESSAGES
    assert len(published) == MESSAGES
    assert {t.split("/")[2] for t, _ in published} == set(profiles.device_types)
    assert stored == expected
    await _assert_last_state(sessions, published, profiles)
    if kind.startswith("influxdb"):
        await _assert_history(store, published)


async def _assert_last_state(sessions: async_sessionmaker[AsyncSession], published: Published,
                             profiles: ProfileSet) -> None:
    last: dict[str, dict[str, Any]] = {}
    for topic, message in published:
        _, _, device_type, device_id, channel = topic.split("/")
        if channel == "telemetry":
            values = {profiles.by_type[device_type].canonical_field(k) or k: v
                      for k, v in message.items() if k not in ("ts", "seq")}
            last[device_id] = values
    async with sessions() as session:
        rows = (await session.execute(
            select(Device.device_id, DeviceState.last_telemetry)
            .join(DeviceState, DeviceState.device_pk == Device.id))).all()
    stored = {device_id: telemetry for device_id, telemetry in rows if telemetry is not None}
    assert stored == last


async def _assert_history(store: TelemetryStore, published: Published) -> None:
    """Hourly mean, max and count of one charger's power equal what it published."""
    readings: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for topic, message in published:
        if "/ev_charger/" in topic and topic.endswith("/telemetry") and "power_kw" in message:
            readings[topic.split("/")[3]].append((_instant(message["ts"]), message["power_kw"]))
    device_id, points = max(readings.items(), key=lambda item: len(item[1]))
    start = min(t for t, _ in points).replace(minute=0, second=0, microsecond=0)
    end = max(t for t, _ in points) + timedelta(hours=1)
    by_hour: dict[datetime, list[float]] = defaultdict(list)
    for moment, value in points:
        by_hour[moment.replace(minute=0, second=0, microsecond=0)].append(value)
    estate_id = published[0][0].split("/")[1]
    for aggregate, reduce in ((Aggregate.MEAN, statistics.fmean), (Aggregate.MAX, max),
                              (Aggregate.COUNT, len)):
        buckets = await store.history(HistoryQuery(
            measurement="ev_charger", device_id=device_id, field="power_kw", start=start,
            end=end, interval_s=3600, aggregate=aggregate, estate_id=estate_id))
        got = {bucket.start: bucket.value for bucket in buckets}
        want = {hour: float(reduce(values)) for hour, values in by_hour.items()}
        assert got == pytest.approx(want), aggregate
