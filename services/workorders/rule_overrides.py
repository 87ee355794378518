"""An estate's overrides of profile rules (thresholds, `for` durations, switched off), as the
administrators set them. The table and its meaning belong to the rule engine
(gateway/rules/overrides.py), which reloads them on its own; an override is checked here the
way the engine will apply it, so one that cannot apply is refused instead of ignored later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_profiles import ProfileSet
from gateway.rules.compile import compile_profile
from gateway.rules.overrides import Override, OverrideError, OverrideParams, apply_override
from gateway.rules.tables import RuleOverride
from registry.queries import estate_exists
from services.workorders.errors import InvalidReference


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A profile rule as declared, with the parameters an override may change."""

    device_type: str
    rule: str
    kind: str
    title_zh: str
    title_en: str
    defaults: dict[str, Any]


def _ordered(condition: Any) -> list[Any]:
    if hasattr(condition, "conditions"):
        return [found for part in condition.conditions for found in _ordered(part)]
    return [condition] if condition.op.ordered else []


def _defaults(rule: Any) -> dict[str, Any]:
    meta = rule.meta
    numbers = {name: getattr(rule, name) for name in
               ("for_s", "in_a_row", "count", "within_s") if hasattr(rule, name)}
    tunable = _ordered(rule.when) if hasattr(rule, "when") else []
    if len(tunable) == 1:  # what an override's `value` changes
        numbers.update(value=tunable[0].value, field=tunable[0].field,
                       op=tunable[0].op.value, by_kind=dict(tunable[0].by_kind))
    if hasattr(rule, "intervals"):
        numbers["silence_intervals"] = rule.intervals
    return {**numbers, "priority": meta.priority.value, "team": meta.team.value,
            "category": meta.category.value}


def declared_rules(profiles: ProfileSet) -> list[RuleInfo]:
    found = []
    for device_type in profiles.device_types:
        profile = profiles.get(device_type)
        assert profile is not None
        for rule in compile_profile(profile).rules:
            found.append(RuleInfo(device_type, rule.meta.name, type(rule).__name__,
                                  rule.meta.title_zh, rule.meta.title_en, _defaults(rule)))
    return found


def check_override(profiles: ProfileSet, *, device_type: str, rule: str, enabled: bool,
                   params: dict[str, Any]) -> OverrideParams:
    """The parsed params, if the override fits the declared rule; InvalidReference if not."""
    profile = profiles.get(device_type)
    if profile is None:
        raise InvalidReference("device_type", device_type, "no such device profile")
    declared = compile_profile(profile).by_name.get(rule)
    if declared is None:
        raise InvalidReference("rule", rule, f"not a rule of {device_type}")
    try:
        parsed = OverrideParams.model_validate(params)
        apply_override(declared, Override(enabled=True, params=parsed))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidReference("params", ".".join(map(str, first["loc"])), first["msg"]) from exc
    except OverrideError as exc:
        raise InvalidReference("params", sorted(params), str(exc)) from exc
    return parsed


async def list_overrides(session: AsyncSession, *,
                         estate_id: str | None = None) -> list[RuleOverride]:
    statement = select(RuleOverride).order_by(RuleOverride.estate_id, RuleOverride.device_type,
                                              RuleOverride.rule)
    if estate_id is not None:
        statement = statement.where(RuleOverride.estate_id == estate_id)
    return list(await session.scalars(statement))


async def set_override(session: AsyncSession, profiles: ProfileSet, *, estate_id: str,
                       device_type: str, rule: str, enabled: bool,
                       params: dict[str, Any]) -> RuleOverride:
    """Store the estate's override of one rule (checked first); the engine picks it up."""
    parsed = check_override(profiles, device_type=device_type, rule=rule, enabled=enabled,
                            params=params)
    if not await estate_exists(session, estate_id):
        raise InvalidReference("estate_id", estate_id, "no such estate")
    stored = parsed.model_dump(mode="json", exclude_unset=True)
    row = await session.get(RuleOverride, (estate_id, device_type, rule))
    if row is None:
        row = RuleOverride(estate_id=estate_id, device_type=device_type, rule=rule,
                           enabled=enabled, params=stored)
        session.add(row)
    else:
        row.enabled, row.params = enabled, stored
    await session.flush()
    return row


async def remove_override(session: AsyncSession, *, estate_id: str, device_type: str,
                          rule: str) -> bool:
    result = await session.execute(delete(RuleOverride).where(
        RuleOverride.estate_id == estate_id, RuleOverride.device_type == device_type,
        RuleOverride.rule == rule))
    return bool(getattr(result, "rowcount", 0))
