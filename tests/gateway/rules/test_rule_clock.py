"""One rule clock: durations and windows on receipt time, late readings as history only,
registered devices missed when never heard, and notices of conditions still active."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import NS_PER_S, SystemClock
from core.telemetry import FieldValue
from core.vocabulary import Anomaly, AnomalyKind, Category, Priority, Team
from gateway.model import Reading
from gateway.rules import RuleEngine, RuleStage
from gateway.rules.lateness import OFFSET_WINDOW, LatenessJudge
from gateway.rules.outbox import AnomalyOutbox
from gateway.rules.spec import Comparison, ConditionRule, Op, RuleMeta, RuleSet
from registry.queries import DeviceRef
from tests.gateway.rules.support import (
    T0,
    CollectingSink,
    at,
    builtin_engine,
    device,
    event,
    kinds,
    telemetry,
)
from tests.utils.waiting import wait_until

SLOW_S = 600.0  # the device's clock runs 10 minutes behind
GATE = device("barrier_gate")
LIGHT = device("voice_light")
SLOW_S_NS = round(SLOW_S * NS_PER_S)
OPEN_FREE: dict[str, FieldValue | None] = {"position": "open", "loop_occupied": False}
CLOSED: dict[str, FieldValue | None] = {"position": "closed", "loop_occupied": False}


def heard(reading: Reading, *, received_s: float) -> Reading:
    """The same reading, received at T0 + `received_s` (its ts unchanged)."""
    return replace(reading, received_ns=at(received_s))


def slow(ref: DeviceRef, received_s: float, **values: FieldValue | None) -> Reading:
    """A reading from a device whose clock is SLOW_S behind, received at T0 + received_s."""
    return heard(telemetry(ref, received_s - SLOW_S, **values), received_s=received_s)


def test_a_slow_device_clock_raises_nothing_before_its_time_by_receipt() -> None:
    engine = builtin_engine()
    engine.reading(GATE, slow(GATE, 0, **CLOSED))
    assert engine.reading(GATE, slow(GATE, 1, **OPEN_FREE)) == []
    assert engine.due(at(2)) == []  # by the device's ts the gate has been open 10 minutes
    assert engine.reading(GATE, slow(GATE, 6, **CLOSED)) == []
    assert kinds(engine.due(at(500)), "stuck_open") == []


def test_a_real_open_of_a_slow_gate_fires_at_120_s_by_receipt() -> None:
    engine = builtin_engine()
    engine.reading(GATE, slow(GATE, 0, **CLOSED))
    engine.reading(GATE, slow(GATE, 10, **OPEN_FREE))
    assert kinds(engine.due(at(129.9)), "stuck_open") == []
    fired = engine.due(at(130))
    assert kinds(fired, "stuck_open") == [("stuck_open", "raised")]
    assert fired[0].at == T0 + timedelta(seconds=130)


def test_a_twenty_minute_old_reading_neither_starts_nor_ends_a_run() -> None:
    engine = builtin_engine()
    engine.reading(LIGHT, telemetry(LIGHT, 0, state="off"))
    old_on = heard(telemetry(LIGHT, 60 - 1200, state="on"), received_s=60)
    assert engine.reading(LIGHT, old_on) == []
    assert kinds(engine.due(at(60 + 901)), "stuck_on") == []
    engine.reading(LIGHT, telemetry(LIGHT, 1000, state="on"))  # a live one starts it
    old_off = heard(telemetry(LIGHT, 1010 - 1200, state="off"), received_s=1010)
    engine.reading(LIGHT, old_off)
    assert kinds(engine.due(at(1901)), "stuck_on") == [("stuck_on", "raised")]


def test_a_replay_of_a_buffered_day_raises_nothing() -> None:
    engine = builtin_engine()
    engine.reading(LIGHT, telemetry(LIGHT, 0, state="off"))
    day = 86_400
    raised = []
    for minute in range(0, 24 * 60, 5):  # on for 20 minutes of every hour, all sent at once
        state = "on" if minute % 60 < 20 else "off"
        reading = heard(telemetry(LIGHT, minute * 60, state=state), received_s=day + minute / 100)
        raised += engine.reading(LIGHT, reading)
    raised += engine.due(at(day + 20))
    assert kinds(raised, "stuck_on") == []


def test_the_usual_delay_is_learnt_from_the_last_readings() -> None:
    judge = LatenessJudge()
    lateness = 180 * NS_PER_S
    assert not judge.late(1, time_ns=0, received_ns=SLOW_S_NS, lateness_ns=lateness)
    assert not judge.late(1, time_ns=10, received_ns=SLOW_S_NS + 10, lateness_ns=lateness)
    assert judge.late(1, time_ns=0, received_ns=2 * SLOW_S_NS, lateness_ns=lateness)
    clock_set_back = [judge.late(1, time_ns=n, received_ns=2 * SLOW_S_NS + n,
                                 lateness_ns=lateness) for n in range(OFFSET_WINDOW + 1)]
    assert clock_set_back[0]
    assert not clock_set_back[-1]


def test_out_of_order_readings_never_move_a_rule_back() -> None:
    engine = builtin_engine()
    engine.reading(GATE, telemetry(GATE, 10, **OPEN_FREE))
    older_closed = heard(telemetry(GATE, 5, **CLOSED), received_s=11)
    assert engine.reading(GATE, older_closed) == []
    assert kinds(engine.due(at(130)), "stuck_open") == [("stuck_open", "raised")]


def test_event_windows_count_on_receipt() -> None:
    engine = builtin_engine()
    for received in (0, 100, 200):  # the gate's clock jumps; within 600 s as received
        obstruction = event(GATE, received * 5, "obstruction")
        engine.reading(GATE, heard(obstruction, received_s=received))
    state = engine.state(GATE.pk, "repeated_obstruction")
    assert state is not None
    assert state.active


def _registered(pk: int, *, since_s: float, commissioning: bool = False) -> DeviceRef:
    return replace(device("leak_sensor", pk=pk), watched_since=T0 + timedelta(seconds=since_s),
                   commissioning=commissioning)


def test_a_registered_device_never_heard_is_missed_after_three_intervals() -> None:
    engine = builtin_engine()
    silent, chatty = _registered(1, since_s=0), _registered(2, since_s=0)
    new = _registered(3, since_s=0, commissioning=True)
    engine.watch([silent, chatty, new])
    for second in range(0, 1200, 300):
        engine.reading(chatty, telemetry(chatty, second, leak=False))
    assert engine.due(at(899)) == []
    fired = engine.due(at(900))
    assert [(one.device_pk, one.rule, one.kind) for one in fired] == [
        (1, "offline", AnomalyKind.RAISED)]


def test_watching_again_never_moves_a_heard_device_back() -> None:
    engine = builtin_engine()
    leak = _registered(1, since_s=0)
    engine.reading(leak, telemetry(leak, 600, leak=False))
    engine.watch([leak])  # the registry refresh after it was heard
    assert engine.due(at(1499)) == []
    assert kinds(engine.due(at(1500)), "offline") == [("offline", "raised")]


def test_a_condition_still_met_while_active_is_noticed_apart() -> None:
    engine: RuleEngine = builtin_engine()
    leak = device("leak_sensor")
    assert kinds(engine.reading(leak, telemetry(leak, 0, leak=True)), "water_leak") == [
        ("water_leak", "raised")]
    assert engine.take_ongoing() == []
    assert engine.reading(leak, telemetry(leak, 300, leak=True)) == []
    ongoing = engine.take_ongoing()
    assert [(one.rule, one.kind) for one in ongoing] == [("water_leak", AnomalyKind.ONGOING)]
    assert engine.take_ongoing() == []
    assert kinds(engine.reading(leak, telemetry(leak, 600, leak=False)), "water_leak") == [
        ("water_leak", "cleared")]
    assert engine.take_ongoing() == []


class CountingEngine(RuleEngine):
    """The real engine, counting how often the ticker asks it for due deadlines."""

    ticks = 0

    def due(self, now_ns: int, limit: int | None = None) -> list[Anomaly]:
        self.ticks += 1
        return super().due(now_ns, limit)


async def test_the_ticker_sleeps_while_nothing_is_due_and_wakes_on_time(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    rule = ConditionRule(RuleMeta("stuck_on", "Stuck on", "常亮", Priority.P3, Team.REPAIR,
                                  Category.SIMPLE), Comparison("state", Op.EQ, "on"), for_s=0.3)
    engine = CountingEngine({"voice_light": RuleSet((rule,), 60)})
    sink = CollectingSink()
    stage = RuleStage(engine, AnomalyOutbox(sink, sessions), sessions, clock=SystemClock(),
                      flush_interval_s=0.02, refresh_s=30, tick_s=0.05)
    ticker = asyncio.create_task(stage.run_ticker())
    outbox = asyncio.create_task(stage.outbox.run())
    flusher = asyncio.create_task(stage.run_flusher())
    try:
        await asyncio.sleep(0.3)
        assert engine.ticks == 0
        received_ns = time.time_ns()
        on = replace(telemetry(LIGHT, 0, state="on"), time_ns=received_ns,
                     received_ns=received_ns)
        await stage.on_reading(LIGHT, on)
        assert await wait_until(lambda: bool(sink.of("stuck_on")), within=2)
        fired_after_s = (time.time_ns() - received_ns) / NS_PER_S
        assert 0.3 <= fired_after_s < 0.45
        assert engine.ticks <= 0.3 / 0.05 + 2
    finally:
        for task in (ticker, outbox, flusher):
            task.cancel()
        await asyncio.gather(ticker, outbox, flusher, return_exceptions=True)
