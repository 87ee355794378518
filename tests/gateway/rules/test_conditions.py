"""Each kind of condition, at engine level with hand-moved time (no sleeping, no servers)."""

from __future__ import annotations

from core.vocabulary import Category, Priority, Team
from gateway.rules import RuleEngine, RuleSet
from gateway.rules.spec import (
    AllOf,
    AnyOf,
    Comparison,
    ConditionRule,
    EventRule,
    Op,
    Rule,
    RuleMeta,
    SilenceRule,
)
from gateway.rules.timers import DeadlineHeap
from tests.gateway.rules.support import at, device, event, kinds, reading_times, status, telemetry

RAISED = [("r", "raised")]
CLEARED = [("r", "cleared")]
META = RuleMeta("r", "Rule", "规则", Priority.P3, Team.REPAIR, Category.SIMPLE)
LOW_BATTERY = Comparison("battery", Op.LT, 15)
LIGHT = device("voice_light")


def engine_with(rule: Rule, device_type: str = "voice_light") -> RuleEngine:
    return RuleEngine({device_type: RuleSet((rule,))})


def test_groups_answer_unknown_only_when_the_known_parts_cannot_decide() -> None:
    on, dim = Comparison("state", Op.EQ, "on"), Comparison("current_ma", Op.LT, 5)
    assert AllOf((on, dim)).evaluate({"state": "on", "current_ma": 1}, None) is True
    assert AllOf((on, dim)).evaluate({"state": "off"}, None) is False
    assert AllOf((on, dim)).evaluate({"state": "on"}, None) is None
    assert AnyOf((on, dim)).evaluate({"current_ma": 1}, None) is True
    assert AnyOf((on, dim)).evaluate({"current_ma": 9}, None) is None
    assert AnyOf((on, dim)).evaluate({"state": "off", "current_ma": 9}, None) is False
    assert Comparison("fault_code", Op.NE, None).evaluate({"fault_code": None}, None) is False
    assert Comparison("battery", Op.LT, 15).evaluate({"battery": None}, None) is None


def test_a_reading_without_the_field_neither_fires_nor_clears() -> None:
    engine = engine_with(ConditionRule(META, LOW_BATTERY), "leak_sensor")
    leak = device("leak_sensor")
    assert engine.reading(leak, telemetry(leak, 0, leak=False)) == []
    assert kinds(engine.reading(leak, telemetry(leak, 1, battery=10))) == RAISED
    assert engine.reading(leak, telemetry(leak, 2, leak=True)) == []
    assert engine.reading(leak, telemetry(leak, 3, battery=9)) == []
    assert kinds(engine.reading(leak, telemetry(leak, 4, battery=80))) == CLEARED


def test_in_a_row_needs_an_unbroken_run_and_attaches_it() -> None:
    dead = AllOf((Comparison("state", Op.EQ, "on"), Comparison("current_ma", Op.LT, 5)))
    engine = engine_with(ConditionRule(META, dead, in_a_row=3))
    for second, current in ((0, 1), (1, 2), (2, 40), (3, 1), (4, 1)):
        assert engine.reading(LIGHT, telemetry(LIGHT, second, state="on",
                                               current_ma=current)) == []
    fired = engine.reading(LIGHT, telemetry(LIGHT, 5, state="on", current_ma=0.5))
    assert kinds(fired) == RAISED
    assert reading_times(fired[0]) == [at(3), at(4), at(5)]
    assert fired[0].at.timestamp() == at(5) / 1e9


def test_for_s_fires_on_time_with_no_message() -> None:
    engine = engine_with(ConditionRule(META, Comparison("state", Op.EQ, "on"), for_s=900))
    assert engine.reading(LIGHT, telemetry(LIGHT, 0, state="on")) == []
    assert engine.reading(LIGHT, telemetry(LIGHT, 60, state="on")) == []
    assert engine.due(at(899.9)) == []
    fired = engine.due(at(900))
    assert kinds(fired) == RAISED
    assert fired[0].at.timestamp() == at(900) / 1e9
    assert reading_times(fired[0])[0] == at(0)  # the reading that started the run
    assert engine.due(at(5000)) == []
    assert kinds(engine.reading(LIGHT, telemetry(LIGHT, 5001, state="off"))) == CLEARED


def test_for_s_run_broken_before_its_time_does_not_fire() -> None:
    engine = engine_with(ConditionRule(META, Comparison("state", Op.EQ, "on"), for_s=900))
    engine.reading(LIGHT, telemetry(LIGHT, 0, state="on"))
    engine.reading(LIGHT, telemetry(LIGHT, 500, state="off"))
    engine.reading(LIGHT, telemetry(LIGHT, 600, state="on"))
    assert engine.due(at(1000)) == []
    assert kinds(engine.due(at(1500))) == RAISED


def test_a_reading_past_the_deadline_fires_without_waiting_for_a_tick() -> None:
    engine = engine_with(ConditionRule(META, Comparison("state", Op.EQ, "on"), for_s=120))
    engine.reading(LIGHT, telemetry(LIGHT, 0, state="on"))
    fired = engine.reading(LIGHT, telemetry(LIGHT, 130, state="on"))
    assert kinds(fired) == RAISED
    assert fired[0].at.timestamp() == at(130) / 1e9


def test_an_explicit_clear_condition_gives_hysteresis() -> None:
    rule = ConditionRule(META, LOW_BATTERY, clear=Comparison("battery", Op.GE, 20))
    engine = engine_with(rule, "leak_sensor")
    leak = device("leak_sensor")
    assert kinds(engine.reading(leak, telemetry(leak, 0, battery=10))) == RAISED
    assert engine.reading(leak, telemetry(leak, 1, battery=18)) == []
    assert kinds(engine.reading(leak, telemetry(leak, 2, battery=25))) == CLEARED


def test_an_active_rule_fires_again_only_after_it_cleared() -> None:
    engine = engine_with(ConditionRule(META, Comparison("state", Op.EQ, "on")))
    history = []
    for second, state in enumerate(["on", "on", "on", "off", "off", "on", "on"]):
        history += kinds(engine.reading(LIGHT, telemetry(LIGHT, second, state=state)))
    assert history == [*RAISED, *CLEARED, *RAISED]


def test_a_late_older_reading_cannot_undo_a_newer_verdict() -> None:
    engine = engine_with(ConditionRule(META, Comparison("state", Op.EQ, "on")))
    assert kinds(engine.reading(LIGHT, telemetry(LIGHT, 10, state="on"))) == RAISED
    assert engine.reading(LIGHT, telemetry(LIGHT, 5, state="off")) == []
    assert engine.state(LIGHT.pk, "r") is not None


def test_events_within_the_window_fire_and_the_window_emptying_clears() -> None:
    gate = device("barrier_gate")
    engine = engine_with(EventRule(META, "obstruction", count=3, within_s=600), "barrier_gate")
    assert engine.reading(gate, event(gate, 0, "obstruction")) == []
    assert engine.reading(gate, event(gate, 100, "vehicle_entry", plate="黑A12345")) == []
    assert engine.reading(gate, event(gate, 700, "obstruction")) == []  # the first expired
    assert engine.reading(gate, event(gate, 800, "obstruction")) == []
    fired = engine.reading(gate, event(gate, 900, "obstruction"))
    assert kinds(fired) == RAISED
    assert reading_times(fired[0]) == [at(700), at(800), at(900)]
    assert engine.reading(gate, event(gate, 1000, "obstruction")) == []  # extends the window
    assert engine.due(at(1599)) == []
    cleared = engine.due(at(1600))
    assert kinds(cleared) == CLEARED
    assert cleared[0].at.timestamp() == at(1600) / 1e9


def test_silence_fires_after_k_intervals_and_any_message_clears() -> None:
    rule = SilenceRule(META, intervals=3, offline_status=False, reporting_interval_s=300)
    engine = engine_with(rule, "leak_sensor")
    leak, quick = device("leak_sensor"), device("leak_sensor", pk=2, interval_s=10)
    engine.reading(leak, telemetry(leak, 0, leak=False))
    engine.reading(quick, telemetry(quick, 0, leak=False))
    assert [one.device_pk for one in engine.due(at(30))] == [2]  # registry interval first
    engine.reading(leak, telemetry(leak, 600, leak=False))
    assert engine.due(at(900)) == []  # heard again at 600: silent since then only
    fired = engine.due(at(1500))
    assert kinds(fired) == RAISED
    assert reading_times(fired[0]) == [at(600)]  # the last message heard
    assert engine.due(at(99_999)) == []
    assert kinds(engine.status(leak, status(leak, 100_000, online=True))) == CLEARED


def test_offline_status_fires_at_once_and_a_message_clears() -> None:
    rule = SilenceRule(META, intervals=None, offline_status=True, reporting_interval_s=60)
    engine = engine_with(rule)
    assert kinds(engine.status(LIGHT, status(LIGHT, 0, online=False))) == RAISED
    assert engine.status(LIGHT, status(LIGHT, 1, online=False)) == []
    assert kinds(engine.reading(LIGHT, telemetry(LIGHT, 2, state="off"))) == CLEARED


def test_deadlines_keep_one_live_entry_per_key_and_pop_only_what_is_due() -> None:
    deadlines: DeadlineHeap[str] = DeadlineHeap()
    for due in (50, 40, 60, 70):
        deadlines.schedule("a", due)
    deadlines.schedule("b", 45)
    assert len(deadlines) == 2
    assert deadlines.pop_due(44) == ["a"]
    assert deadlines.pop_due(49) == ["b"]
    assert deadlines.pop_due(10**6) == []


def test_many_silent_devices_keep_one_deadline_each() -> None:
    rule = SilenceRule(META, intervals=3, offline_status=False, reporting_interval_s=60)
    engine = engine_with(rule)
    lights = [device("voice_light", pk=pk) for pk in range(200)]
    for second in range(0, 600, 60):
        for light in lights:
            engine.reading(light, telemetry(light, second, state="off"))
    assert engine.pending_deadlines == len(lights)


def test_every_heard_again_is_saved_at_the_next_flush() -> None:
    rule = SilenceRule(META, intervals=3, offline_status=False, reporting_interval_s=60)
    engine = engine_with(rule)
    saved = []
    for second in (0, 10, 70, 80):
        engine.reading(LIGHT, telemetry(LIGHT, second, state="off"))
        saved.append([state["heard_ns"] for state in engine.take_changes().values()
                      if state is not None])
    assert saved == [[at(0)], [at(10)], [at(70)], [at(80)]]
    assert engine.take_changes() == {}
