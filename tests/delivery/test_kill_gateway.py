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

import pytest

from tests.delivery.conftest import SetUp
from tests.delivery.restarts import MosquittoServer
from tests.fixtures.influx import HttpServer
from tests.utils.waiting import wait_until

DEVICES = 300
RATE = 1_500.0  # msg/s: about half what the gateway takes on 2 cores
TOTAL = 15_000
KILL_AFTER = 6_000  # sent messages


@pytest.mark.timeout(120)
async def test_kill_9_mid_stream_stores_every_message_exactly_once(
        persistent_mosquitto: MosquittoServer, influxdb_v1: HttpServer,
        delivery: SetUp) -> None:
    setup = await delivery(devices=DEVICES, broker=persistent_mosquitto.broker,
                           influx=influxdb_v1)
    stream = setup.stream(RATE)
    started = time.monotonic()
    await setup.gateways.start()
    publishing = setup.publish(stream, limit=TOTAL)
    assert await wait_until(lambda: stream.sent >= KILL_AFTER, within=30)
    setup.gateways.kill()
    stored_at_kill = await setup.stored()
    await setup.gateways.start()
    await publishing
    await setup.all_stored(stream)
    await asyncio.sleep(1.0)  # a late duplicate would land now
    stored = await setup.stored()
    print(f"\nsent {stream.sent}, stored {stored} ({stored_at_kill} before the kill at "
          f"{KILL_AFTER}), lost {max(0, stream.sent - stored)}, "
          f"duplicated {max(0, stored - stream.sent)}, in {time.monotonic() - started:.1f} s")
    assert stream.sent == TOTAL
    assert stored == stream.sent, setup.gateways.tails()
