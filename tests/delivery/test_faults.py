"""The combined fault test (issue 7): sequenced QoS 1 leak telemetry from a few hundred
sensors, some of them leaking, streams through two partitioned `estateops gateway`
processes into a real InfluxDB 1.6, while the test
  (a) kill -9s a gateway and restarts it at once,
  (b) kill -9s InfluxDB for STORE_OUTAGE_S and restarts it,
  (c) kill -9s Mosquitto (deploy/'s persistence) and restarts it,
  (d) kill -9s the other gateway, leaves it down for PHASE_S, and restarts it.
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
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.tables import Device
from services.workorders.tables import WorkOrder
from tests.delivery.restarts import (
    BrokerKillLoss,
    Gateways,
    ReconnectingLeakStream,
    RestartableServer,
    caught_up,
    missing_messages,
    postgres_database_url,  # noqa: F401 - the database_url fixture: PostgreSQL only
    restartable_influxd,
    restartable_mosquitto,
    saved_sessions,
    stored_by_device,
)
from tests.utils.gateway import eventually
from tests.utils.gateway_process import influx_database, register_leak_sensors

DEVICES = 100
LEAKERS = 10  # leak-0 .. leak-9 report leak=true from LEAK_FROM_SEQ on, and keep on
LEAK_FROM_SEQ = 3
RATE = 300.0  # msg/s; each of the two gateways receives every message
# InfluxDB down for far longer than the gateways' in-memory point queue (QUEUE_POINTS) lasts
# at RATE: the on-disk spool must hold the rest, and survive the kill that follows.
STORE_OUTAGE_S = 10.0
QUEUE_POINTS = 300
GATEWAY_DOWN_S = 1.0
BROKER_DOWN_S = 2.0
PHASE_S = 3.0  # streaming between two faults
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


async def faults_in_turn(fleet: Gateways, influxd: RestartableServer,
                         mosquitto: RestartableServer, stream: LeakingStream,
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
    await asyncio.sleep(STORE_OUTAGE_S)
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
    await asyncio.sleep(PHASE_S)
    await fleet.start(1)
    await asyncio.sleep(PHASE_S)
    await steady()
    return broker_killed_at


@pytest.mark.timeout(300)
async def test_gateways_store_and_broker_killed_in_turn_lose_and_duplicate_nothing(
        database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    estate_id = await register_leak_sensors(sessions, DEVICES)
    started = time.monotonic()
    with restartable_influxd(tmp_path) as (influx, influxd), \
            restartable_mosquitto(tmp_path) as (broker, mosquitto, broker_data):
        database = await influx_database(influx)
        fleet = Gateways.of(2, broker=broker, influx=influx, influx_db=database,
                            database_url=database_url, estate_id=estate_id, tmp_path=tmp_path)
        fleet.env["ESTATEOPS_GATEWAY__QUEUE_SIZE"] = str(QUEUE_POINTS)
        stream = LeakingStream(broker, estate_id, DEVICES, RATE)
        publishing = None
        try:
            await fleet.start_all()
            await saved_sessions(mosquitto, broker_data)
            publishing = asyncio.create_task(stream.run())
            leaking = await eventually(lambda: leak_work_orders(sessions, estate_id),
                                       lambda found: found[1] >= LEAKERS, within=30)
            assert leaking[1] == LEAKERS, f"leak work orders before the faults: {leaking}"
            await asyncio.sleep(PHASE_S)  # rule state saved (every 0.5 s) as active

            broker_killed_at = await faults_in_turn(
                fleet, influxd, mosquitto, stream, lambda: caught_up(influx, database, stream))
            stream.stop.set()
            await asyncio.wait_for(publishing, timeout=30)
            stored = sum((await eventually(
                lambda: stored_by_device(influx, database),
                lambda counts: sum(counts.values()) >= stream.sent, within=60)).values())
            loss = BrokerKillLoss(broker_killed_at,
                                  await missing_messages(influx, database, stream))
            orders, leaked = await leak_work_orders(sessions, estate_id)
            assert fleet.alive(), fleet.tails()
        finally:
            stream.stop.set()
            if publishing is not None:
                publishing.cancel()
            fleet.close()
    lost = [index for index in loss.missing if index not in loss.at_kill]
    spooled = [index for index in range(fleet.count)
               if "spooling to" in fleet.log(index).read_text(errors="replace")]
    print(f"\nsent {stream.sent} (sent again after the broker's restart: {stream.resent}), "
          f"stored {stored}, lost {len(lost)} (+ {len(loss.at_kill)} Mosquitto had "
          f"acknowledged in memory within {loss.window} messages before its kill -9), "
          f"duplicated {max(0, stored - stream.sent)}; work orders expected {LEAKERS}, "
          f"made {leaked}, duplicated {orders - leaked}; InfluxDB down {STORE_OUTAGE_S} s, "
          f"gateways that spooled: {spooled}; "
          f"{time.monotonic() - started:.0f} s")
    assert lost == [], fleet.tails()
    assert loss.window <= MOSQUITTO_MEMORY_WINDOW
    assert stored <= stream.sent, "a message was stored under a second key"
    assert (leaked, orders) == (LEAKERS, LEAKERS)
    assert spooled == [0, 1], "the store outage never reached the spool: lengthen it"
