"""Turn the rules declared in device profiles into the engine's plain rule values."""

from __future__ import annotations

from collections.abc import Mapping

from device_profiles import DeviceProfile, ProfileSet
from device_profiles.schema import ConditionSpec, RuleDeclaration
from gateway.rules.spec import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    ConditionRule,
    EventRule,
    Op,
    Rule,
    RuleMeta,
    RuleSet,
    SilenceRule,
)


def compile_condition(spec: ConditionSpec) -> Condition:
    if spec.all is not None:
        return AllOf(tuple(compile_condition(part) for part in spec.all))
    if spec.any is not None:
        return AnyOf(tuple(compile_condition(part) for part in spec.any))
    assert spec.field is not None  # the schema guarantees one of the forms
    assert spec.op is not None
    return Comparison(field=spec.field, op=Op(spec.op), value=spec.value,
                      by_kind=dict(spec.by_kind))


def compile_rule(name: str, declared: RuleDeclaration, profile: DeviceProfile) -> Rule:
    meta = RuleMeta(name=name, title_en=declared.title.en, title_zh=declared.title.zh,
                    priority=declared.priority, team=declared.team,
                    category=declared.category, notify_residents=declared.notify_residents)
    if declared.when is not None:
        return ConditionRule(
            meta=meta, when=compile_condition(declared.when),
            clear=None if declared.clear is None else compile_condition(declared.clear),
            for_s=declared.for_s or 0.0, in_a_row=declared.in_a_row or 1,
        )
    if declared.event is not None:
        assert declared.count is not None
        assert declared.within_s is not None
        return EventRule(meta=meta, event=declared.event, count=declared.count,
                         within_s=declared.within_s)
    return SilenceRule(meta=meta, intervals=declared.silence_intervals,
                       offline_status=declared.offline_status,
                       reporting_interval_s=profile.reporting_interval_s)


def compile_profile(profile: DeviceProfile) -> RuleSet:
    return RuleSet(tuple(compile_rule(name, declared, profile)
                         for name, declared in profile.rules.items()),
                   profile.reporting_interval_s)


def compile_profiles(profiles: ProfileSet) -> Mapping[str, RuleSet]:
    """Each device type's rules, as declared (before any estate's overrides)."""
    return {device_type: compile_profile(profile)
            for device_type, profile in profiles.by_type.items()}
