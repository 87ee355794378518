"""Contract details end to end: timestamps, redelivery, status and the Last Will."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiomqtt
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.influx_v1 import InfluxV1Store
from gateway.tables import DeviceState
from registry.tables import Device
from tests.fixtures.influx import HttpServer, influx_rows, unique_name
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import require_binary
from tests.utils.estates import register_small_estate, topic
from tests.utils.gateway import eventually, gateway_settings, running_gateway


def _recent_instant() -> tuple[int, str]:
    """An hour ago on a whole second, as epoch ms and as RFC 3339 in Beijing time: like the
    contract's example instant, but inside the gateway's 7-day lateness horizon."""
    moment = datetime.now(timezone(timedelta(hours=8))).replace(microsecond=0)
    moment -= timedelta(hours=1)
    return int(moment.timestamp()) * 1000, moment.isoformat()


INSTANT_MS, INSTANT_RFC3339 = _recent_instant()


@pytest.fixture
async def store(influxdb_v1: HttpServer) -> AsyncIterator[InfluxV1Store]:
    influx = InfluxV1Store(influxdb_v1.url, unique_name("delivery"))
    async with httpx.AsyncClient(base_url=influxdb_v1.url) as client:
        created = await client.post("/query", params={"q": f"CREATE DATABASE {influx.database}"})
        created.raise_for_status()
    yield influx
    await influx.aclose()


@pytest.fixture
async def estate_id(sessions: async_sessionmaker[AsyncSession]) -> str:
    return await register_small_estate(sessions)


async def _rows(store: InfluxV1Store, server: HttpServer,
                statement: str) -> list[dict[str, object]]:
    return await influx_rows(server.url, store.database, statement)


async def test_epoch_ms_and_rfc3339_land_at_the_same_instant(
        mosquitto: Broker, influxdb_v1: HttpServer, database_url: str,
        sessions: async_sessionmaker[AsyncSession], store: InfluxV1Store, estate_id: str,
        tmp_path: Path) -> None:
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    async with (running_gateway(settings, store=store, sessions=sessions),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        await device.publish(topic(estate_id, "leak_sensor"),
                             json.dumps({"ts": INSTANT_MS, "leak": True}), qos=1)
        await device.publish(topic(estate_id, "voice_light"),
                             json.dumps({"ts": INSTANT_RFC3339, "state": "on"}), qos=1)
        leak = await eventually(lambda: _rows(store, influxdb_v1, "SELECT * FROM leak_sensor"),
                                bool)
        light = await eventually(lambda: _rows(store, influxdb_v1, "SELECT * FROM voice_light"),
                                 bool)
    assert [row["time"] for row in leak] == [INSTANT_MS * 1_000_000]
    assert [row["time"] for row in light] == [INSTANT_MS * 1_000_000]


async def test_a_redelivered_seq_is_stored_once(
        mosquitto: Broker, influxdb_v1: HttpServer, database_url: str,
        sessions: async_sessionmaker[AsyncSession], store: InfluxV1Store, estate_id: str,
        tmp_path: Path) -> None:
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    first = {"seq": 812, "leak": False, "battery": 96}  # no ts: time of receipt differs
    second = {"seq": 813, "leak": False, "battery": 95}
    async with (running_gateway(settings, store=store, sessions=sessions),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        for payload in (first, first, second, first):
            await device.publish(topic(estate_id, "leak_sensor"), json.dumps(payload), qos=1)
        rows = await eventually(
            lambda: _rows(store, influxdb_v1, "SELECT battery FROM leak_sensor"),
            lambda found: len(found) >= 2)
    assert sorted(row["battery"] for row in rows) == [95, 96]


async def test_status_and_last_will_set_online_and_offline(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        store: InfluxV1Store, estate_id: str, tmp_path: Path) -> None:
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    status_topic = topic(estate_id, "barrier_gate", "status")

    async def online() -> bool | None:
        async with sessions() as session:
            return await session.scalar(
                select(DeviceState.online).join(Device, Device.id == DeviceState.device_pk)
                .where(Device.device_id == "gate-1"))

    async with running_gateway(settings, store=store, sessions=sessions):
        gate = _device_with_last_will(mosquitto, status_topic)
        try:
            async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
                await client.publish(status_topic, b"online", qos=1, retain=True)
            came_online = await eventually(online, lambda value: value is True)
            # The device got its own "online" back: it is connected, its Will registered.
            assert await _next_line(gate) == b"online\n"
            gate.kill()  # a power cut: no DISCONNECT, so the broker sends the Will
            went_offline = await eventually(online, lambda value: value is False)
        finally:
            gate.kill()
            gate.wait()
            if gate.stdout is not None:
                gate.stdout.close()
    assert came_online is True
    assert went_offline is False


def _device_with_last_will(broker: Broker, status_topic: str) -> subprocess.Popen[bytes]:
    """A client whose Last Will is a retained "offline", as the contract says; it prints
    each message of its own status topic (so a line shows it is connected)."""
    binary = require_binary("mosquitto_sub", "mosquitto-clients")
    return subprocess.Popen([
        binary, "-h", broker.host, "-p", str(broker.port), "-t", status_topic, "-q", "1",
        "--will-topic", status_topic, "--will-payload", "offline", "--will-retain",
        "--will-qos", "1",
    ], stdout=subprocess.PIPE)


async def _next_line(process: subprocess.Popen[bytes], within: float = 15.0) -> bytes:
    """The next line `process` prints, or b"" if none comes in time."""
    assert process.stdout is not None
    try:
        return await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), within)
    except TimeoutError:
        return b""
