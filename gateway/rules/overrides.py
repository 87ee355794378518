"""Per-estate overrides of profile rules (table rule_overrides), parsed and applied.

An override can switch a rule off or change its numbers: `value` (the threshold of the
rule's one ordered comparison, for every kind unless `by_kind` is given too), `for_s`,
`in_a_row`, `count`, `within_s`, `silence_intervals`, and its `priority`, `team` or
`category`. A row that does not fit its rule is logged and ignored, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.vocabulary import Category, Priority, Team
from gateway.rules.spec import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    ConditionRule,
    EventRule,
    Rule,
    Scalar,
    SilenceRule,
)
from gateway.rules.tables import RuleOverride

log = logging.getLogger(__name__)

Number = StrictInt | StrictFloat
_KIND_PARAMS: dict[type, frozenset[str]] = {
    ConditionRule: frozenset({"value", "by_kind", "for_s", "in_a_row"}),
    EventRule: frozenset({"count", "within_s"}),
    SilenceRule: frozenset({"silence_intervals"}),
}


class OverrideError(ValueError):
    """An override that cannot apply to its rule."""


class OverrideParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Number | None = None
    by_kind: dict[str, Number] | None = None
    for_s: Annotated[float, Field(ge=0)] | None = None
    in_a_row: Annotated[int, Field(ge=1)] | None = None
    count: Annotated[int, Field(ge=1)] | None = None
    within_s: Annotated[float, Field(gt=0)] | None = None
    silence_intervals: Annotated[float, Field(gt=0)] | None = None
    priority: Priority | None = None
    team: Team | None = None
    category: Category | None = None


NO_PARAMS = OverrideParams()


@dataclass(frozen=True, slots=True)
class Override:
    enabled: bool = True
    params: OverrideParams = NO_PARAMS


OverrideKey = tuple[str, str]  # (estate_id, device_type)
Overrides = Mapping[OverrideKey, Mapping[str, Override]]


def apply_override(rule: Rule, override: Override) -> Rule | None:
    """The rule as this estate wants it, or None when switched off."""
    if not override.enabled:
        return None
    params = override.params
    given = params.model_fields_set - {"priority", "team", "category"}
    misfit = given - _KIND_PARAMS[type(rule)]
    if misfit:
        raise OverrideError(f"{sorted(misfit)} do not apply to a {type(rule).__name__}")
    meta = replace(rule.meta, **{name: getattr(params, name) for name in
                                 ("priority", "team", "category") if getattr(params, name)})
    if isinstance(rule, ConditionRule):
        when = rule.when
        if params.value is not None or params.by_kind is not None:
            when = _with_threshold(when, params.value, params.by_kind)
        return replace(rule, meta=meta, when=when,
                       for_s=rule.for_s if params.for_s is None else params.for_s,
                       in_a_row=params.in_a_row or rule.in_a_row)
    if isinstance(rule, EventRule):
        return replace(rule, meta=meta, count=params.count or rule.count,
                       within_s=params.within_s or rule.within_s)
    return replace(rule, meta=meta, intervals=params.silence_intervals or rule.intervals)


def _ordered(condition: Condition) -> list[Comparison]:
    if isinstance(condition, Comparison):
        return [condition] if condition.op.ordered else []
    return [found for part in condition.conditions for found in _ordered(part)]


def _with_threshold(condition: Condition, value: Scalar,
                    by_kind: Mapping[str, Scalar] | None) -> Condition:
    tunable = _ordered(condition)
    if len(tunable) != 1:
        raise OverrideError("`value` needs a rule with exactly one lt/le/gt/ge comparison")
    target = tunable[0]
    changed = replace(target, value=target.value if value is None else value,
                      by_kind=dict(by_kind or {}))
    return _swap(condition, target, changed)


def _swap(condition: Condition, old: Comparison, new: Comparison) -> Condition:
    if condition is old:
        return new
    if isinstance(condition, AllOf | AnyOf):
        return type(condition)(tuple(_swap(part, old, new) for part in condition.conditions))
    return condition


def parse_override(row: RuleOverride) -> Override | None:
    try:
        params = OverrideParams.model_validate(row.params or {})
    except ValidationError as exc:
        log.warning("ignoring rule override %s/%s/%s: %s", row.estate_id, row.device_type,
                    row.rule, exc.errors()[0]["msg"])
        return None
    return Override(enabled=row.enabled, params=params)


async def load_overrides(session: AsyncSession) -> dict[OverrideKey, dict[str, Override]]:
    overrides: dict[OverrideKey, dict[str, Override]] = {}
    for row in (await session.scalars(select(RuleOverride))).all():
        parsed = parse_override(row)
        if parsed is not None:
            overrides.setdefault((row.estate_id, row.device_type), {})[row.rule] = parsed
    return overrides
