"""kill -9 of a real `estateops gateway` in the middle of a sequenced QoS 1 stream from a
few hundred simulated leak sensors, on a real Mosquitto configured like deploy/'s
(persistence, unbounded queue, an in-flight limit set on purpose) and real InfluxDB 1.6:
after a restart every message is stored exactly once.

A message is acknowledged only once its points are in the store, so what the killed gateway
held unwritten is still the broker's and comes again on the restarted gateway's session.
A redelivery of a message that was stored just before the kill lands on its own point
(`ts` + `seq` make its InfluxDB key), so it is not stored twice.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.influx import HttpServer
from tests.fixtures.mosquitto import Broker
from tests.utils.gateway import eventually
from tests.utils.gateway_process import (
    LeakStream,
    gateway_env,
    gateway_process,
    influx_database,
    register_leak_sensors,
    stored_points,
    subscribed,
    tail,
)
from tests.utils.waiting import wait_until

DEVICES = 300
RATE = 1_500.0  # msg/s: about half what the gateway takes on 2 cores
TOTAL = 15_000
KILL_AFTER = 6_000  # sent messages


# The SQL dialect does not matter to delivery (the rest of the suite runs both): PostgreSQL
# only, which halves this kill test's share of CI.
@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(120)
async def test_kill_9_mid_stream_stores_every_message_exactly_once(
        persistent_mosquitto: Broker, influxdb_v1: HttpServer, database_url: str,
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    estate_id = await register_leak_sensors(sessions, DEVICES)
    database = await influx_database(influxdb_v1)
    env = gateway_env(mosquitto=persistent_mosquitto, influx=influxdb_v1, influx_db=database,
                      database_url=database_url, data_dir=tmp_path, estate_id=estate_id,
                      client_id=f"gw-{uuid.uuid4().hex[:8]}")
    log = tmp_path / "gateway.log"
    stream = LeakStream(persistent_mosquitto, estate_id, DEVICES, RATE)
    started = time.monotonic()
    with gateway_process(env, log) as first:
        await subscribed(first, log, 1)
        publishing = asyncio.create_task(stream.run(limit=TOTAL))
        assert await wait_until(lambda: stream.sent >= KILL_AFTER, within=30)
        first.kill()  # SIGKILL: no flush, no DISCONNECT
        first.wait(timeout=10)
    stored_at_kill = await stored_points(influxdb_v1, database)
    try:
        with gateway_process(env, log) as second:
            await subscribed(second, log, 2)
            await publishing
            stored = await eventually(lambda: stored_points(influxdb_v1, database),
                                      lambda count: count >= stream.sent, within=60)
            await asyncio.sleep(1.0)  # a late duplicate would land now
            stored = await stored_points(influxdb_v1, database)
    finally:
        publishing.cancel()
    print(f"\nsent {stream.sent}, stored {stored} ({stored_at_kill} before the kill at "
          f"{KILL_AFTER}), lost {max(0, stream.sent - stored)}, "
          f"duplicated {max(0, stored - stream.sent)}, in {time.monotonic() - started:.1f} s")
    assert stream.sent == TOTAL
    assert stored == stream.sent, tail(log)
