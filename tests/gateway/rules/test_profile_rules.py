"""Rules in profiles are strict operator data: a wrong one names file, line and problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.vocabulary import Category, Priority, Team
from device_profiles import ProfileError, load_profile, load_profiles
from gateway.rules import ConditionRule, EventRule, SilenceRule, compile_profile
from gateway.rules.spec import AllOf, AnyOf, Comparison, Op
from tests.gateway.rules.support import builtin_engine, device, telemetry

FRIDGE = """\
device_type: fridge
name: {en: Fridge, zh: 冰箱}
reporting_interval_s: 60
measurement: fridge
kinds: [shop, home]
telemetry:
  temperature_c: {type: float, unit: "°C"}
  door: {type: enum, values: [open, closed]}
  alarm: {type: string, nullable: true}
events:
  defrost: {}
rules:
  too_warm:
    title: {en: Too warm, zh: 温度过高}
    priority: P2
    team: repair
    category: simple
    when: {field: temperature_c, gt: 8, by_kind: {shop: 5}}
    clear: {field: temperature_c, le: 6}
    for_s: 600
"""
EXTRA_RULES = """\
  door_open:
    title: {en: Door open, zh: 门未关}
    priority: P3
    team: cleaning
    category: simple
    when:
      any:
        - all: [{field: door, eq: open}, {field: alarm, ne: null}]
        - {field: temperature_c, ge: 12}
    in_a_row: 2
  defrosting:
    title: {en: Defrosting often, zh: 频繁除霜}
    priority: P4
    team: repair
    category: external
    event: defrost
    count: 5
    within_s: 3600
  offline:
    title: {en: Fridge offline, zh: 冰箱离线}
    priority: P3
    team: telecom
    category: simple
    offline_status: true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fridge.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_rules_compile_to_the_engine_values(tmp_path: Path) -> None:
    rules = compile_profile(load_profile(_write(tmp_path, FRIDGE + EXTRA_RULES)))
    warm, door, defrost, offline = (rules.by_name[name] for name in
                                    ("too_warm", "door_open", "defrosting", "offline"))
    assert isinstance(warm, ConditionRule)
    assert warm.when == Comparison("temperature_c", Op.GT, 8, {"shop": 5})
    assert warm.clear == Comparison("temperature_c", Op.LE, 6)
    assert (warm.for_s, warm.in_a_row) == (600, 1)
    assert (warm.meta.priority, warm.meta.team, warm.meta.category) == (
        Priority.P2, Team.REPAIR, Category.SIMPLE)
    assert isinstance(door, ConditionRule)
    assert isinstance(door.when, AnyOf)
    assert isinstance(door.when.conditions[0], AllOf)
    assert door.in_a_row == 2
    assert defrost == EventRule(defrost.meta, "defrost", 5, 3600)
    assert offline == SilenceRule(offline.meta, None, True, 60)
    assert rules.conditions == (warm, door)
    assert rules.events == {"defrost": (defrost,)}


def test_a_profile_without_rules_still_loads(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, FRIDGE.split("rules:", maxsplit=1)[0]))
    assert profile.rules == {}


@pytest.mark.parametrize(("old", "new", "line", "problem"), [
    ("gt: 8,", "gt: 8, lt: 9,", 18, "exactly one of eq, ne"),
    ("field: temperature_c, gt", "field: temp, gt", 18, "'temp' is not a telemetry field"),
    ("gt: 8,", "gt: warm,", 18, "gt 'warm': 'temperature_c' is a float field"),
    ("{shop: 5}", "{boat: 5}", 18, "by_kind names ['boat']"),
    ("priority: P2", "priority: P9", 15, "rules.too_warm.priority"),
    ("team: repair", "team: plumbers", 16, "rules.too_warm.team"),
    ("for_s: 600", "for_s: 600\n    event: defrost", 13, "exactly one trigger"),
    ("for_s: 600", "for_s: 600\n    colour: red", 21, "colour: Extra inputs"),
    ("  too_warm:", "  Too-Warm:", 13, "rules.Too-Warm"),
])
def test_a_wrong_rule_names_file_line_and_problem(tmp_path: Path, old: str, new: str,
                                                  line: int, problem: str) -> None:
    path = _write(tmp_path, FRIDGE.replace(old, new))
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    assert problem in str(caught.value)
    assert caught.value.line == line
    assert f"{path}:{line}" in str(caught.value)


def _with_bad_rule(body: str) -> str:
    head = ["  bad:", "    title: {en: Bad, zh: 坏}", "    priority: P3", "    team: repair",
            "    category: simple"]
    return FRIDGE + "\n".join([*head, *(f"    {line}" for line in body.splitlines())]) + "\n"


@pytest.mark.parametrize(("rule", "line", "problem"), [
    ("when: {all: [{field: door, eq: ajar}]}", 26, "'ajar' is not one of 'door'"),
    ("when: {field: door, lt: 3}", 26, "'door' is a enum field"),
    ("when: {field: temperature_c, eq: null}", 26, "null is only compared"),
    ("when: {field: door, eq: open}\ncount: 3", 21, "event rule has"),
    ("event: sneeze\ncount: 2\nwithin_s: 9", 21, "'sneeze' is not an event"),
    ("silence_intervals: 3\nfor_s: 5", 21, "belong to `when` rules"),
    ("when: {any: []}", 26, "at least 1 item"),
])
def test_rule_conditions_are_checked_against_the_profile(tmp_path: Path, rule: str, line: int,
                                                         problem: str) -> None:
    path = _write(tmp_path, _with_bad_rule(rule))
    with pytest.raises(ProfileError, match=r"rules\.bad") as caught:
        load_profile(path)
    assert problem in str(caught.value)
    assert caught.value.line == line


def test_every_builtin_rule_compiles() -> None:
    for profile in load_profiles().by_type.values():
        assert profile.rules, f"{profile.device_type} declares no rules"
        assert "offline" in profile.rules
        assert len(compile_profile(profile).rules) == len(profile.rules)


def test_notify_residents_is_a_strict_rule_attribute_defaulting_to_false(tmp_path: Path) -> None:
    rules = compile_profile(load_profile(_write(
        tmp_path, FRIDGE.replace("for_s: 600", "for_s: 600\n    notify_residents: true")
        + EXTRA_RULES)))
    assert rules.by_name["too_warm"].meta.notify_residents is True
    assert [name for name, rule in rules.by_name.items() if rule.meta.notify_residents] == [
        "too_warm"]
    with pytest.raises(ProfileError, match=r"rules\.too_warm\.notify_residents") as caught:
        load_profile(_write(tmp_path, FRIDGE.replace(
            "for_s: 600", "for_s: 600\n    notify_residents: 'yes'")))
    assert caught.value.line == 21


def test_only_the_leak_sensors_leak_rule_notifies_residents_among_the_builtins() -> None:
    notifying = {(device_type, name)
                 for device_type, profile in load_profiles().by_type.items()
                 for name, rule in profile.rules.items() if rule.notify_residents}
    assert notifying == {("leak_sensor", "water_leak")}


def test_an_anomaly_carries_its_rules_notify_residents() -> None:
    engine = builtin_engine()
    leak = device("leak_sensor")
    raised = engine.reading(leak, telemetry(leak, 0, leak=True, battery=9))
    assert {(one.rule, one.notify_residents) for one in raised} == {
        ("water_leak", True), ("low_battery", False)}
    cleared = engine.reading(leak, telemetry(leak, 10, leak=False, battery=90))
    assert {(one.rule, one.notify_residents) for one in cleared} == {
        ("water_leak", True), ("low_battery", False)}
