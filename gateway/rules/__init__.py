"""Anomaly rules declared in device profiles, evaluated on the gateway's message stream."""

from gateway.rules.compile import compile_profile, compile_profiles
from gateway.rules.engine import RuleEngine
from gateway.rules.outbox import AnomalyOutbox
from gateway.rules.overrides import Override, OverrideParams, apply_override, load_overrides
from gateway.rules.spec import ConditionRule, EventRule, Rule, RuleSet, SilenceRule
from gateway.rules.stage import RuleStage
from gateway.rules.state import RuleState

__all__ = [
    "AnomalyOutbox",
    "ConditionRule",
    "EventRule",
    "Override",
    "OverrideParams",
    "Rule",
    "RuleEngine",
    "RuleSet",
    "RuleStage",
    "RuleState",
    "SilenceRule",
    "apply_override",
    "compile_profile",
    "compile_profiles",
    "load_overrides",
]
