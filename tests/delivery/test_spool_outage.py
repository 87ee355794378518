"""The on-disk spool on real servers: a real `estateops gateway` streaming sequenced QoS 1
telemetry into InfluxDB 1.6, through a Mosquitto configured like deploy/'s.

1. InfluxDB is killed (-9) for longer than the gateway's memory lasts (a 500-point queue,
   the broker's 1 000 in-flight messages): the gateway spools and keeps acknowledging; then
   the gateway is killed (-9) too, during the outage. Both restarted: the spool is replayed
   and every message sent is stored exactly once.
2. A tiny spool and the store down: the spool fills, the gateway stops acknowledging and the
   broker holds the rest; when the store is back, every message is stored.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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
from tests.utils.waiting import wait_until

DEVICES = 200
RATE = 1_500.0
QUEUE = 500  # points: a third of a second of the stream
# The spool does not touch the SQL database: one variant (deploy's PostgreSQL) bounds CI time.
SPOOL_BOUND = 32 * 1024  # bytes: ~3 000 points of this stream
ONE_DATABASE = pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)


@contextmanager
def influxd(influx: HttpServer, root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """influxd on the server's port and data dir: kill it, and start it again on the same."""
    binary = require_binary("influxd", "influxdb", search=["/usr/bin/influxd"])
    config = root / "influxd.conf"
    if not config.exists():
        root.mkdir(exist_ok=True)
        config.write_text(influxd_config(influx.port, free_port(), root))
    with running([binary, "run", "-config", str(config)], log=influx.process_log,
                 what="influxd", port=influx.port,
                 ready=lambda: answers(f"{influx.url}/ping", 204)) as process:
        yield process


async def gateway_metric(port: int, name: str) -> int:
    """The sum of a gateway metric's samples, from its /metrics (0 when it has none)."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(int(float(value)) for value in re.findall(
        rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, flags=re.MULTILINE))


async def create_database(influx: HttpServer, database: str) -> None:
    async with httpx.AsyncClient(base_url=influx.url) as client:
        created = await client.post("/query", params={"q": f"CREATE DATABASE {database}"})
        created.raise_for_status()


def spool_env(env: dict[str, str], metrics_port: int, **gateway: str) -> dict[str, str]:
    more = {"QUEUE_SIZE": str(QUEUE), "BATCH_SIZE": "250", "METRICS_PORT": str(metrics_port),
            **gateway}
    return {**env, **{f"ESTATEOPS_GATEWAY__{key}": value for key, value in more.items()}}


async def waited(probe_metric: tuple[int, str], at_least: int, within: float) -> int:
    port, name = probe_metric
    value = await eventually(lambda: gateway_metric(port, name), lambda n: n >= at_least,
                             within=within, interval=0.2)
    assert value >= at_least, f"{name} = {value} after {within} s"
    return value


@ONE_DATABASE
@pytest.mark.timeout(150)
async def test_store_killed_then_gateway_killed_during_the_outage_loses_nothing(
        persistent_mosquitto: Broker, database_url: str,
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    total = 24_000
    influx = HttpServer("127.0.0.1", free_port(), tmp_path / "influxd.log")
    estate_id = await register_leak_sensors(sessions, DEVICES)
    database = unique_name("spool_outage")
    metrics_port = free_port()
    env = spool_env(gateway_env(mosquitto=persistent_mosquitto, influx=influx,
                                influx_db=database, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id,
                                client_id=f"gw-{uuid.uuid4().hex[:8]}"), metrics_port)
    log = tmp_path / "gateway.log"
    stream = LeakStream(persistent_mosquitto, estate_id, DEVICES, RATE)
    started = time.monotonic()
    publishing: asyncio.Task[None] | None = None
    try:
        with influxd(influx, tmp_path / "influxd") as store, gateway_process(env, log) as first:
            await create_database(influx, database)
            await subscribed(first, log, 1)
            publishing = asyncio.create_task(stream.run(limit=total))
            assert await wait_until(lambda: stream.sent >= 3_000, within=30)
            store.kill()  # kill -9 InfluxDB mid-stream
            store.wait(timeout=10)
            # Far more than the queue and the in-flight limit hold: only the spool has it.
            spooled_first = await waited((metrics_port, "estateops_points_spooled_total"),
                                         at_least=4 * (QUEUE + INFLIGHT), within=30)
            first.kill()  # kill -9 the gateway during the outage
            first.wait(timeout=10)
        with gateway_process(env, log) as second:
            await subscribed(second, log, 2)
            await asyncio.sleep(3.0)  # still down: the restarted gateway spools on
            with influxd(influx, tmp_path / "influxd"):
                await publishing
                stored = await eventually(lambda: stored_points(influx, database),
                                          lambda count: count >= stream.sent, within=60)
                await asyncio.sleep(1.0)  # a late duplicate would land now
                stored = await stored_points(influx, database)
                spooled_second = await gateway_metric(metrics_port,
                                                      "estateops_points_spooled_total")
                left = await gateway_metric(metrics_port, "estateops_spool_points")
                assert second.poll() is None, tail(log)
    finally:
        if publishing is not None:
            publishing.cancel()
    recovered = re.findall(r"the spool holds (\d+) points from before", log.read_text())
    print(f"\nsent {stream.sent}, stored {stored}, spooled {spooled_first} (first gateway, "
          f"before its kill -9) + {spooled_second} (restarted), found in the spool at restart "
          f"{recovered}, left in the spool {left}, lost {max(0, stream.sent - stored)}, "
          f"duplicated {max(0, stored - stream.sent)}, in {time.monotonic() - started:.1f} s")
    assert stream.sent == total
    assert recovered, tail(log)
    assert int(recovered[0]) > 0
    assert stored == stream.sent, tail(log)
    assert left == 0


@ONE_DATABASE
@pytest.mark.timeout(120)
async def test_a_full_spool_stops_acknowledging_and_the_broker_holds_the_rest(
        persistent_mosquitto: Broker, database_url: str,
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    total = 10_000
    influx = HttpServer("127.0.0.1", free_port(), tmp_path / "influxd.log")
    estate_id = await register_leak_sensors(sessions, DEVICES)
    database = unique_name("spool_full")
    metrics_port = free_port()
    env = spool_env(gateway_env(mosquitto=persistent_mosquitto, influx=influx,
                                influx_db=database, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id,
                                client_id=f"gw-{uuid.uuid4().hex[:8]}"), metrics_port,
                    SPOOL_MAX_BYTES=str(SPOOL_BOUND))
    log = tmp_path / "gateway.log"
    stream = LeakStream(persistent_mosquitto, estate_id, DEVICES, RATE)
    with gateway_process(env, log) as gateway:  # the store is not running
        await subscribed(gateway, log, 1)
        await stream.run(limit=total)
        await waited((metrics_port, "estateops_spool_full"), at_least=1, within=10)
        await asyncio.sleep(1.0)
        taken = await gateway_metric(metrics_port, "estateops_messages_received_total")
        spooled = await gateway_metric(metrics_port, "estateops_spool_points")
        await asyncio.sleep(2.0)
        taken_later = await gateway_metric(metrics_port, "estateops_messages_received_total")
        with influxd(influx, tmp_path / "influxd"):
            await create_database(influx, database)  # to count from 0 before the first write
            stored = await eventually(lambda: stored_points(influx, database),
                                      lambda count: count >= stream.sent, within=60)
            full_after = await gateway_metric(metrics_port, "estateops_spool_full")
            assert gateway.poll() is None, tail(log)
    print(f"\nsent {stream.sent}, taken by the gateway while the store was down {taken} "
          f"({spooled} spooled in {SPOOL_BOUND // 1024} KB, in-flight limit {INFLIGHT}, "
          f"queue {QUEUE}), "
          f"stored {stored}, lost {max(0, stream.sent - stored)}, "
          f"duplicated {max(0, stored - stream.sent)}")
    assert taken == taken_later  # no more taken: nothing more acknowledged
    assert taken <= spooled + INFLIGHT  # acknowledged ones are all in the spool
    assert "spool full" in log.read_text()
    assert stored == stream.sent
    assert full_after == 0
