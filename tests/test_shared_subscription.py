"""Two gateways split the devices (partitions 0/2 and 1/2), one database: each flapping,
redelivering leak sensor is seen whole by one gateway, and makes exactly one work order whose
recurrences and clears are exactly its flaps.

Both gateways subscribe plainly and receive every message; each takes in only its own
devices' messages and acknowledges the rest unread. Before, the gateways were members of one
`$share` group: Mosquitto handed each message to either member, so a device's stream was
split between two rule states (a dry report taken by the other gateway cleared nothing).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import aiomqtt
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from core.clock import SystemClock
from core.telemetry import Point
from core.vocabulary import Priority
from device_profiles import load_profiles
from estateops.settings import Settings
from gateway.partition import Partition
from registry.importer import import_estates
from registry.schema import EstateFile
from registry.tables import Device
from services.workorders.model import Status
from services.workorders.notifier import Notifier
from services.workorders.schemas import EventKind
from services.workorders.service import get
from services.workorders.sink import intake_sink
from services.workorders.tables import WorkOrder
from tests.fixtures.mosquitto import Broker
from tests.utils.estates import topic, unique_estate_id
from tests.utils.gateway import eventually, gateway_settings, running_gateway

NS_PER_MS = 1_000_000
FLAPS = 8  # per sensor: leak true, then false, 8 times
REDELIVERED = (1, 6, 11)  # seqs each sensor publishes twice, byte for byte
RULE = "water_leak"
PARTITIONS = [Partition(0, 2), Partition(1, 2)]
SENSORS_PER_PARTITION = 2


class RecordingStore(EmbeddedStore):
    """A real embedded store that also remembers, in order, the points it was given."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.points: list[Point] = []

    async def write(self, points: Sequence[Point]) -> None:
        await super().write(points)
        self.points.extend(points)

    def devices(self) -> set[str]:
        return {point.tags["device"] for point in self.points}


def partitioned(settings: Settings, partition: Partition) -> Settings:
    return settings.model_copy(update={
        "gateway": settings.gateway.model_copy(update={"partition": str(partition)})})


async def register_split_sensors(sessions: async_sessionmaker[AsyncSession]) -> tuple[
        str, list[list[str]]]:
    """An estate with SENSORS_PER_PARTITION leak sensors owned by each partition; their ids
    by partition."""
    estate_id = unique_estate_id()
    owned: list[list[str]] = [[] for _ in PARTITIONS]
    candidate = 0
    while min(map(len, owned)) < SENSORS_PER_PARTITION:
        device_id = f"leak-{candidate}"
        mine = owned[next(n for n, one in enumerate(PARTITIONS) if one.owns(estate_id, device_id))]
        if len(mine) < SENSORS_PER_PARTITION:
            mine.append(device_id)
        candidate += 1
    await import_estates(sessions, EstateFile.model_validate({"estates": [{
        "id": estate_id, "name": "龙涤小区",
        "devices": [{"id": device_id, "type": "leak_sensor"}
                    for ids in owned for device_id in ids]}]}), load_profiles())
    return estate_id, owned


def flapping_payloads(start_ms: int) -> list[str]:
    """One sensor's, in publishing order: wet on odd seqs, dry on even ones, some twice."""
    published = []
    for seq in range(1, 2 * FLAPS + 1):
        payload = json.dumps({"ts": start_ms + seq * 1000, "seq": seq, "leak": seq % 2 == 1})
        published += [payload] * (2 if seq in REDELIVERED else 1)
    return published


def wet_ms(start_ms: int) -> list[int]:
    return [start_ms + seq * 1000 for seq in range(1, 2 * FLAPS + 1, 2)]


def counted(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def handled_counts() -> tuple[float, float]:
    """Messages taken in by any gateway of this process, and those left to another."""
    return (counted("estateops_messages_received_total", {"channel": "telemetry"}),
            counted("estateops_messages_not_owned_total"))


def detected_ms(data: dict[str, object] | None) -> int:
    assert data is not None
    return round(datetime.fromisoformat(str(data["detected_at"])).timestamp() * 1000)


async def leak_work_orders(sessions: async_sessionmaker[AsyncSession], estate_id: str,
                           device_id: str) -> list[WorkOrder]:
    async with sessions() as session:
        ids = (await session.scalars(select(WorkOrder.id).join(
            Device, Device.id == WorkOrder.device_pk).where(
            Device.estate_id == estate_id, Device.device_id == device_id,
            WorkOrder.rule == RULE))).all()
        return [await get(session, work_order_id) for work_order_id in ids]


async def publish_through_partitioned_gateways(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path, estate_id: str, published: list[tuple[str, str]]) -> list[RecordingStore]:
    """Run one gateway per partition, each with its own work-order intake; publish the
    (device, payload) pairs in order, wait until every one was taken in by one gateway and
    left by the other, stop both; return what each one stored."""
    base = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                            data_dir=tmp_path, estate_id=estate_id)
    stores = [RecordingStore(tmp_path / f"telemetry-{one.index}.sqlite3") for one in PARTITIONS]
    before = handled_counts()
    expected = (before[0] + len(published), before[1] + len(published))
    async with contextlib.AsyncExitStack() as running:
        for partition, store in zip(PARTITIONS, stores, strict=True):
            sink = intake_sink(sessions, Notifier(sessions, mqtt=None), SystemClock())
            gateway = await running.enter_async_context(running_gateway(
                partitioned(base, partition), store=store, sessions=sessions, anomalies=sink))
            assert gateway.mqtt.client_id == f"{base.mqtt.client_id}-{partition.index}"
            assert gateway.mqtt.subscription == f"estates/{estate_id}/+/+/+"
        device = await running.enter_async_context(
            aiomqtt.Client(mosquitto.host, mosquitto.port))
        for device_id, payload in published:
            await device.publish(topic(estate_id, "leak_sensor", device_id=device_id),
                                 payload, qos=1)
        done = await eventually(handled, lambda counts: all(
            now >= then for now, then in zip(counts, expected, strict=True)), within=30)
        assert done == expected, f"taken in, left to the other: {done}, expected {expected}"
    # Stopping the gateways delivered every anomaly they had raised.
    for store in stores:
        await store.aclose()
    return stores


async def handled() -> tuple[float, float]:
    return handled_counts()


def interleaved(device_ids: list[str], payloads: list[str]) -> list[tuple[str, str]]:
    return [(device_id, payload) for payload in payloads for device_id in device_ids]


async def test_each_sensor_is_seen_whole_by_one_of_two_gateways_and_makes_one_work_order(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    estate_id, owned = await register_split_sensors(sessions)
    start_ms = time.time_ns() // NS_PER_MS - 3_600_000
    sensors = [device_id for ids in owned for device_id in ids]
    stores = await publish_through_partitioned_gateways(
        mosquitto, database_url, sessions, tmp_path, estate_id,
        interleaved(sensors, flapping_payloads(start_ms)))

    assert [store.devices() for store in stores] == [set(ids) for ids in owned]
    for store in stores:
        times = [(point.tags["device"], point.time_ns) for point in store.points]
        assert len(times) == len(set(times)), "a redelivery was stored twice"
        assert len(times) == len(store.devices()) * 2 * FLAPS, "a reading went missing"
    for device_id in sensors:
        orders = await leak_work_orders(sessions, estate_id, device_id)
        assert len(orders) == 1, f"{len(orders)} work orders for leaking {device_id}"
        check_the_timeline_is_every_flap(orders[0], wet_ms(start_ms))


def check_the_timeline_is_every_flap(order: WorkOrder, wet: list[int]) -> None:
    assert (order.status, order.priority) == (Status.OPEN, Priority.P1)
    events = sorted((event for event in order.events if event.kind is not EventKind.ALERTED),
                    key=lambda event: event.id)  # alerts land when their send finishes
    kinds = [event.kind for event in events]
    assert kinds == [EventKind.RAISED, EventKind.CLEARED] + [
        EventKind.RECURRED, EventKind.CLEARED] * (FLAPS - 1)
    assert order.recurrence_count == FLAPS - 1
    assert [(event.data or {}).get("recurrence_count") for event in events
            if event.kind is EventKind.RECURRED] == list(range(1, FLAPS))
    assert [detected_ms(event.data) for event in events
            if event.kind in (EventKind.RAISED, EventKind.RECURRED)] == wet


async def test_a_dry_report_clears_the_leak_on_either_gateway(
        mosquitto: Broker, database_url: str, sessions: async_sessionmaker[AsyncSession],
        tmp_path: Path) -> None:
    estate_id, owned = await register_split_sensors(sessions)
    start_ms = time.time_ns() // NS_PER_MS - 60_000
    wet, dry = (json.dumps({"ts": start_ms + seq * 1000, "seq": seq, "leak": seq == 1})
                for seq in (1, 2))
    one_each = [ids[0] for ids in owned]
    stores = await publish_through_partitioned_gateways(
        mosquitto, database_url, sessions, tmp_path, estate_id,
        interleaved(one_each, [wet, dry]))

    assert [len(store.points) for store in stores] == [2, 2]
    for device_id in one_each:
        orders = await leak_work_orders(sessions, estate_id, device_id)
        assert len(orders) == 1
        assert [event.kind for event in orders[0].events
                if event.kind is not EventKind.ALERTED] == [EventKind.RAISED, EventKind.CLEARED]
