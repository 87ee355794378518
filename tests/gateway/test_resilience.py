"""A store or broker that goes away and comes back: the gateway waits, reconnects, loses nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiomqtt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.influx_v1 import InfluxV1Store
from tests.fixtures.influx import HttpServer, answers, influx_rows, influxd_config
from tests.fixtures.mosquitto import Broker, mosquitto_config
from tests.fixtures.processes import free_port, require_binary, running
from tests.utils.estates import register_small_estate, topic
from tests.utils.gateway import eventually, gateway_settings, running_gateway
from tests.utils.waiting import metric_value, wait_until

READINGS = 50


@contextmanager
def influxd_on(port: int, root: Path) -> Iterator[HttpServer]:
    """influxd on a fixed port and data dir, so it can be stopped and started again."""
    binary = require_binary("influxd", "influxdb", search=["/usr/bin/influxd"])
    config = root / "influxd.conf"
    if not config.exists():
        config.write_text(influxd_config(port, free_port(), root))
    server = HttpServer("127.0.0.1", port, root / "influxd.log")
    with running([binary, "run", "-config", str(config)], log=server.process_log,
                 what="influxd", port=port, ready=lambda: answers(f"{server.url}/ping", 204)):
        yield server


@contextmanager
def mosquitto_on(port: int, root: Path) -> Iterator[Broker]:
    binary = require_binary("mosquitto", "mosquitto", search=["/usr/sbin/mosquitto"])
    config = root / "mosquitto.conf"
    config.write_text(mosquitto_config(port, root))
    with running([binary, "-c", str(config)], log=root / "mosquitto.log", what="mosquitto",
                 port=port):
        yield Broker("127.0.0.1", port, root / "mosquitto.log")


# An hour ago: inside the gateway's lateness horizon (7 days) however long the test runs.
T0_MS = time.time_ns() // 1_000_000 - 3_600_000


def _reading(index: int) -> str:
    return json.dumps({"seq": index, "ts": T0_MS + index * 1000, "leak": False,
                       "battery": 50 + index % 50})


async def test_readings_sent_while_the_store_is_down_are_written_when_it_returns(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    estate_id = await register_small_estate(sessions)
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    port, root = free_port(), tmp_path / "influxd"
    root.mkdir()
    with influxd_on(port, root) as server:
        store = InfluxV1Store(server.url, "resilience")
    received, retries = _received(), _retries()
    async with (running_gateway(settings, store=store, sessions=sessions),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        for index in range(READINGS):  # the store is down for all of these
            await device.publish(topic(estate_id, "leak_sensor"), _reading(index), qos=1)
        # Every reading is in, and the writer has failed on the store and is backing off.
        assert await wait_until(
            lambda: _received() >= received + READINGS and _retries() > retries, within=30)
        with influxd_on(port, root) as server:
            rows = await eventually(
                lambda: _count(server), lambda count: count >= READINGS, within=45)
    await store.aclose()
    assert rows == READINGS


def _received() -> float:
    return metric_value("estateops_messages_received_total", {"channel": "telemetry"})


def _retries() -> float:
    return metric_value("estateops_store_write_retries_total")


async def _count(server: HttpServer) -> int:
    try:
        rows = await influx_rows(server.url, "resilience", "SELECT count(battery) FROM leak_sensor")
    except AssertionError:  # the database is created by the gateway's first write
        return 0
    return int(rows[0]["count"]) if rows else 0


async def test_the_gateway_reconnects_when_the_broker_restarts(
        database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path,
        influxdb_v1: HttpServer) -> None:
    estate_id = await register_small_estate(sessions)
    port, root = free_port(), tmp_path / "broker"
    root.mkdir()
    store = InfluxV1Store(influxdb_v1.url, f"reconnect_{estate_id}")
    settings = gateway_settings(broker_url=f"mqtt://127.0.0.1:{port}", database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    with mosquitto_on(port, root):
        gateway_context = running_gateway(settings, store=store, sessions=sessions)
        gateway = await gateway_context.__aenter__()
    try:
        await eventually(lambda: asyncio.sleep(0, gateway.connected.is_set()), lambda up: not up)
        with mosquitto_on(port, root) as broker:
            reconnected = await eventually(
                lambda: asyncio.sleep(0, gateway.connected.is_set()), bool, within=45)
            async with aiomqtt.Client(broker.host, broker.port) as device:
                await device.publish(topic(estate_id, "leak_sensor"), _reading(1), qos=1)
            stored = await eventually(
                lambda: _rows(influxdb_v1, store.database), bool)
    finally:
        await gateway_context.__aexit__(None, None, None)
        await store.aclose()
    assert reconnected
    assert [row["battery"] for row in stored] == [51]


async def _rows(server: HttpServer, database: str) -> list[dict[str, object]]:
    try:
        return await influx_rows(server.url, database, "SELECT battery FROM leak_sensor")
    except AssertionError:
        return []
