"""Rules as the engine sees them: plain frozen values, independent of the profile schema.

A condition answers True, False or None (unknown: the reading does not carry a field it
needs); a rule ignores readings it cannot judge, so a partial report neither fires nor clears.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.clock import NS_PER_S
from core.vocabulary import Category, Priority, Team

Scalar = bool | int | float | str | None


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"

    @property
    def ordered(self) -> bool:
        return self in ORDERED_OPS


ORDERED_OPS = frozenset({Op.LT, Op.LE, Op.GT, Op.GE})
_APPLY: dict[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq, Op.NE: operator.ne, Op.LT: operator.lt,
    Op.LE: operator.le, Op.GT: operator.gt, Op.GE: operator.ge,
}


@dataclass(frozen=True, slots=True)
class Comparison:
    """`field op value`; `by_kind` gives another value for devices of a registry kind."""

    field: str
    op: Op
    value: Scalar
    by_kind: Mapping[str, Scalar] = dataclasses.field(default_factory=dict)

    def threshold(self, kind: str | None) -> Scalar:
        if kind is not None and kind in self.by_kind:
            return self.by_kind[kind]
        return self.value

    def evaluate(self, values: Mapping[str, Scalar], kind: str | None) -> bool | None:
        if self.field not in values:
            return None
        actual = values[self.field]
        if actual is None and self.op in ORDERED_OPS:
            return None
        return _APPLY[self.op](actual, self.threshold(kind))


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[Condition, ...]

    def evaluate(self, values: Mapping[str, Scalar], kind: str | None) -> bool | None:
        unknown = False
        for condition in self.conditions:
            verdict = condition.evaluate(values, kind)
            if verdict is False:
                return False
            unknown = unknown or verdict is None
        return None if unknown else True


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def evaluate(self, values: Mapping[str, Scalar], kind: str | None) -> bool | None:
        unknown = False
        for condition in self.conditions:
            verdict = condition.evaluate(values, kind)
            if verdict is True:
                return True
            unknown = unknown or verdict is None
        return None if unknown else False


Condition = Comparison | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What a firing becomes: the anomaly's name, titles and work-order classification, and
    whether its new work order also tells the unit's residents."""

    name: str
    title_en: str
    title_zh: str
    priority: Priority
    team: Team
    category: Category
    notify_residents: bool = False


@dataclass(frozen=True, slots=True)
class ConditionRule:
    """Fires when `when` holds for `in_a_row` telemetry readings and for `for_s` seconds;
    clears when `clear` holds (default: when `when` is false)."""

    meta: RuleMeta
    when: Condition
    clear: Condition | None = None
    for_s: float = 0.0
    in_a_row: int = 1


@dataclass(frozen=True, slots=True)
class EventRule:
    """Fires on `count` events named `event` within `within_s` seconds; clears when
    `within_s` passes with no further event."""

    meta: RuleMeta
    event: str
    count: int
    within_s: float


@dataclass(frozen=True, slots=True)
class SilenceRule:
    """Fires when a device is silent `intervals` × its reporting interval, or (with
    `offline_status`) says it is offline; clears on the next message."""

    meta: RuleMeta
    intervals: float | None
    offline_status: bool
    reporting_interval_s: float

    def silence_ns(self, device_interval_s: float | None) -> int | None:
        if self.intervals is None:
            return None
        interval = device_interval_s or self.reporting_interval_s
        return round(self.intervals * interval * NS_PER_S)


Rule = ConditionRule | EventRule | SilenceRule


class RuleSet:
    """The rules of one device type, split by what can trigger them, so a message only
    visits the rules it can affect."""

    __slots__ = ("by_name", "conditions", "events", "reporting_interval_s", "rules", "silence")

    def __init__(self, rules: tuple[Rule, ...],
                 reporting_interval_s: float | None = None) -> None:
        self.rules = rules
        self.reporting_interval_s = reporting_interval_s  # the profile's; a device may differ
        self.by_name: dict[str, Rule] = {rule.meta.name: rule for rule in rules}
        self.conditions = tuple(rule for rule in rules if isinstance(rule, ConditionRule))
        self.silence = tuple(rule for rule in rules if isinstance(rule, SilenceRule))
        events: dict[str, list[EventRule]] = {}
        for rule in rules:
            if isinstance(rule, EventRule):
                events.setdefault(rule.event, []).append(rule)
        self.events = {name: tuple(found) for name, found in events.items()}

    def __bool__(self) -> bool:
        return bool(self.rules)


EMPTY_RULES = RuleSet(())
