"""The store is down and the spool is off: the gateway holds at most the broker's in-flight
limit of messages, unacknowledged, and the broker keeps the rest. A kill -9 during the
outage loses nothing: once InfluxDB is up and the gateway restarted, every message is
stored exactly once.

With acknowledgement on receipt the gateway took (and acknowledged) the whole stream into
memory while the store was down, and the kill lost all of it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.delivery.conftest import INFLIGHT
from tests.fixtures.influx import HttpServer, answers, influxd_config, unique_name
from tests.fixtures.mosquitto import Broker
from tests.fixtures.processes import free_port, require_binary, running
from tests.utils.gateway import eventually
from tests.utils.gateway_process import (
    LeakStream,
    gateway_env,
    gateway_process,
    register_leak_sensors,
    stored_points,
    subscribed,
    tail,
)

DEVICES = 200
RATE = 1_500.0
TOTAL = 8_000


async def received(metrics_port: int) -> int:
    """estateops_messages_received_total of the gateway, from its /metrics."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
    return sum(int(float(value)) for value in re.findall(
        r'^estateops_messages_received_total\{[^}]*\} (\S+)$', text, flags=re.MULTILINE))


async def create_database(influx: HttpServer, database: str) -> None:
    async with httpx.AsyncClient(base_url=influx.url) as client:
        created = await client.post("/query", params={"q": f"CREATE DATABASE {database}"})
        created.raise_for_status()


# The SQL dialect does not matter to delivery (the rest of the suite runs both): PostgreSQL
# only, which halves this kill test's share of CI.
@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(150)
async def test_store_down_then_kill_9_loses_nothing_and_holds_only_the_inflight_limit(
        persistent_mosquitto: Broker, database_url: str,
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    binary = require_binary("influxd", "influxdb", search=["/usr/bin/influxd"])
    influx = HttpServer("127.0.0.1", free_port(), tmp_path / "influxd.log")
    estate_id = await register_leak_sensors(sessions, DEVICES)
    database = unique_name("outage")  # the gateway creates it on its first write
    env = gateway_env(mosquitto=persistent_mosquitto, influx=influx, influx_db=database,
                      database_url=database_url, data_dir=tmp_path, estate_id=estate_id,
                      client_id=f"gw-{uuid.uuid4().hex[:8]}")
    metrics_port = free_port()
    env["ESTATEOPS_GATEWAY__METRICS_PORT"] = str(metrics_port)
    # Without the spool (test_spool_outage.py has it): the broker alone holds the outage.
    env["ESTATEOPS_GATEWAY__SPOOL_ENABLED"] = "false"
    log = tmp_path / "gateway.log"
    stream = LeakStream(persistent_mosquitto, estate_id, DEVICES, RATE)
    with gateway_process(env, log) as first:  # the store is not running yet
        await subscribed(first, log, 1)
        await stream.run(limit=TOTAL)
        await asyncio.sleep(1.0)
        held = await received(metrics_port)
        first.kill()
        first.wait(timeout=10)
    config = tmp_path / "influxd.conf"
    config.write_text(influxd_config(influx.port, free_port(), tmp_path / "influxd"))
    with running([binary, "run", "-config", str(config)], log=influx.process_log,
                 what="influxd", port=influx.port,
                 ready=lambda: answers(f"{influx.url}/ping", 204)):
        await create_database(influx, database)  # to count from 0 before the first write
        with gateway_process(env, log) as second:
            await subscribed(second, log, 2)
            stored = await eventually(lambda: stored_points(influx, database),
                                      lambda count: count >= stream.sent, within=60)
            assert second.poll() is None, tail(log)
    print(f"\nsent {stream.sent}, taken by the gateway while the store was down {held} "
          f"(in-flight limit {INFLIGHT}), stored {stored}, lost {max(0, stream.sent - stored)}"
          f", duplicated {max(0, stored - stream.sent)}")
    assert held <= INFLIGHT
    assert stored == stream.sent
