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
import time

import pytest

from tests.delivery.conftest import Delivery, SetUp
from tests.delivery.restarts import INFLIGHT, InfluxServer, MosquittoServer
from tests.utils.gateway import eventually
from tests.utils.waiting import wait_until

DEVICES = 200
RATE = 1_500.0
QUEUE = 500  # points: a third of a second of the stream
SPOOL = {"QUEUE_SIZE": str(QUEUE), "BATCH_SIZE": "250"}
SPOOL_BOUND = 32 * 1024  # bytes: ~3 000 points of this stream


async def waited(setup: Delivery, metric: str, *, at_least: int, within: float) -> int:
    """The gateway's `metric`, once it is `at_least` (fails after `within` s)."""
    value = await eventually(lambda: setup.gateways.metric(metric), lambda n: n >= at_least,
                             within=within, interval=0.2)
    assert value >= at_least, f"{metric} = {value} after {within} s"
    return value


@pytest.mark.timeout(150)
async def test_store_killed_then_gateway_killed_during_the_outage_loses_nothing(
        persistent_mosquitto: MosquittoServer, own_influxd: InfluxServer,
        delivery: SetUp) -> None:
    total = 24_000
    setup = await delivery(devices=DEVICES, broker=persistent_mosquitto.broker,
                           influx=own_influxd.influx, store_up=False, settings=SPOOL)
    stream = setup.stream(RATE)
    started = time.monotonic()
    own_influxd.start()
    await setup.create_store_database()
    await setup.gateways.start()
    publishing = setup.publish(stream, limit=total)
    assert await wait_until(lambda: stream.sent >= 3_000, within=30)
    own_influxd.kill()  # kill -9 InfluxDB mid-stream
    # Far more than the queue and the in-flight limit hold: only the spool has it.
    spooled_first = await waited(setup, "estateops_points_spooled_total",
                                 at_least=4 * (QUEUE + INFLIGHT), within=30)
    setup.gateways.kill()  # kill -9 the gateway during the outage
    await setup.gateways.start()
    await waited(setup, "estateops_points_spooled_total", at_least=QUEUE,
                 within=30)  # still down: the restarted gateway spools on
    own_influxd.start()
    await publishing
    await setup.all_stored(stream)
    await asyncio.sleep(1.0)  # a late duplicate would land now
    stored = await setup.stored()
    spooled_second = await setup.gateways.metric("estateops_points_spooled_total")
    left = await setup.gateways.metric("estateops_spool_points")
    assert setup.gateways.alive(), setup.gateways.tails()
    recovered = re.findall(r"the spool holds (\d+) points from before",
                           setup.gateways.log().read_text())
    print(f"\nsent {stream.sent}, stored {stored}, spooled {spooled_first} (first gateway, "
          f"before its kill -9) + {spooled_second} (restarted), found in the spool at restart "
          f"{recovered}, left in the spool {left}, lost {max(0, stream.sent - stored)}, "
          f"duplicated {max(0, stored - stream.sent)}, in {time.monotonic() - started:.1f} s")
    assert stream.sent == total
    assert recovered, setup.gateways.tails()
    assert int(recovered[0]) > 0
    assert stored == stream.sent, setup.gateways.tails()
    assert left == 0


@pytest.mark.timeout(120)
async def test_a_full_spool_stops_acknowledging_and_the_broker_holds_the_rest(
        persistent_mosquitto: MosquittoServer, own_influxd: InfluxServer,
        delivery: SetUp) -> None:
    total = 10_000
    setup = await delivery(devices=DEVICES, broker=persistent_mosquitto.broker,
                           influx=own_influxd.influx, store_up=False,
                           settings={**SPOOL, "SPOOL_MAX_BYTES": str(SPOOL_BOUND)})
    stream = setup.stream(RATE)
    await setup.gateways.start()  # the store is not running
    await stream.run(limit=total)
    await waited(setup, "estateops_spool_full", at_least=1, within=10)
    await asyncio.sleep(1.0)
    taken = await setup.gateways.metric("estateops_messages_received_total")
    spooled = await setup.gateways.metric("estateops_spool_points")
    await asyncio.sleep(2.0)
    taken_later = await setup.gateways.metric("estateops_messages_received_total")
    own_influxd.start()
    await setup.create_store_database()
    stored = await setup.all_stored(stream)
    full_after = await setup.gateways.metric("estateops_spool_full")
    assert setup.gateways.alive(), setup.gateways.tails()
    print(f"\nsent {stream.sent}, taken by the gateway while the store was down {taken} "
          f"({spooled} spooled in {SPOOL_BOUND // 1024} KB, in-flight limit {INFLIGHT}, "
          f"queue {QUEUE}), "
          f"stored {stored}, lost {max(0, stream.sent - stored)}, "
          f"duplicated {max(0, stored - stream.sent)}")
    assert taken == taken_later  # no more taken: nothing more acknowledged
    assert taken <= spooled + INFLIGHT  # acknowledged ones are all in the spool
    assert "spool full" in setup.gateways.log().read_text()
    assert stored == stream.sent
    assert full_after == 0
