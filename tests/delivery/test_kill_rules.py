"""kill -9 of a real `estateops gateway` just after 100 leak sensors started to leak: after
the restart each of them has exactly one work order, and a redelivery is not counted twice.
50 more sensors leak only in that last second and report dry after the restart: a short
leak must leave its work order too (one that keeps leaking would also be caught by the
"still active" notice of the next reading; one that dries up only by the outbox).

Real Mosquitto with persistence (deploy/'s delivery settings), real InfluxDB 1.6, the
gateway as a subprocess with its work-order intake. A raised anomaly is saved in the same
transaction as the rule state that says it was raised (the outbox), and a message is
acknowledged only once that transaction committed: so either both survive the kill (and
the outbox delivers the anomaly at the restart), or neither does and the broker redelivers
the message, whose rule raises it again. The seq de-duplication is saved in that
transaction too: messages the killed gateway had taken in, published again after the
restart, are recognised as redeliveries.
"""

from __future__ import annotations

import asyncio
import json
import time

import aiomqtt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.rules.tables import OutboxAnomaly
from registry.tables import Device
from services.workorders.tables import WorkOrder
from tests.delivery.conftest import SetUp
from tests.delivery.restarts import MosquittoServer
from tests.fixtures.influx import HttpServer
from tests.fixtures.mosquitto import Broker
from tests.utils.gateway import eventually
from tests.utils.gateway_process import LeakStream
from tests.utils.waiting import wait_until

DEVICES = 200
LEAKERS = 100  # leak-0 … leak-99 start to leak in the last second before the kill
DRIPS = 50  # leak-100 … leak-149 too, and report dry again after the restart
RATE = 400.0  # msg/s, each sensor 2 a second: the gateway keeps up even on a busy machine
LEAK_AFTER = 2_000  # messages sent before the first sensor leaks (then: once caught up)
CAUGHT_UP = 200  # stored within this many messages of those sent
LEAK_STEPS = 10  # leakers join in 10 groups over the last second
AFTER_RESTART_S = 2.0  # each leaker keeps reporting leak=true this long after the restart
REPUBLISHED = 2 * DEVICES  # messages the first gateway took in long before the kill


async def _orders_per_device(sessions: async_sessionmaker[AsyncSession],
                             estate_id: str) -> dict[str, tuple[int, int]]:
    """water_leak work orders: device id -> (count, highest recurrence count)."""
    async with sessions() as session:
        rows = await session.execute(
            select(Device.device_id, func.count(WorkOrder.id),
                   func.max(WorkOrder.recurrence_count))
            .join(Device, Device.id == WorkOrder.device_pk)
            .where(WorkOrder.estate_id == estate_id, WorkOrder.rule == "water_leak")
            .group_by(Device.device_id))
        return {row[0]: (row[1], row[2]) for row in rows}


async def _outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count(OutboxAnomaly.id))) or 0


async def _leak_in_steps(stream: LeakStream) -> None:
    """The drips first, so most of them send a leak before the kill."""
    order = [*range(LEAKERS, LEAKERS + DRIPS), *range(LEAKERS)]
    per_step = len(order) // LEAK_STEPS
    for step in range(LEAK_STEPS):
        stream.leaking.update(order[step * per_step:(step + 1) * per_step])
        await asyncio.sleep(1.0 / LEAK_STEPS)


async def _republish(broker: Broker, stream: LeakStream, indices: range) -> None:
    """Messages sent before any leak, published again: what a broker redelivers after a
    crash when the PUBACK was lost."""
    async with aiomqtt.Client(broker.host, broker.port) as client:
        for index in indices:
            device, seq = index % DEVICES, index // DEVICES
            await client.publish(
                f"estates/{stream.estate_id}/leak_sensor/leak-{device}/telemetry",
                json.dumps({"seq": seq, "ts": stream.base_ms + seq, "leak": False}), qos=1)


@pytest.mark.timeout(240)
async def test_kill_9_just_after_leaks_began_leaves_one_work_order_per_leak(
        persistent_mosquitto: MosquittoServer, influxdb_v1: HttpServer, delivery: SetUp,
        sessions: async_sessionmaker[AsyncSession]) -> None:
    setup = await delivery(devices=DEVICES, broker=persistent_mosquitto.broker,
                           influx=influxdb_v1)
    estate_id = setup.estate_id
    stream = setup.stream(RATE)
    started = time.monotonic()
    await setup.gateways.start()
    publishing = setup.publish(stream)
    assert await wait_until(lambda: stream.sent >= LEAK_AFTER, within=30)
    # The leaks must reach the gateway before the kill, not wait in the broker.
    await eventually(setup.stored, lambda count: count >= stream.sent - CAUGHT_UP, within=30)
    await _leak_in_steps(stream)
    leaking_s = time.monotonic() - started
    setup.gateways.kill()
    sent_at_kill = stream.sent
    stream.leaking.difference_update(range(LEAKERS, LEAKERS + DRIPS))
    dripped = stream.leaked & set(range(LEAKERS, LEAKERS + DRIPS))  # sent a leak before the kill
    expected = {f"leak-{n}" for n in (*range(LEAKERS), *dripped)}
    at_kill = (len(await _orders_per_device(sessions, estate_id)), await _outbox_rows(sessions))
    await setup.gateways.start()
    restarted_s = time.monotonic() - started
    await asyncio.sleep(AFTER_RESTART_S)
    stream.stop.set()
    await publishing
    # Taken in (stored, rule state saved) by the first gateway 2 s before the kill.
    await _republish(persistent_mosquitto.broker, stream, range(REPUBLISHED))
    stored = await setup.all_stored(stream)
    stored_s = time.monotonic() - started
    duplicates = await eventually(
        lambda: setup.gateways.metric("estateops_messages_duplicate_total"),
        lambda count: count >= REPUBLISHED, within=30)
    orders = await eventually(lambda: _orders_per_device(sessions, estate_id),
                              lambda found: len(found) >= len(expected), within=60)
    await eventually(lambda: _outbox_rows(sessions), lambda rows: rows == 0, within=30)
    await asyncio.sleep(1.0)  # a late duplicate work order would appear now
    orders = await _orders_per_device(sessions, estate_id)
    made = sum(1 for count, _ in orders.values() if count >= 1)
    duplicated = sum(count - 1 for count, _ in orders.values() if count > 1)
    recurrences = sum(recurred for _, recurred in orders.values())
    print(f"\nat the kill: {at_kill[0]} work orders made, {at_kill[1]} anomalies in the outbox")
    print(f"sent {stream.sent} ({sent_at_kill} at the kill), stored {stored}; work orders "
          f"expected {len(expected)} ({len(dripped)} short leaks), made {made}, duplicated "
          f"{duplicated}, recurrences {recurrences}; republished {REPUBLISHED}, recognised "
          f"as duplicates {duplicates}"
          f"; killed at {leaking_s:.1f} s, restarted at {restarted_s:.1f} s, all stored at "
          f"{stored_s:.1f} s, done at {time.monotonic() - started:.1f} s")
    assert stored == stream.sent, setup.gateways.tails()
    assert (made, duplicated, recurrences) == (len(expected), 0, 0), setup.gateways.tails()
    assert set(orders) == expected  # and none that stayed dry
    assert duplicates >= REPUBLISHED
