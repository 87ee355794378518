"""Each default rule of the contract fires once and clears, through MQTT end to end.

A real gateway on real Mosquitto hands its anomalies to the real work-order intake. One
hand-moved clock drives both the rules' deadlines and the work orders' time, so "15 min"
and "3 × the reporting interval" take no real time.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.store.embedded import EmbeddedStore
from core.clock import ManualClock
from core.vocabulary import Priority
from device_profiles import load_profiles
from gateway.rules import RuleStage
from gateway.runner import Gateway
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
from tests.utils.estates import small_estate, unique_estate_id
from tests.utils.gateway import eventually, gateway_settings, running_gateway

ACK_S = 5 * 60  # 5341: acknowledge within 5 minutes
SIMPLE_S = 30 * 60  # a simple job (and any P1) resolved within 30 minutes
COMPLEX_S = 4 * 3600  # a complex job within 4 hours
MARGIN_S = 5.0  # around a time-based rule's due time: not yet before, fired after


class HandClock(ManualClock):
    """The one ManualClock, on whole milliseconds (the wire's ts resolution), started level
    with the wall clock because silence is measured from the wall-clock receipt time."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))

    def restart_from_wall_clock(self) -> None:
        now = datetime.now(UTC)
        self.set(now.replace(microsecond=now.microsecond // 1000 * 1000))

    def now_ns(self) -> int:
        return round(self.now().timestamp() * 1000) * 1_000_000

    def ts_ms(self) -> int:
        return self.now_ns() // 1_000_000


@dataclass(frozen=True)
class Send:
    """Publish one message, one second after the previous one (on the hand clock)."""

    channel: str
    payload: dict[str, object] | str


@dataclass(frozen=True)
class Advance:
    seconds: float


Step = Send | Advance


@dataclass(frozen=True)
class Case:
    device_type: str
    device_id: str
    rule: str
    priority: Priority
    resolve_s: int
    trigger: tuple[Step, ...]
    clear: tuple[Step, ...]
    held_s: float = 0.0  # a time-based rule: fires this long after the trigger, not before
    fired_by: dict[str, object] | None = None  # values of the reading the anomaly attaches


def telemetry(**values: object) -> Send:
    return Send("telemetry", values)


CASES = [
    Case("leak_sensor", "leak-1", "water_leak", Priority.P1, SIMPLE_S,
         (telemetry(leak=False), telemetry(leak=True)), (telemetry(leak=False),),
         fired_by={"leak": True}),
    Case("leak_sensor", "leak-1", "low_battery", Priority.P4, SIMPLE_S,
         (telemetry(leak=False, battery=15), telemetry(leak=False, battery=14)),
         (telemetry(leak=False, battery=96),), fired_by={"battery": 14}),
    Case("voice_light", "light-1", "lamp_failure", Priority.P3, SIMPLE_S,
         (*[telemetry(state="on", current_ma=1.5)] * 3,),
         (telemetry(state="on", current_ma=41.5),)),
    Case("voice_light", "light-1", "stuck_on", Priority.P3, SIMPLE_S,
         (telemetry(state="on", current_ma=41.5),), (telemetry(state="off", current_ma=0.0),),
         held_s=900),
    Case("ev_charger", "ebike-1", "fault", Priority.P2, COMPLEX_S,
         (telemetry(status="charging", fault_code=None), telemetry(status="faulted")),
         (telemetry(status="available", fault_code=None),), fired_by={"status": "faulted"}),
    Case("ev_charger", "car-1", "overheating", Priority.P1, SIMPLE_S,
         (telemetry(temperature_c=65.0), telemetry(temperature_c=70.0)),
         (telemetry(temperature_c=48.5),), fired_by={"temperature_c": 70.0}),
    Case("ev_charger", "ebike-1", "overheating", Priority.P1, SIMPLE_S,
         (telemetry(temperature_c=59.5), telemetry(temperature_c=60.0)),
         (telemetry(temperature_c=48.5),), fired_by={"temperature_c": 60.0}),
    Case("barrier_gate", "gate-1", "stuck_open", Priority.P2, SIMPLE_S,
         (telemetry(position="open", loop_occupied=True),
          telemetry(position="open", loop_occupied=False)),
         (telemetry(position="closed", loop_occupied=False),), held_s=120),
    Case("barrier_gate", "gate-1", "fault", Priority.P2, COMPLEX_S,
         (telemetry(position="closed", fault_code="E07"),),
         (telemetry(position="closed", fault_code=None),), fired_by={"fault_code": "E07"}),
    Case("barrier_gate", "gate-1", "repeated_obstruction", Priority.P3, SIMPLE_S,
         (Send("event", {"event": "obstruction"}), Advance(290),
          Send("event", {"event": "obstruction"}), Advance(290),
          Send("event", {"event": "obstruction"})),
         (Advance(601),)),
    Case("leak_sensor", "leak-1", "offline", Priority.P3, SIMPLE_S,
         (Send("status", "offline"),), (Send("status", "online"),)),
    Case("barrier_gate", "gate-1", "offline", Priority.P3, SIMPLE_S,
         (telemetry(position="closed"),), (telemetry(position="closed"),), held_s=3 * 30),
]


def case_id(case: Case) -> str:
    silent = case.rule == "offline" and case.held_s
    return f"{case.device_id}-{case.rule}" + ("-silence" if silent else "")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EmbeddedStore]:
    embedded = EmbeddedStore(tmp_path / "telemetry.sqlite3")
    yield embedded
    await embedded.aclose()


async def register_estate_with_car_charger(sessions: async_sessionmaker[AsyncSession]) -> str:
    estate_id = unique_estate_id()
    estate = small_estate(estate_id).estates[0].model_dump()
    estate["devices"].append({"id": "car-1", "type": "ev_charger", "kind": "car",
                              "building": "b41"})
    await import_estates(sessions, EstateFile.model_validate({"estates": [estate]}),
                         load_profiles())
    return estate_id


async def device_pk(sessions: async_sessionmaker[AsyncSession], estate_id: str,
                    device_id: str) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Device.id).where(
            Device.estate_id == estate_id, Device.device_id == device_id))
    assert found is not None
    return found


async def work_orders_of(sessions: async_sessionmaker[AsyncSession], pk: int,
                         rule: str) -> list[WorkOrder]:
    """Every work order of the device and rule, each with its timeline."""
    async with sessions() as session:
        ids = (await session.scalars(select(WorkOrder.id).where(
            WorkOrder.device_pk == pk, WorkOrder.rule == rule))).all()
        return [await get(session, work_order_id) for work_order_id in ids]


def timeline(work_order: WorkOrder) -> list[EventKind]:
    """What the rules did to the work order; the notifier's `alerted` lines land whenever
    its send finishes, so they are left out here (tests/services/workorders/test_alerts.py)."""
    return [event.kind for event in work_order.events if event.kind is not EventKind.ALERTED]


class Driver:
    """Plays a case's steps: publishes with the hand clock's time, moves the clock, ticks."""

    def __init__(self, device: aiomqtt.Client, stage: RuleStage, clock: HandClock,
                 estate_id: str, case: Case) -> None:
        self._device, self._stage, self._clock = device, stage, clock
        self._prefix = f"estates/{estate_id}/{case.device_type}/{case.device_id}"

    async def play(self, steps: tuple[Step, ...]) -> None:
        for step in steps:
            if isinstance(step, Advance):
                await self.advance(step.seconds)
            else:
                await self.send(step)

    async def send(self, step: Send) -> None:
        self._clock.advance(1)
        if isinstance(step.payload, str):
            payload = step.payload
        else:
            payload = json.dumps({"ts": self._clock.ts_ms(), **step.payload})
        await self._device.publish(f"{self._prefix}/{step.channel}", payload, qos=1)

    async def advance(self, seconds: float) -> None:
        self._clock.advance(seconds)
        await self._stage.tick()  # the gateway's own ticker would do it within a second


def rules_of(gateway: Gateway) -> RuleStage:
    assert gateway.ingestor.rules is not None
    return gateway.ingestor.rules


async def hold_until_due(driver: Driver, stage: RuleStage, pk: int, case: Case) -> None:
    """A time-based rule: nothing before its time, with no message, then it fires on time."""
    started = await eventually(lambda: _state(stage, pk, case.rule), lambda found: found)
    assert started, f"the gateway never started timing {case.rule}"
    await driver.advance(case.held_s - MARGIN_S)
    state = stage.engine.state(pk, case.rule)
    assert state is not None, f"the gateway forgot timing {case.rule}"
    assert not state.active, f"{case.rule} fired before its time"
    await driver.advance(2 * MARGIN_S)


async def _state(stage: RuleStage, pk: int, rule: str) -> bool:
    return stage.engine.state(pk, rule) is not None


@pytest.mark.parametrize("case", CASES, ids=case_id)
async def test_a_default_rule_fires_once_and_clears(
        case: Case, mosquitto: Broker, database_url: str,
        sessions: async_sessionmaker[AsyncSession], store: EmbeddedStore,
        tmp_path: Path) -> None:
    estate_id = await register_estate_with_car_charger(sessions)
    pk = await device_pk(sessions, estate_id, case.device_id)
    settings = gateway_settings(broker_url=mosquitto.url, database_url=database_url,
                                data_dir=tmp_path, estate_id=estate_id)
    clock = HandClock()
    sink = intake_sink(sessions, Notifier(sessions, mqtt=None), clock)

    async def orders() -> list[WorkOrder]:
        return await work_orders_of(sessions, pk, case.rule)

    async with (running_gateway(settings, store=store, sessions=sessions, anomalies=sink,
                                clock=clock) as gateway,
                aiomqtt.Client(mosquitto.host, mosquitto.port) as device):
        stage = rules_of(gateway)
        driver = Driver(device, stage, clock, estate_id, case)
        clock.restart_from_wall_clock()
        await driver.play(case.trigger)
        if case.held_s:
            await hold_until_due(driver, stage, pk, case)
        fired_at = clock.now()
        raised = await eventually(orders, lambda found: len(found) >= 1)
        await driver.play(case.clear)
        await eventually(
            orders, lambda found: any(EventKind.CLEARED in timeline(one) for one in found))
    final = await orders()  # the gateway has stopped and handed over all it had

    assert len(raised) == 1, f"{case.rule}: {len(raised)} work orders when it fired"
    assert len(final) == 1, f"{case.rule}: {len(final)} work orders after it cleared"
    work_order = final[0]
    assert timeline(work_order) == [EventKind.RAISED, EventKind.CLEARED]
    assert (work_order.status, work_order.recurrence_count) == (Status.OPEN, 0)
    assert (work_order.estate_id, work_order.priority) == (estate_id, case.priority)
    assert work_order.created_at == fired_at
    assert work_order.ack_due_at == fired_at + timedelta(seconds=ACK_S)
    assert work_order.resolve_due_at == fired_at + timedelta(seconds=case.resolve_s)
    assert work_order.plan_due_at is None
    if case.fired_by is not None:
        readings = (work_order.events[0].data or {})["readings"]
        assert len(readings) == 1, readings
        assert {name: readings[0]["values"].get(name) for name in case.fired_by} == case.fired_by
