"""Rules on the right clock, end to end on real Mosquitto and SQL: a device's slow clock and
old readings raise nothing, a registered device that never reports is missed, a fault still
there after its work order was closed opens a linked one, and redeliveries without seq do
not count twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from core.clock import ManualClock, SystemClock
from core.vocabulary import Action
from device_profiles import load_profiles
from gateway.rules import RuleStage
from gateway.runner import Gateway
from registry.importer import import_estates
from registry.schema import EstateFile
from registry.tables import Device
from services.workorders.errors import ConditionActive
from services.workorders.model import Status
from services.workorders.notifier import Notifier
from services.workorders.schemas import WorkOrderPublic
from services.workorders.service import get, transition
from services.workorders.sink import intake_sink
from services.workorders.tables import WorkOrder
from tests.fixtures.mosquitto import Broker
from tests.gateway.rules.support import CollectingSink
from tests.services.workorders.factories import DISPATCHER
from tests.utils.estates import register_small_estate, topic, unique_estate_id
from tests.utils.gateway import eventually, gateway_settings, running_gateway
from tests.utils.waiting import metric_value, wait_until

SLOW_MS = 600_000  # the gate's clock runs 10 minutes behind
OLD_MS = 1_200_000  # a reading 20 minutes old
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EmbeddedStore]:
    embedded = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    yield embedded
    await embedded.aclose()


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def rules_of(gateway: Gateway) -> RuleStage:
    assert gateway.ingestor.rules is not None
    return gateway.ingestor.rules


async def device_pk(sessions: Sessions, estate_id: str, device_id: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Device.id).where(
            Device.estate_id == estate_id, Device.device_id == device_id))
    assert found is not None
    return found


async def orders_of(sessions: Sessions, pk: int, rule: str) -> list[WorkOrder]:
    async with sessions() as session:
        ids = (await session.scalars(select(WorkOrder.id).where(
            WorkOrder.device_pk == pk, WorkOrder.rule == rule).order_by(WorkOrder.id))).all()
        return [await get(session, work_order_id) for work_order_id in ids]


async def publish(device: aiomqtt.Client, estate_id: str, device_type: str,
                  payload: dict[str, object], *, device_id: str | None = None) -> None:
    await device.publish(topic(estate_id, device_type, device_id=device_id),
                         json.dumps(payload), qos=1)


class HandClock(ManualClock):
    """Ticks the rules by hand; started level with the wall clock, which stamps receipt."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))

    def level_with_wall_clock(self) -> None:
        self.set(datetime.now(UTC))


async def test_a_slow_clock_and_old_readings_raise_nothing_and_a_real_open_fires_on_time(
        mosquitto: Broker, database_url: str, sessions: Sessions, store: EmbeddedStore,
        tmp_path: Path) -> None:
    estate_id = await register_small_estate(sessions)
    gate_pk = await device_pk(sessions, estate_id, "gate-1")
    light_pk = await device_pk(sessions, estate_id, "light-1")
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    clock = HandClock()
    sink = intake_sink(sessions, Notifier(sessions, mqtt=None), clock)
    async with (running_gateway(settings, store=store, sessions=sessions, anomalies=sink,
                                clock=clock) as gateway,
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        stage = rules_of(gateway)

        def running(pk: int, rule: str) -> bool:
            state = stage.engine.state(pk, rule)
            return state is not None and state.since_ns is not None

        clock.level_with_wall_clock()
        await publish(device, estate_id, "voice_light", {"ts": wall_ms(), "state": "off"})
        await publish(device, estate_id, "voice_light",
                      {"ts": wall_ms() - OLD_MS, "state": "on", "current_ma": 41.5})
        closed = {"position": "closed", "loop_occupied": False}
        opened = {"position": "open", "loop_occupied": False}
        await publish(device, estate_id, "barrier_gate", {"ts": wall_ms() - SLOW_MS, **closed})
        await publish(device, estate_id, "barrier_gate", {"ts": wall_ms() - SLOW_MS, **opened})
        assert await wait_until(lambda: running(gate_pk, "stuck_open"))
        await stage.tick()  # by its own clock the gate has been open ten minutes
        await publish(device, estate_id, "barrier_gate", {"ts": wall_ms() - SLOW_MS, **closed})
        assert await wait_until(lambda: stage.engine.state(gate_pk, "stuck_open") is None)
        clock.advance(1000)  # past the light's 900 s by its old reading
        await stage.tick()
        assert not running(light_pk, "stuck_on")

        clock.level_with_wall_clock()  # a real 120 s open, the loop free
        await publish(device, estate_id, "barrier_gate", {"ts": wall_ms() - SLOW_MS, **opened})
        assert await wait_until(lambda: running(gate_pk, "stuck_open"))
        clock.advance(115)
        await stage.tick()
        await stage.settle()
        assert await orders_of(sessions, gate_pk, "stuck_open") == []
        clock.advance(10)
        await stage.tick()
        fired_at = clock.now()
        raised = await eventually(lambda: orders_of(sessions, gate_pk, "stuck_open"), bool)

    assert [order.created_at for order in raised] == [fired_at]
    assert await orders_of(sessions, light_pk, "stuck_on") == []


def estate_with_leak_sensors(estate_id: str) -> EstateFile:
    """Three leak sensors reporting every second: one quiet, one chatty, one being installed."""
    sensor = {"type": "leak_sensor", "reporting_interval_s": 1.0}
    return EstateFile.model_validate({"estates": [{
        "id": estate_id, "name": "龙涤小区",
        "devices": [{"id": "quiet", **sensor}, {"id": "chatty", **sensor},
                    {"id": "new", "commissioning": True, **sensor}],
    }]})


async def test_a_registered_device_that_never_reports_is_missed_after_three_intervals(
        mosquitto: Broker, database_url: str, sessions: Sessions, store: EmbeddedStore,
        tmp_path: Path) -> None:
    estate_id = unique_estate_id()
    await import_estates(sessions, estate_with_leak_sensors(estate_id), load_profiles())
    pks = {name: await device_pk(sessions, estate_id, name) for name in ("quiet", "chatty", "new")}
    async with sessions() as session:
        registered = await session.scalar(select(Device.watched_since).where(
            Device.id == pks["quiet"]))
    assert registered is not None
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    sink = intake_sink(sessions, Notifier(sessions, mqtt=None), SystemClock())
    async with aiomqtt.Client(mosquitto.host, mosquitto.port) as device:
        for run_s in (1.0, 5.0):  # a restart in the middle of the quiet one's window
            async with running_gateway(settings, store=store, sessions=sessions, anomalies=sink):
                until = time.monotonic() + run_s
                while time.monotonic() < until:
                    await publish(device, estate_id, "leak_sensor", {"leak": False},
                                  device_id="chatty")
                    await asyncio.sleep(0.4)  # its pace: well inside its 3 s window
    quiet = await orders_of(sessions, pks["quiet"], "offline")
    assert len(quiet) == 1
    missed_after = (quiet[0].created_at - registered).total_seconds()
    assert 3.0 <= missed_after <= 4.5, missed_after
    assert await orders_of(sessions, pks["chatty"], "offline") == []
    assert await orders_of(sessions, pks["new"], "offline") == []


async def _close(sessions: Sessions, work_order_id: int, *, confirm: bool = False) -> None:
    now = datetime.now(UTC)
    async with sessions.begin() as session:
        await transition(session, work_order_id, Action.CLOSE, actor=DISPATCHER,
                         now=now, confirm=confirm)


async def _resolve(sessions: Sessions, work_order_id: int) -> None:
    for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
        async with sessions.begin() as session:
            await transition(session, work_order_id, action, actor=DISPATCHER,
                             now=datetime.now(UTC))


async def test_closing_a_leak_still_reported_warns_and_the_next_reading_opens_a_linked_order(
        mosquitto: Broker, database_url: str, sessions: Sessions, store: EmbeddedStore,
        tmp_path: Path) -> None:
    estate_id = await register_small_estate(sessions)
    leak_pk = await device_pk(sessions, estate_id, "leak-1")
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    sink = intake_sink(sessions, Notifier(sessions, mqtt=None), SystemClock())

    async def leaks() -> list[WorkOrder]:
        return await orders_of(sessions, leak_pk, "water_leak")

    async with (running_gateway(settings, store=store, sessions=sessions, anomalies=sink),
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        await publish(device, estate_id, "leak_sensor", {"seq": 1, "leak": True})
        first = (await eventually(leaks, bool))[0]
        assert first.condition.active
        await _resolve(sessions, first.id)
        with pytest.raises(ConditionActive):
            await _close(sessions, first.id)
        await _close(sessions, first.id, confirm=True)
        await publish(device, estate_id, "leak_sensor", {"seq": 2, "leak": True})
        both = await eventually(leaks, lambda found: len(found) == 2)
        await publish(device, estate_id, "leak_sensor", {"seq": 3, "leak": True})
        await publish(device, estate_id, "leak_sensor", {"seq": 4, "leak": False})
        dry = await eventually(leaks, lambda found: not any(one.condition.active
                                                             for one in found))

    assert len(both) == 2
    closed, follower = both
    assert (closed.status, follower.status) == (Status.CLOSED, Status.OPEN)
    assert follower.previous_id == closed.id
    assert follower.condition.active
    assert follower.condition.since == closed.condition.since
    assert closed.events[-1].data == {"from": "resolved", "to": "closed",
                                      "condition_active": True}
    assert len(dry) == 2  # the third wet report changed nothing: the follower was open
    public = WorkOrderPublic.model_validate(dry[1]).model_dump(mode="json")
    assert set(public["condition"]) == {"active", "since", "cleared_at"}
    assert public["condition"]["active"] is False
    assert public["condition"]["cleared_at"] is not None
    assert public["previous_id"] == closed.id
    assert dry[0].condition.cleared_at == dry[1].condition.cleared_at


async def test_redelivered_messages_without_seq_do_not_complete_three_in_a_row(
        mosquitto: Broker, database_url: str, sessions: Sessions, store: EmbeddedStore,
        tmp_path: Path) -> None:
    estate_id = await register_small_estate(sessions)
    light_pk = await device_pk(sessions, estate_id, "light-1")
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    sink = CollectingSink()
    dead_lamp = {"state": "on", "current_ma": 1.5}
    duplicates = metric_value("estateops_messages_duplicate_total")
    async with (running_gateway(settings, store=store, sessions=sessions, anomalies=sink) as gw,
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        engine = rules_of(gw).engine

        def streak() -> int:
            state = engine.state(light_pk, "lamp_failure")
            return 0 if state is None else state.streak

        first = {"ts": wall_ms(), **dead_lamp}
        for payload in (first, first, {"ts": wall_ms() + 1, **dead_lamp}):
            await publish(device, estate_id, "voice_light", payload)
        redelivery_dropped = await wait_until(
            lambda: bool(sink.of("lamp_failure")) or (
                streak() == 2
                and metric_value("estateops_messages_duplicate_total") == duplicates + 1))
        assert redelivery_dropped
        assert sink.of("lamp_failure") == []
        await publish(device, estate_id, "voice_light", {"ts": wall_ms() + 2, **dead_lamp})
        assert await wait_until(lambda: bool(sink.of("lamp_failure")))

