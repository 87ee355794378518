"""One hostile device cannot hurt the others: after its worst messages, a normal device's
leak is still stored in real InfluxDB and still becomes a work order.

Real Mosquitto, InfluxDB 1.6 and SQL (SQLite and PostgreSQL); the hostile device is a
registered leak sensor of the same estate, so it shares the victim's measurement.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.influx_v1 import InfluxV1Store
from core.clock import SystemClock
from core.telemetry import Point
from device_profiles import load_profiles
from gateway.tables import DeadLetter, DeviceState
from registry.importer import import_estates
from registry.schema import EstateFile
from registry.tables import Device
from services.workorders.notifier import Notifier
from services.workorders.sink import intake_sink
from services.workorders.tables import WorkOrder
from tests.fixtures.influx import HttpServer, influx_query, influx_rows, unique_name
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import small_estate, unique_estate_id
from tests.utils.gateway import eventually, gateway_settings, running_gateway

DAY_MS = 86_400_000
OLD_TS_MESSAGES = 30
EVENTS = 40


@pytest.fixture
async def store(influxdb_v1: HttpServer) -> AsyncIterator[InfluxV1Store]:
    influx = InfluxV1Store(influxdb_v1.url, unique_name("hostile"))
    async with httpx.AsyncClient(base_url=influxdb_v1.url) as client:
        created = await client.post("/query", params={"q": f"CREATE DATABASE {influx.database}"})
        created.raise_for_status()
    yield influx
    await influx.aclose()


async def _register(sessions: async_sessionmaker[AsyncSession]) -> str:
    estate_id = unique_estate_id()
    estate = small_estate(estate_id).estates[0].model_dump()
    estate["devices"].append({"id": "leak-victim", "type": "leak_sensor", "building": "b41",
                              "unit": "u2"})
    await import_estates(sessions, EstateFile.model_validate({"estates": [estate]}),
                         load_profiles())
    return estate_id


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


Messages = list[tuple[str, dict[str, object]]]


def _hostile_messages(estate_id: str) -> Messages:
    leak = f"estates/{estate_id}/leak_sensor/leak-1/telemetry"
    gate = f"estates/{estate_id}/barrier_gate/gate-1/event"
    rng = random.Random(10)
    old: Messages = [
        (leak, {"leak": True, "seq": 100 + n, "ts": _now_ms() - rng.randrange(8, 3000) * DAY_MS})
        for n in range(OLD_TS_MESSAGES)]
    events: Messages = [
        (gate, {"event": "vehicle_entry", "plate": f"黑A{rng.randrange(10**5):05d}",
                "lane": f"lane {rng.random()}", "session": rng.random()})
        for _ in range(EVENTS)]
    return [(leak, {"leak": False, "seq": 2**64}), *old, *events]


async def _dead_letter_reasons(sessions: async_sessionmaker[AsyncSession],
                               estate_id: str) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(DeadLetter.reason).where(
            DeadLetter.estate_id == estate_id).order_by(DeadLetter.id)))


async def _victim(sessions: async_sessionmaker[AsyncSession], estate_id: str) -> int:
    async with sessions() as session:
        pk = await session.scalar(select(Device.id).where(
            Device.estate_id == estate_id, Device.device_id == "leak-victim"))
    assert pk is not None
    return pk


async def _leak_orders(sessions: async_sessionmaker[AsyncSession], pk: int) -> list[WorkOrder]:
    async with sessions() as session:
        return list(await session.scalars(select(WorkOrder).where(
            WorkOrder.device_pk == pk, WorkOrder.rule == "water_leak")))


async def _state(sessions: async_sessionmaker[AsyncSession], pk: int) -> DeviceState | None:
    async with sessions() as session:
        return await session.get(DeviceState, pk)


async def test_a_hostile_device_does_not_stop_another_devices_leak(
        mosquitto: Broker, influxdb_v1: HttpServer, database_url: str,
        sessions: async_sessionmaker[AsyncSession], store: InfluxV1Store,
        tmp_path: Path) -> None:
    estate_id = await _register(sessions)
    victim = await _victim(sessions, estate_id)
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    clock = SystemClock()
    sink = intake_sink(sessions, Notifier(sessions, mqtt=None), clock)

    async def rows(statement: str) -> list[dict[str, object]]:
        return await influx_rows(influxdb_v1.url, store.database, statement)

    async with (running_gateway(settings, store=store, sessions=sessions, anomalies=sink,
                                clock=clock),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        # First writer of an undeclared field: a string where others send numbers.
        await device.publish(f"estates/{estate_id}/leak_sensor/leak-1/telemetry",
                             json.dumps({"leak": False, "signal_raw": "high"}), qos=1)
        await eventually(lambda: rows("SELECT * FROM leak_sensor WHERE device = 'leak-1'"), bool)
        for hostile_topic, payload in _hostile_messages(estate_id):
            await device.publish(hostile_topic, json.dumps(payload), qos=1)
        reasons = await eventually(lambda: _dead_letter_reasons(sessions, estate_id),
                                   lambda found: len(found) >= 1 + OLD_TS_MESSAGES)
        await eventually(lambda: rows("SELECT * FROM barrier_gate_event"),
                         lambda found: len(found) >= EVENTS)
        victim_topic = f"estates/{estate_id}/leak_sensor/leak-victim/telemetry"
        for seq, leak in ((1, False), (2, True)):
            await device.publish(victim_topic, json.dumps(
                {"leak": leak, "signal_raw": 87 + seq, "seq": seq, "ts": _now_ms()}), qos=1)
        stored = await eventually(
            lambda: rows("SELECT * FROM leak_sensor WHERE device = 'leak-victim'"),
            lambda found: len(found) >= 2)
        orders = await eventually(lambda: _leak_orders(sessions, victim), bool)
        state = await eventually(lambda: _state(sessions, victim),
                                 lambda found: found is not None and found.last_seq == 2)

    assert reasons == ["out_of_range"] + ["ts_too_old"] * OLD_TS_MESSAGES
    assert [(row["leak"], row["signal_raw"]) for row in stored] == [(False, "88"), (True, "89")]
    assert len(orders) == 1
    assert state is not None
    assert state.last_telemetry == {"leak": True, "signal_raw": "89"}
    series = await influx_query(influxdb_v1.url, store.database,
                                "SHOW SERIES FROM barrier_gate_event")
    assert len(series[0]["values"]) == 1, "free-text event attributes became tags"
    shards = await influx_query(influxdb_v1.url, store.database, "SHOW SHARDS")
    ours = [row for one in shards if one["name"] == store.database for row in one["values"]]
    assert len(ours) <= 2, f"{len(ours)} shards: old timestamps were written"


async def test_a_field_already_numeric_in_influxdb_costs_only_the_extra(
        mosquitto: Broker, influxdb_v1: HttpServer, database_url: str,
        sessions: async_sessionmaker[AsyncSession], store: InfluxV1Store,
        tmp_path: Path) -> None:
    """Data written before extras were strings (or by another writer) holds `signal_raw` as
    a float in this week's shard: the string extra is refused, the leak beside it is not."""
    estate_id = await _register(sessions)
    await store.write([Point("leak_sensor", {"estate": estate_id, "device": "leak-1"},
                             {"signal_raw": 87.0}, time.time_ns())])
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    async with (running_gateway(settings, store=store, sessions=sessions),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        await device.publish(f"estates/{estate_id}/leak_sensor/leak-victim/telemetry",
                             json.dumps({"leak": True, "signal_raw": 88}), qos=1)
        stored = await eventually(lambda: influx_rows(
            influxdb_v1.url, store.database,
            "SELECT leak FROM leak_sensor WHERE device = 'leak-victim'"), bool)
        reasons = await eventually(lambda: _dead_letter_reasons(sessions, estate_id), bool)

    assert [row["leak"] for row in stored] == [True]
    assert reasons == ["store_rejected"]
