"""Test cases generated from device profiles, so a new profile is tested with no test code.

From each profile's own declarations: a well-formed telemetry payload and one per event
(every field, inside its limits), and the payloads each field must refuse (wrong type,
outside min/max or max_length, not one of an enum's values, non-finite, missing when
required). From each rule it declares: scenarios derived from the rule's parameters
(`in_a_row`, `for_s`, `count`/`within_s`, `silence_intervals`, `offline_status`, `by_kind`),
each step saying what it alone must produce: one that satisfies the rule and raises it
exactly once (then clears it), and near misses that raise nothing.

Values that satisfy or falsify a condition are searched among candidates built from the
field declarations and the rule's thresholds, judged by `holds`: the profile format's
meaning of a condition (device_profiles/README.md), written apart from the engine.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from core.vocabulary import AnomalyKind
from device_profiles import DeviceProfile, FieldSpec, FieldType, ProfileSet
from device_profiles.schema import ConditionSpec, RuleDeclaration
from gateway.validation import RejectReason

Payload = dict[str, Any]

# --- payloads ------------------------------------------------------------------------------


def sample_value(name: str, spec: FieldSpec) -> Any:
    """A valid, non-null value of a field, inside its declared limits."""
    if spec.type is FieldType.BOOL:
        return True
    if spec.type is FieldType.ENUM:
        assert spec.values
        return spec.values[0]
    if spec.type is FieldType.STRING:
        return f"{name}-1"[:spec.max_length]
    low, high = spec.min, spec.max
    if low is not None and high is not None:
        middle = (low + high) / 2
    elif low is not None:
        middle = low + 1
    elif high is not None:
        middle = high - 1
    else:
        middle = 1.5
    if spec.type is FieldType.FLOAT:
        return float(middle)
    value = math.floor(middle)
    if low is not None:
        value = max(value, math.ceil(low))
    if high is not None:
        value = min(value, math.floor(high))
    return value


def well_formed(specs: Mapping[str, FieldSpec], *, required_only: bool = False) -> Payload:
    """A payload with every declared field (or only the required ones), each valid."""
    return {name: sample_value(name, spec) for name, spec in specs.items()
            if spec.required or not required_only}


def telemetry_payload(profile: DeviceProfile, **values: Any) -> Payload:
    return {**well_formed(profile.telemetry), **values}


def event_payload(profile: DeviceProfile, event: str, **values: Any) -> Payload:
    return {"event": event, **well_formed(profile.events[event]), **values}


@dataclass(frozen=True)
class Refusal:
    """A payload that breaks one field's declaration, and the reason it must be refused for."""

    device_type: str
    event: str | None  # None: telemetry
    field: str
    what: str
    payload: Payload
    reason: RejectReason

    @property
    def id(self) -> str:
        return f"{self.device_type}-{self.event or 'telemetry'}-{self.field}-{self.what}"


WRONG_TYPES: Mapping[FieldType, tuple[Any, ...]] = {
    FieldType.BOOL: ("true", 1),
    FieldType.INT: ("1", True, 1.5),
    FieldType.FLOAT: ("1.5", True),
    FieldType.STRING: (5, True, ["a"]),
    FieldType.ENUM: (1, True),
}


def _breaking_values(name: str, spec: FieldSpec) -> Iterator[tuple[str, Any, RejectReason]]:
    for value in WRONG_TYPES[spec.type]:
        yield f"type-{type(value).__name__}", value, RejectReason.wrong_type
    if not spec.nullable:
        yield "null", None, RejectReason.wrong_type
    if spec.type in (FieldType.INT, FieldType.FLOAT):
        step = 1 if spec.type is FieldType.INT else 0.5
        if spec.min is not None:
            below = math.ceil(spec.min) - 1 if spec.type is FieldType.INT else spec.min - step
            yield "below-min", below, RejectReason.out_of_range
        if spec.max is not None:
            above = math.floor(spec.max) + 1 if spec.type is FieldType.INT else spec.max + step
            yield "above-max", above, RejectReason.out_of_range
        yield "nan", math.nan, RejectReason.non_finite
        yield "infinity", math.inf, RejectReason.non_finite
    if spec.type is FieldType.STRING:
        yield "too-long", "x" * (spec.max_length + 1), RejectReason.out_of_range
    if spec.type is FieldType.ENUM:
        assert spec.values
        yield "not-a-value", "-".join(spec.values) + "-x", RejectReason.invalid_value


def refusals(profile: DeviceProfile) -> list[Refusal]:
    """For every field of the telemetry and of each event: the payloads it must refuse."""
    found: list[Refusal] = []
    channels: list[tuple[str | None, Mapping[str, FieldSpec]]] = [
        (None, profile.telemetry), *profile.events.items()]
    for event, specs in channels:
        base = well_formed(specs) if event is None else {"event": event, **well_formed(specs)}
        for name, spec in specs.items():
            for what, value, reason in _breaking_values(name, spec):
                found.append(Refusal(profile.device_type, event, name, what,
                                     {**base, name: value}, reason))
            if spec.required:
                missing = {key: value for key, value in base.items() if key != name}
                found.append(Refusal(profile.device_type, event, name, "missing", missing,
                                     RejectReason.missing_field))
    return found


# --- what a condition means ----------------------------------------------------------------

ORDERED = frozenset({"lt", "le", "gt", "ge"})
COMPARE: Mapping[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "le": operator.le, "gt": operator.gt, "ge": operator.ge,
}


def holds(condition: ConditionSpec, values: Mapping[str, Any], kind: str | None) -> bool | None:
    """True, False, or None (unknown: a field it needs is absent, or null in an ordering)."""
    if condition.all is not None:
        return _group([holds(part, values, kind) for part in condition.all], decisive=False)
    if condition.any is not None:
        return _group([holds(part, values, kind) for part in condition.any], decisive=True)
    assert condition.field is not None
    assert condition.op is not None
    if condition.field not in values:
        return None
    actual = values[condition.field]
    if actual is None and condition.op in ORDERED:
        return None
    return COMPARE[condition.op](actual, threshold(condition, kind))


def _group(verdicts: list[bool | None], *, decisive: bool) -> bool | None:
    """`all` (one False decides) or `any` (one True decides); else unknown if a part is."""
    if any(verdict is decisive for verdict in verdicts):
        return decisive
    return None if any(verdict is None for verdict in verdicts) else not decisive


def threshold(comparison: ConditionSpec, kind: str | None) -> Any:
    if kind is not None and kind in comparison.by_kind:
        return comparison.by_kind[kind]
    return comparison.value


def comparisons(condition: ConditionSpec) -> Iterator[ConditionSpec]:
    if condition.field is not None:
        yield condition
    for part in (*(condition.all or ()), *(condition.any or ())):
        yield from comparisons(part)


def _valid(spec: FieldSpec, value: Any) -> bool:
    """Whether the profile allows `value` for the field (the candidates' own filter)."""
    if value is None:
        return spec.nullable
    checks: Mapping[FieldType, Callable[[Any], bool]] = {
        FieldType.BOOL: lambda one: isinstance(one, bool),
        FieldType.ENUM: lambda one: one in (spec.values or ()),
        FieldType.STRING: lambda one: isinstance(one, str) and len(one) <= spec.max_length,
        FieldType.INT: lambda one: _number_in_limits(spec, one) and one == int(one),
        FieldType.FLOAT: lambda one: _number_in_limits(spec, one),
    }
    return checks[spec.type](value)


def _number_in_limits(spec: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max)


def candidates(name: str, spec: FieldSpec, compared: list[Any]) -> list[Any]:
    """Valid values of a field worth trying: each threshold, just either side of it, and
    between thresholds first (so a rule is tested at its edge), then the field's limits."""
    pool: list[Any]
    if spec.type is FieldType.BOOL:
        pool = [True, False]
    elif spec.type is FieldType.ENUM:
        pool = [*compared, *(spec.values or ())]
    elif spec.type is FieldType.STRING:
        sample = sample_value(name, spec)
        pool = [*(value for value in compared if isinstance(value, str)), sample, sample + "x"]
    else:
        step = 1 if spec.type is FieldType.INT else 0.5
        numbers = sorted({value for value in compared if isinstance(value, int | float)})
        pool = [value + delta for value in numbers for delta in (0, -step, step)]
        pool += [(low + high) / 2 for low, high in itertools.pairwise(numbers)]
        pool += [spec.min, spec.max, sample_value(name, spec)]
        convert = int if spec.type is FieldType.INT else float
        pool = [convert(value) for value in pool
                if value is not None and (spec.type is FieldType.FLOAT or value == int(value))]
    if spec.nullable:
        pool.append(None)
    unique: dict[tuple[type, Any], Any] = {}
    for value in pool:
        if _valid(spec, value):
            unique.setdefault((type(value), value), value)
    return list(unique.values())


MAX_COMBINATIONS = 200_000


def solve(profile: DeviceProfile, conditions: list[ConditionSpec], kind: str | None,
          wanted: Callable[[Mapping[str, Any]], bool]) -> Payload | None:
    """Values of the fields `conditions` name (valid for the profile) that `wanted` accepts."""
    fields = sorted({leaf.field for condition in conditions for leaf in comparisons(condition)
                     if leaf.field is not None})
    pools = [candidates(name, profile.telemetry[name],
                        [threshold(leaf, kind) for condition in conditions
                         for leaf in comparisons(condition) if leaf.field == name])
             for name in fields]
    for combination in itertools.islice(itertools.product(*pools), MAX_COMBINATIONS):
        values = dict(zip(fields, combination, strict=True))
        if wanted(values):
            return values
    return None


# --- rule scenarios ------------------------------------------------------------------------

StepKind = Literal["telemetry", "event", "status", "tick"]


@dataclass(frozen=True)
class Step:
    """One input at `seconds` after the start, and what it alone must produce for the rule.

    telemetry/event: `payload` is the message body; status: `payload` is the status text;
    tick: the clock reaches `seconds` with no message."""

    what: StepKind
    seconds: float
    payload: Payload | str | None = None
    expect: AnomalyKind | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Scenario:
    device_type: str
    rule: str
    kind: str | None
    name: str
    steps: tuple[Step, ...] = ()
    problem: str | None = None  # why no scenario could be built (the test then fails)

    @property
    def id(self) -> str:
        kind = f"[{self.kind}]" if self.kind else ""
        return f"{self.device_type}-{self.rule}{kind}-{self.name}"

    @property
    def raises(self) -> bool:
        return any(step.expect is AnomalyKind.RAISED for step in self.steps)


RAISED, CLEARED = AnomalyKind.RAISED, AnomalyKind.CLEARED
EPSILON_S = 0.001  # "just before" a deadline


def rule_scenarios(profiles: ProfileSet) -> list[Scenario]:
    """Every rule of every profile: at least one scenario that raises it, one that does not."""
    found: list[Scenario] = []
    for profile in profiles.by_type.values():
        for name, rule in profile.rules.items():
            found.extend(scenarios_for(profile, name, rule))
    return found


def scenarios_for(profile: DeviceProfile, name: str, rule: RuleDeclaration) -> list[Scenario]:
    if rule.when is not None:
        uses_kind = any(leaf.by_kind for condition in (rule.when, rule.clear)
                        if condition is not None for leaf in comparisons(condition))
        kinds: tuple[str | None, ...] = (
            profile.kinds if uses_kind else profile.kinds[:1]) or (None,)
        return [scenario for kind in kinds
                for scenario in _condition_scenarios(profile, name, rule, kind)]
    kind = profile.kinds[0] if profile.kinds else None
    if rule.event is not None:
        return _event_scenarios(profile, name, rule, kind)
    return _silence_scenarios(profile, name, rule, kind)


def _condition_scenarios(profile: DeviceProfile, name: str, rule: RuleDeclaration,
                         kind: str | None) -> list[Scenario]:
    when, clear = rule.when, rule.clear
    assert when is not None
    conditions = [when] if clear is None else [when, clear]

    def solved(wanted: Callable[[Mapping[str, Any]], bool]) -> Payload | None:
        return solve(profile, conditions, kind, wanted)

    firing = (solved(lambda values: holds(when, values, kind) is True
                     and (clear is None or holds(clear, values, kind) is not True))
              or solved(lambda values: holds(when, values, kind) is True))
    quiet = solved(lambda values: holds(when, values, kind) is False)
    clearing = quiet if clear is None else solved(
        lambda values: holds(clear, values, kind) is True)

    def problem(text: str) -> Scenario:
        return Scenario(profile.device_type, name, kind, "unbuildable", problem=text)

    if firing is None:
        return [problem("no valid reading satisfies `when`: the rule can never fire")]
    if quiet is None:
        return [problem("every valid reading satisfies `when`: the rule fires on any report")]
    if clearing is None:
        return [problem("no valid reading satisfies `clear`: the rule can never clear")]

    def reading(seconds: float, values: Payload, expect: AnomalyKind | None = None) -> Step:
        return Step("telemetry", seconds, telemetry_payload(profile, **values), expect=expect)

    def scenario(label: str, *steps: Step) -> Scenario:
        return Scenario(profile.device_type, name, kind, label, steps)

    in_a_row, for_s = rule.in_a_row or 1, rule.for_s or 0.0
    spacing = for_s / in_a_row if for_s else 1.0  # the run is complete before `for_s`
    just = min(EPSILON_S, spacing / 2)
    run = [reading(index * spacing, firing) for index in range(in_a_row)]
    if for_s:
        held = [Step("tick", for_s - just), Step("tick", for_s, expect=RAISED)]
    else:
        run[-1] = reading(run[-1].seconds, firing, RAISED)
        held = []
    fired_at = for_s or run[-1].seconds
    far = fired_at + 2 * max(for_s, 1.0) + in_a_row
    scenarios = [
        scenario("fires-once-then-clears", *run, *held,
                 reading(fired_at + 1, firing),  # the same cause again: already raised
                 reading(fired_at + 2, clearing, CLEARED),
                 Step("tick", far)),
        scenario("quiet-readings",
                 *(reading(index * spacing, quiet) for index in range(in_a_row)),
                 Step("tick", far)),
    ]
    if in_a_row > 1:
        broken = [*([firing] * (in_a_row - 1)), quiet, *([firing] * (in_a_row - 1))]
        scenarios.append(scenario(
            f"run-of-{in_a_row - 1}-broken",
            *(reading(index * spacing, values) for index, values in enumerate(broken)),
            Step("tick", far + len(broken) * spacing)))
    if for_s:
        scenarios.append(scenario(
            "broken-before-for_s", *run, Step("tick", for_s - 2 * just),
            reading(for_s - just, quiet), Step("tick", far)))
    return scenarios


def _event_scenarios(profile: DeviceProfile, name: str, rule: RuleDeclaration,
                     kind: str | None) -> list[Scenario]:
    event, count, within_s = rule.event, rule.count, rule.within_s
    assert event is not None
    assert count is not None
    assert within_s is not None

    def occurs(seconds: float, expect: AnomalyKind | None = None) -> Step:
        return Step("event", seconds, event_payload(profile, event), expect=expect)

    def scenario(label: str, *steps: Step) -> Scenario:
        return Scenario(profile.device_type, name, kind, label, steps)

    # `count` events exactly `within_s` apart from first to last: still inside the window.
    spacing = within_s / (count - 1) if count > 1 else 0.0
    times = [index * spacing for index in range(count)]
    last = times[-1]
    again = last + min(1.0, within_s / 2)  # one more inside the window moves its end
    scenarios = [
        scenario("fires-once-then-clears",
                 *(occurs(at) for at in times[:-1]), occurs(last, RAISED),
                 occurs(again), Step("tick", again + within_s - EPSILON_S),
                 Step("tick", again + within_s, expect=CLEARED)),
        scenario("other-messages",
                 Step("telemetry", 0, telemetry_payload(profile)),
                 *(Step("event", 1 + index, event_payload(profile, other))
                   for index, other in enumerate(sorted(set(profile.events) - {event}))),
                 Step("tick", 2 * within_s + len(profile.events))),
    ]
    if count > 1:
        scenarios.append(scenario(
            f"only-{count - 1}", *(occurs(at) for at in times[:-1]),
            Step("tick", last + 2 * within_s)))
        wider = (within_s + min(1.0, within_s / 10)) / (count - 1)
        scenarios.append(scenario(
            f"{count}-spread-over-more-than-{within_s:g}s",
            *(occurs(index * wider) for index in range(count)),
            Step("tick", (count - 1) * wider + 2 * within_s)))
    return scenarios


def _silence_scenarios(profile: DeviceProfile, name: str, rule: RuleDeclaration,
                       kind: str | None) -> list[Scenario]:
    def heard(seconds: float, expect: AnomalyKind | None = None) -> Step:
        return Step("telemetry", seconds, telemetry_payload(profile), expect=expect)

    def scenario(label: str, *steps: Step) -> Scenario:
        return Scenario(profile.device_type, name, kind, label, steps)

    scenarios: list[Scenario] = []
    if rule.silence_intervals is not None:
        silence = rule.silence_intervals * profile.reporting_interval_s
        scenarios += [
            scenario(f"silent-{silence:g}s",
                     heard(0), Step("tick", silence - EPSILON_S),
                     Step("tick", silence, expect=RAISED),
                     Step("tick", 2 * silence), heard(2 * silence + 1, CLEARED)),
            scenario("heard-in-time",
                     heard(0), heard(silence / 2), Step("tick", silence),
                     Step("tick", silence / 2 + silence - EPSILON_S)),
        ]
    if rule.offline_status:
        scenarios += [
            scenario("offline-status",
                     Step("status", 0, "offline", expect=RAISED), Step("status", 1, "offline"),
                     heard(2, CLEARED)),
            scenario("online-status", Step("status", 0, "online"), heard(1)),
        ]
    else:
        scenarios.append(scenario("offline-status-is-not-a-trigger",
                                  Step("status", 0, "offline")))
    return scenarios
