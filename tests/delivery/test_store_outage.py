"""The store is down and the spool is off: the gateway holds at most the broker's in-flight
limit of messages, unacknowledged, and the broker keeps the rest. A kill -9 during the
outage loses nothing: once InfluxDB is up and the gateway restarted, every message is
stored exactly once.

With acknowledgement on receipt the gateway took (and acknowledged) the whole stream into
memory while the store was down, and the kill lost all of it.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.delivery.conftest import SetUp
from tests.delivery.restarts import INFLIGHT, InfluxServer, MosquittoServer

DEVICES = 200
RATE = 1_500.0
TOTAL = 5_000  # five times the in-flight limit


@pytest.mark.timeout(150)
async def test_store_down_then_kill_9_loses_nothing_and_holds_only_the_inflight_limit(
        persistent_mosquitto: MosquittoServer, own_influxd: InfluxServer,
        delivery: SetUp) -> None:
    # Without the spool (test_spool_outage.py has it): the broker alone holds the outage.
    setup = await delivery(devices=DEVICES, broker=persistent_mosquitto.broker,
                           influx=own_influxd.influx, store_up=False,
                           settings={"SPOOL_ENABLED": "false"})
    stream = setup.stream(RATE)
    await setup.gateways.start()  # the store is not running yet
    await stream.run(limit=TOTAL)
    await asyncio.sleep(1.0)  # what the gateway could still take, it takes now
    held = await setup.gateways.metric("estateops_messages_received_total")
    setup.gateways.kill()
    own_influxd.start()
    await setup.create_store_database()
    await setup.gateways.start()
    stored = await setup.all_stored(stream)
    assert setup.gateways.alive(), setup.gateways.tails()
    print(f"\nsent {stream.sent}, taken by the gateway while the store was down {held} "
          f"(in-flight limit {INFLIGHT}), stored {stored}, lost {max(0, stream.sent - stored)}"
          f", duplicated {max(0, stored - stream.sent)}")
    assert held <= INFLIGHT
    assert stored == stream.sent
