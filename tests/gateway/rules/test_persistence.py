"""Rule state survives a restart, and per-estate overrides change rules: on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from core.telemetry import FieldValue
from core.vocabulary import AnomalyKind, Priority
from device_profiles import load_profiles
from gateway.rules import RuleStage
from gateway.rules.tables import RuleOverride, StoredRuleState
from registry.queries import DeviceRef, find_device
from registry.tables import Device
from tests.gateway.rules.support import (
    CollectingSink,
    at,
    kinds,
    manual_clock,
    reading_times,
    set_clock,
    status,
    telemetry,
)
from tests.utils.estates import DEVICES, register_small_estate

GATE_OPEN: dict[str, FieldValue | None] = {"position": "open", "loop_occupied": False}


async def _device(sessions: async_sessionmaker[AsyncSession], estate_id: str,
                  device_type: str) -> DeviceRef:
    async with sessions() as session:
        found = await find_device(session, estate_id, DEVICES[device_type])
    assert found is not None
    return found


async def _stage(sessions: async_sessionmaker[AsyncSession], clock: ManualClock,
                 sink: CollectingSink) -> RuleStage:
    stage = RuleStage.build(load_profiles(), sessions, sink=sink, clock=clock)
    await stage.start()
    return stage


async def _tick(stage: RuleStage, clock: ManualClock, seconds: float) -> None:
    set_clock(clock, seconds)
    await stage.tick()
    await stage.settle()


async def _saved(sessions: async_sessionmaker[AsyncSession],
                 device_pk: int) -> dict[str, dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(StoredRuleState).where(StoredRuleState.device_pk == device_pk))
        return {row.rule: row.state for row in rows}


async def test_a_for_run_interrupted_by_a_restart_fires_on_time(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_small_estate(sessions)
    gate = await _device(sessions, estate_id, "barrier_gate")
    clock, sink = manual_clock(), CollectingSink()
    before = await _stage(sessions, clock, sink)
    await before.on_reading(gate, telemetry(gate, 0, **GATE_OPEN))
    await _tick(before, clock, 100)
    await before.flush()
    assert sink.of("stuck_open") == []  # (the gate's offline rule fired at 90 s: 3 × 30 s)

    after = await _stage(sessions, clock, sink)  # a new gateway process, same database
    await _tick(after, clock, 119.9)
    assert sink.of("stuck_open") == []
    await _tick(after, clock, 120)
    assert kinds(sink.received, "stuck_open") == [("stuck_open", "raised")]
    fired = sink.of("stuck_open")[0]
    assert fired.at.timestamp() == at(120) / 1e9
    assert reading_times(fired) == [at(0)]
    await after.flush()
    assert (await _saved(sessions, gate.pk))["stuck_open"]["active"] is True

    again = await _stage(sessions, clock, sink)  # an open episode survives a restart too
    await again.on_reading(gate, telemetry(gate, 130, **GATE_OPEN))
    await _tick(again, clock, 500)
    await again.on_reading(gate, telemetry(gate, 501, position="closed", loop_occupied=False))
    await again.settle()
    assert kinds(sink.received, "stuck_open") == [("stuck_open", "raised"),
                                                  ("stuck_open", "cleared")]
    await again.flush()
    assert "stuck_open" not in await _saved(sessions, gate.pk)  # idle again: row removed


async def test_silence_and_offline_survive_a_restart(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_small_estate(sessions)
    light = await _device(sessions, estate_id, "voice_light")
    leak = await _device(sessions, estate_id, "leak_sensor")
    clock, sink = manual_clock(), CollectingSink()
    before = await _stage(sessions, clock, sink)
    await before.on_reading(light, telemetry(light, 0, state="off"))
    await before.on_status(leak, status(leak, 0, online=False))
    await before.settle()
    await before.flush()

    after = await _stage(sessions, clock, sink)
    await _tick(after, clock, 179)
    await after.on_status(leak, status(leak, 179, online=False))  # retained, seen again
    await _tick(after, clock, 180)  # 3 × the light's 60 s interval since it was heard
    assert [(one.device_id, one.kind) for one in sink.received] == [
        ("leak-1", AnomalyKind.RAISED), ("light-1", AnomalyKind.RAISED)]


async def test_a_device_removed_before_the_flush_loses_its_state_and_no_one_elses(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_small_estate(sessions)
    gate = await _device(sessions, estate_id, "barrier_gate")
    light = await _device(sessions, estate_id, "voice_light")
    stage = await _stage(sessions, manual_clock(), CollectingSink())
    await stage.on_reading(gate, telemetry(gate, 0, **GATE_OPEN))
    await stage.on_reading(light, telemetry(light, 0, state="off"))
    async with sessions.begin() as session:
        await session.execute(delete(Device).where(Device.id == gate.pk))

    await stage.flush()  # would raise on the foreign key had it saved the gate's state

    assert await _saved(sessions, gate.pk) == {}
    assert await _saved(sessions, light.pk) != {}  # its states were saved all the same


async def test_estate_overrides_change_rules_and_are_refreshed(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    estate_id = await register_small_estate(sessions)
    other_estate = await register_small_estate(sessions)
    leak = await _device(sessions, estate_id, "leak_sensor")
    other_leak = await _device(sessions, other_estate, "leak_sensor")
    charger = await _device(sessions, estate_id, "ev_charger")  # kind ebike: 60 °C by default
    async with sessions.begin() as session:
        session.add_all([
            RuleOverride(estate_id=estate_id, device_type="leak_sensor", rule="low_battery",
                         params={"value": 30, "priority": "P3"}),
            RuleOverride(estate_id=estate_id, device_type="leak_sensor", rule="water_leak",
                         enabled=False, params={}),
            RuleOverride(estate_id=estate_id, device_type="ev_charger", rule="overheating",
                         params={"value": 50}),
        ])
    clock, sink = manual_clock(), CollectingSink()
    stage = await _stage(sessions, clock, sink)
    for device in (leak, other_leak):
        await stage.on_reading(device, telemetry(device, 0, leak=True, battery=25))
    await stage.on_reading(charger, telemetry(charger, 0, temperature_c=55.0))
    await stage.settle()
    assert sorted((one.device_pk, one.rule, one.priority) for one in sink.received) == sorted([
        (leak.pk, "low_battery", Priority.P3), (other_leak.pk, "water_leak", Priority.P1),
        (charger.pk, "overheating", Priority.P1)])

    async with sessions.begin() as session:
        await session.execute(delete(RuleOverride).where(RuleOverride.estate_id == estate_id,
                                                         RuleOverride.rule == "water_leak"))
    await stage.refresh_overrides()
    await stage.on_reading(leak, telemetry(leak, 10, leak=True, battery=25))
    await stage.settle()
    assert kinds(sink.of("water_leak")) == [("water_leak", "raised")] * 2
