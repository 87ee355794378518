"""The combined fault test (issue 7): sequenced QoS 1 leak telemetry from a few hundred
sensors, some of them leaking, streams through two partitioned `estateops gateway`
processes into a real InfluxDB 1.6, while the test
  (a) kill -9s a gateway and restarts it at once,
  (b) kill -9s InfluxDB until both gateways spool (their point queue is full) and restarts it,
  (c) kill -9s Mosquitto (deploy/'s persistence) and restarts it,
  (d) kill -9s the other gateway, leaves it down for OTHER_GATEWAY_DOWN_S, and restarts it.
It prints sent / stored / lost / duplicated and work orders expected / made / duplicated,
and asserts nothing is lost or duplicated, with one exception it counts apart: what
Mosquitto had acknowledged to the devices but held only in memory at the instant of its
kill -9 (see tests/delivery/restarts.BrokerKillLoss).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.tables import Device
from services.workorders.tables import WorkOrder
from tests.delivery.conftest import SetUp
from tests.delivery.restarts import (
    BrokerKillLoss,
    Gateways,
    InfluxServer,
    MosquittoServer,
    ReconnectingLeakStream,
    caught_up,
    missing_messages,
    stored_by_device,
)
from tests.utils.gateway import eventually
from tests.utils.waiting import wait_until

DEVICES = 100
LEAKERS = 10  # leak-0 .. leak-9 report leak=true from LEAK_FROM_SEQ on, and keep on
LEAK_FROM_SEQ = 3
RATE = 300.0  # msg/s; each of the two gateways receives every message
# InfluxDB stays down until both gateways have filled their in-memory point queue
# (QUEUE_POINTS, a second at RATE) and spool: the on-disk spool must hold the rest, and
# survive the kill that follows.
QUEUE_POINTS = 300
STORE_OUTAGE_MAX_S = 60.0
GATEWAY_DOWN_S = 1.0
BROKER_DOWN_S = 2.0
OTHER_GATEWAY_DOWN_S = 3.0
PHASE_S = 1.5  # streaming between a restart and the wait for the backlog to be stored
MOSQUITTO_MEMORY_WINDOW = 200  # see test_broker_restart.py


@dataclass
class LeakingStream(ReconnectingLeakStream):
    """The first `leakers` sensors report a leak from `leak_from_seq` on."""

    leakers: int = LEAKERS
    leak_from_seq: int = LEAK_FROM_SEQ

    def message(self, index: int) -> tuple[str, str]:
        topic, _ = super().message(index)
        device, seq = index % self.devices, index // self.devices
        leak = device < self.leakers and seq >= self.leak_from_seq
        return topic, json.dumps({"seq": seq, "ts": self.base_ms + seq, "leak": leak})


async def leak_work_orders(sessions: async_sessionmaker[AsyncSession],
                           estate_id: str) -> tuple[int, int]:
    """Leak work orders in the estate, and the devices they are for."""
    query = select(func.count(WorkOrder.id), func.count(func.distinct(WorkOrder.device_pk))
                   ).join(Device, Device.id == WorkOrder.device_pk).where(
        Device.estate_id == estate_id, WorkOrder.rule == "water_leak")
    async with sessions() as session:
        orders, devices = (await session.execute(query)).one()
    return int(orders), int(devices)


def spooled(fleet: Gateways) -> list[int]:
    """The gateways that wrote to their spool."""
    return [index for index in range(fleet.count)
            if "spooling to" in fleet.log(index).read_text(errors="replace")]


async def faults_in_turn(fleet: Gateways, influxd: InfluxServer,
                         mosquitto: MosquittoServer, stream: LeakingStream,
                         steady: Callable[[], Awaitable[None]]) -> int:
    """(a) to (d), each followed by PHASE_S of streaming and `steady` (every message sent
    so far stored: a broker killed with a backlog in memory would lose all of it); the
    stream's count at (c)."""
    fleet.kill(0)  # (a)
    await asyncio.sleep(GATEWAY_DOWN_S)
    await fleet.start(0)
    await asyncio.sleep(PHASE_S)
    await steady()

    influxd.kill()  # (b)
    assert await wait_until(lambda: spooled(fleet) == [0, 1], within=STORE_OUTAGE_MAX_S,
                            interval=0.2), (
        f"only gateways {spooled(fleet)} spooled after {STORE_OUTAGE_MAX_S} s")
    influxd.start()
    await asyncio.sleep(PHASE_S)
    await steady()

    subscriptions = {index: fleet.subscriptions(index) for index in range(fleet.count)}
    broker_killed_at = stream.sent
    mosquitto.kill()  # (c)
    await asyncio.sleep(BROKER_DOWN_S)
    mosquitto.start()
    await fleet.resubscribed(subscriptions)
    await asyncio.sleep(PHASE_S)
    await steady()

    fleet.kill(1)  # (d)
    await asyncio.sleep(OTHER_GATEWAY_DOWN_S)
    await fleet.start(1)
    await asyncio.sleep(PHASE_S)
    await steady()
    return broker_killed_at


@pytest.mark.timeout(300)
async def test_gateways_store_and_broker_killed_in_turn_lose_and_duplicate_nothing(
        persistent_mosquitto: MosquittoServer, own_influxd: InfluxServer, delivery: SetUp,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    started = time.monotonic()
    own_influxd.start()
    setup = await delivery(devices=DEVICES, broker=persistent_mosquitto.broker,
                           influx=own_influxd.influx, gateways=2,
                           settings={"QUEUE_SIZE": str(QUEUE_POINTS)})
    fleet, estate_id = setup.gateways, setup.estate_id
    stream = LeakingStream(persistent_mosquitto.broker, estate_id, DEVICES, RATE)
    await fleet.start_all()
    await persistent_mosquitto.saved_sessions()
    publishing = setup.publish(stream)
    leaking = await eventually(lambda: leak_work_orders(sessions, estate_id),
                               lambda found: found[1] >= LEAKERS, within=30)
    assert leaking[1] == LEAKERS, f"leak work orders before the faults: {leaking}"
    # The rule state that says each leak was raised is saved in the transaction that put
    # its anomaly in the outbox, before the work order was made from it: no wait here.
    broker_killed_at = await faults_in_turn(
        fleet, own_influxd, persistent_mosquitto, stream,
        lambda: caught_up(setup.influx, setup.influx_db, stream))
    stream.stop.set()
    await asyncio.wait_for(publishing, timeout=30)
    stored = sum((await eventually(
        lambda: stored_by_device(setup.influx, setup.influx_db),
        lambda counts: sum(counts.values()) >= stream.sent, within=60)).values())
    loss = BrokerKillLoss(broker_killed_at,
                          await missing_messages(setup.influx, setup.influx_db, stream))
    orders, leaked = await leak_work_orders(sessions, estate_id)
    assert fleet.alive(), fleet.tails()
    lost = [index for index in loss.missing if index not in loss.at_kill]
    print(f"\nsent {stream.sent} (sent again after the broker's restart: {stream.resent}), "
          f"stored {stored}, lost {len(lost)} (+ {len(loss.at_kill)} Mosquitto had "
          f"acknowledged in memory within {loss.window} messages before its kill -9), "
          f"duplicated {max(0, stored - stream.sent)}; work orders expected {LEAKERS}, "
          f"made {leaked}, duplicated {orders - leaked}; gateways that spooled: "
          f"{spooled(fleet)}; {time.monotonic() - started:.0f} s")
    assert lost == [], fleet.tails()
    assert loss.window <= MOSQUITTO_MEMORY_WINDOW
    assert stored <= stream.sent, "a message was stored under a second key"
    assert (leaked, orders) == (LEAKERS, LEAKERS)
    assert spooled(fleet) == [0, 1], "the store outage never reached the spool"
