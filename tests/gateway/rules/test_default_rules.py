"""Every rule of every loaded profile, and the contract's ten default rules by name.

The generated part: for each profile in device_profiles/profiles/ (a new one too) and each
rule it declares, scenarios derived from the rule's own parameters (in_a_row, for_s, count
and within_s, silence_intervals, offline_status, by_kind; see tests/utils/profile_cases.py),
run as real messages through the decoder into an engine holding only that rule: a sequence
that satisfies the rule raises exactly one anomaly (and then clears it), the near misses
raise none. The named part keeps the contract's cases with their exact numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.topic import Channel, Topic
from core.vocabulary import Anomaly, AnomalyKind, Priority
from device_profiles import load_profiles
from gateway.decode import StatusChange, decode_message
from gateway.rules import RuleEngine, RuleSet, compile_profile
from registry.queries import DeviceRef
from tests.gateway.rules.support import at, builtin_engine, device, event, status, telemetry
from tests.utils.payloads import encode
from tests.utils.profile_cases import Scenario, Step, comparisons, rule_scenarios

PROFILES = load_profiles()
SCENARIOS = rule_scenarios(PROFILES)


def _message_channel(step: Step) -> Channel:
    return {"telemetry": Channel.TELEMETRY, "event": Channel.EVENT,
            "status": Channel.STATUS}[step.what]


def _run_step(engine: RuleEngine, ref: DeviceRef, step: Step) -> list[Anomaly]:
    if step.what == "tick":
        return engine.due(at(step.seconds))
    profile = PROFILES.by_type[ref.device_type]
    topic = Topic(ref.estate_id, ref.device_type, ref.device_id, _message_channel(step))
    body = step.payload.encode() if isinstance(step.payload, str) else encode(step.payload or {})
    message = decode_message(topic, body, profile, received_ns=at(step.seconds))
    if isinstance(message, StatusChange):
        return engine.status(ref, message)
    return engine.reading(ref, message)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.id)
def test_each_declared_rule_raises_exactly_when_its_scenario_says(scenario: Scenario) -> None:
    assert scenario.problem is None, f"{scenario.device_type}.{scenario.rule}: {scenario.problem}"
    profile = PROFILES.by_type[scenario.device_type]
    declared = compile_profile(profile).by_name[scenario.rule]
    engine = RuleEngine({scenario.device_type: RuleSet((declared,))})
    ref = device(scenario.device_type, kind=scenario.kind)
    rule = profile.rules[scenario.rule]
    for index, step in enumerate(scenario.steps):
        produced = _run_step(engine, ref, step)
        expected = [] if step.expect is None else [step.expect]
        assert [one.kind for one in produced] == expected, f"step {index}: {step}"
        for anomaly in produced:
            assert (anomaly.rule, anomaly.device_pk, anomaly.device_type) == (
                scenario.rule, ref.pk, scenario.device_type)
            assert (anomaly.priority, anomaly.team, anomaly.category) == (
                rule.priority, rule.team, rule.category)
            assert (anomaly.title_en, anomaly.title_zh) == (rule.title.en, rule.title.zh)
            assert anomaly.notify_residents is rule.notify_residents
            assert anomaly.at.timestamp() == pytest.approx(at(step.seconds) / 1e9, abs=1e-6)
            if anomaly.kind is AnomalyKind.RAISED:
                assert anomaly.readings, "a firing carries the messages that caused it"


def test_the_generated_scenarios_cover_every_loaded_profile_and_rule() -> None:
    declared = {(device_type, rule) for device_type, profile in load_profiles().by_type.items()
                for rule in profile.rules}
    raising = [one for one in SCENARIOS if one.raises]
    assert {(one.device_type, one.rule) for one in raising} == declared
    assert {(one.device_type, one.rule) for one in SCENARIOS
            if one.steps and not one.raises} == declared
    for scenario in SCENARIOS:
        expected = [step.expect for step in scenario.steps if step.expect is not None]
        assert expected in ([], [AnomalyKind.RAISED], [AnomalyKind.RAISED, AnomalyKind.CLEARED]
                            ), scenario.id
    assert {(one.device_type, one.rule) for one in raising
            if any(step.expect is AnomalyKind.CLEARED for step in one.steps)} == declared
    assert len({one.id for one in SCENARIOS}) == len(SCENARIOS)


def test_rules_with_a_threshold_per_kind_are_run_for_every_kind() -> None:
    for device_type, profile in PROFILES.by_type.items():
        for name, rule in profile.rules.items():
            conditions = [one for one in (rule.when, rule.clear) if one is not None]
            if any(leaf.by_kind for one in conditions for leaf in comparisons(one)):
                tried = {one.kind for one in SCENARIOS
                         if (one.device_type, one.rule) == (device_type, name) and one.raises}
                assert tried == set(profile.kinds), (device_type, name)


# (what, seconds, payload): "t" telemetry values, "e" event name, "s" online?, "tick" nothing.
CaseStep = tuple[str, float, Any]


@dataclass(frozen=True)
class Case:
    device_type: str
    rule: str
    priority: Priority
    raise_steps: list[CaseStep]
    clear_steps: list[CaseStep]
    kind: str | None = None


CASES = [
    Case("leak_sensor", "water_leak", Priority.P1,
         [("t", 0, {"leak": True})], [("t", 10, {"leak": False})]),
    Case("leak_sensor", "low_battery", Priority.P4,
         [("t", 0, {"leak": False, "battery": 14})], [("t", 10, {"leak": False, "battery": 90})]),
    Case("voice_light", "lamp_failure", Priority.P3,
         [("t", second, {"state": "on", "current_ma": 1.0}) for second in (0, 1, 2)],
         [("t", 3, {"state": "on", "current_ma": 41.5})]),
    Case("voice_light", "stuck_on", Priority.P3,
         [("t", 0, {"state": "on", "current_ma": 41.5}), ("tick", 899, None), ("tick", 900, None)],
         [("t", 950, {"state": "off", "current_ma": 0.0})]),
    Case("ev_charger", "fault", Priority.P2,
         [("t", 0, {"status": "faulted", "fault_code": "E-07"})],
         [("t", 10, {"status": "available", "fault_code": None})], kind="car"),
    Case("ev_charger", "overheating", Priority.P1,
         [("t", 0, {"status": "charging", "temperature_c": 70.0})],
         [("t", 10, {"status": "charging", "temperature_c": 48.5})], kind="car"),
    Case("barrier_gate", "stuck_open", Priority.P2,
         [("t", 0, {"position": "open", "loop_occupied": False}), ("tick", 119, None),
          ("tick", 120, None)],
         [("t", 150, {"position": "closed", "loop_occupied": False})]),
    Case("barrier_gate", "fault", Priority.P2,
         [("t", 0, {"position": "closed", "fault_code": "M3"})],
         [("t", 10, {"position": "closed", "fault_code": None})]),
    Case("barrier_gate", "repeated_obstruction", Priority.P3,
         [("e", 0, "obstruction"), ("e", 250, "obstruction"), ("e", 600, "obstruction")],
         [("tick", 1199, None), ("tick", 1200, None)]),
    *[Case(device_type, "offline", Priority.P3, [("s", 0, False)], [("s", 5, True)])
      for device_type in ("leak_sensor", "voice_light", "ev_charger", "barrier_gate")],
    *[Case(device_type, "offline", Priority.P3,
           [("t", 0, {}), ("tick", 3 * interval - 1, None), ("tick", 3 * interval, None)],
           [("t", 3 * interval + 5, {})])
      for device_type, interval in (("leak_sensor", 300), ("voice_light", 60),
                                    ("ev_charger", 60), ("barrier_gate", 30))],
]


def run(engine: RuleEngine, ref: DeviceRef, steps: list[CaseStep]) -> list[Anomaly]:
    produced: list[Anomaly] = []
    for what, seconds, payload in steps:
        if what == "t":
            produced += engine.reading(ref, telemetry(ref, seconds, **payload))
        elif what == "e":
            produced += engine.reading(ref, event(ref, seconds, payload))
        elif what == "s":
            produced += engine.status(ref, status(ref, seconds, online=payload))
        else:
            produced += engine.due(at(seconds))
    return produced


def _id(case: Case) -> str:
    trigger = "status" if case.raise_steps[0][0] == "s" else "silence" \
        if case.rule == "offline" else case.kind or ""
    return f"{case.device_type}-{case.rule}-{trigger}".rstrip("-")


def test_the_builtin_profiles_declare_the_contract_rules() -> None:
    declared = {(device_type, rule) for device_type, profile in PROFILES.by_type.items()
                for rule in profile.rules}
    assert {(case.device_type, case.rule) for case in CASES} <= declared


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_default_rule_fires_once_then_clears(case: Case) -> None:
    engine = builtin_engine()
    ref = device(case.device_type, kind=case.kind)
    raised = [one for one in run(engine, ref, case.raise_steps) if one.rule == case.rule]
    assert [one.kind for one in raised] == [AnomalyKind.RAISED]
    anomaly = raised[0]
    assert anomaly.priority is case.priority
    assert (anomaly.device_pk, anomaly.device_type) == (ref.pk, case.device_type)
    assert anomaly.title_en
    assert anomaly.title_zh
    assert anomaly.readings, "a firing carries the readings that caused it"
    again = run(engine, ref, case.raise_steps[-1:])  # the same cause once more
    assert [one for one in again if one.rule == case.rule] == []
    cleared = [one for one in run(engine, ref, case.clear_steps) if one.rule == case.rule]
    assert [one.kind for one in cleared] == [AnomalyKind.CLEARED]


@pytest.mark.parametrize(("kind", "temperature", "fires"), [
    ("ebike", 59.9, False), ("ebike", 60.0, True), ("car", 65.0, False), ("car", 70.0, True),
    (None, 69.0, False), (None, 70.0, True),
])
def test_overheating_threshold_follows_the_charger_kind(kind: str | None, temperature: float,
                                                         fires: bool) -> None:
    engine = builtin_engine()
    charger = device("ev_charger", kind=kind)
    produced = engine.reading(charger, telemetry(charger, 0, temperature_c=temperature))
    assert [one.rule for one in produced] == (["overheating"] if fires else [])
