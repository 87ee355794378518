"""How each kind of rule moves its state: on a reading, on an event, on hearing from the
device, on an `offline` status, and when a deadline passes with no message at all.

Each step returns the transition it caused (raised or cleared), or None; a reading that
still meets an active rule returns an ONGOING notice, which changes no state. An active rule
never raises again before it has cleared. Runs and windows are timed on receipt
(`received_ns`); a reading's `ts` (`time_ns`) only orders readings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.clock import NS_PER_S
from core.vocabulary import AnomalyKind
from gateway.rules.spec import ConditionRule, EventRule, Rule, Scalar, SilenceRule
from gateway.rules.state import RuleState, Snapshot


@dataclass(frozen=True, slots=True)
class Transition:
    kind: AnomalyKind
    at_ns: int
    readings: tuple[Snapshot, ...]


def _raise(state: RuleState, at_ns: int, readings: tuple[Snapshot, ...]) -> Transition:
    state.active = True
    return Transition(AnomalyKind.RAISED, at_ns, readings)


def _clear(state: RuleState, at_ns: int, readings: tuple[Snapshot, ...]) -> Transition:
    state.active = False
    return Transition(AnomalyKind.CLEARED, at_ns, readings)


# --- condition rules -----------------------------------------------------------------------

def received_ns(snapshot: Snapshot) -> int:
    """When the gateway heard it (states saved before receipt times were kept: the ts)."""
    found: int = snapshot["received_ns"] if "received_ns" in snapshot else snapshot["time_ns"]
    return found


def _ongoing(snapshot: Snapshot) -> Transition:
    return Transition(AnomalyKind.ONGOING, snapshot["time_ns"], (snapshot,))


def on_telemetry(rule: ConditionRule, state: RuleState, values: Mapping[str, Scalar],
                 kind: str | None, snapshot: Snapshot) -> Transition | None:
    """`ts` orders readings; the `for_s` run is timed on receipt (see device_profiles/README)."""
    verdict = rule.when.evaluate(values, kind)
    cleared: bool | None = None
    if state.active:
        cleared = (rule.clear.evaluate(values, kind) if rule.clear is not None
                   else None if verdict is None else not verdict)
    if verdict is None and cleared is None:
        return None  # this reading says nothing the rule can judge
    time_ns: int = snapshot["time_ns"]
    if state.last_ns is not None and time_ns < state.last_ns:
        return None
    state.last_ns = time_ns
    if state.active:
        if cleared:
            return _clear(state, time_ns, (snapshot,))
        return _ongoing(snapshot) if verdict else None
    if not verdict:
        state.reset_streak()
        return None
    if state.streak == 0:
        state.since_ns, state.started = received_ns(snapshot), snapshot
    state.streak += 1
    state.recent = [*state.recent, snapshot][-rule.in_a_row:]
    return _fire_if_held(rule, state, received_ns(snapshot))


def _condition_due_ns(rule: ConditionRule, state: RuleState) -> int | None:
    if state.active or state.since_ns is None or state.streak < rule.in_a_row:
        return None
    return state.since_ns + round(rule.for_s * NS_PER_S)


def _fire_if_held(rule: ConditionRule, state: RuleState, now_ns: int) -> Transition | None:
    due = _condition_due_ns(rule, state)
    if due is None or now_ns < due:
        return None
    readings = list(state.recent)
    if state.started is not None and state.started not in readings:
        readings.insert(0, state.started)  # the reading that started a `for_s` run
    state.reset_streak()
    # An instant rule keeps its reading's ts, so a redelivery raised twice is one detection.
    at_ns = max(due, received_ns(readings[-1])) if rule.for_s else int(readings[-1]["time_ns"])
    return _raise(state, at_ns, tuple(readings))


# --- event rules ---------------------------------------------------------------------------

def on_event(rule: EventRule, state: RuleState, snapshot: Snapshot) -> Transition | None:
    window_ns = round(rule.within_s * NS_PER_S)
    events = sorted([*state.recent, snapshot], key=received_ns)
    newest = received_ns(events[-1])
    state.recent = [item for item in events if received_ns(item) >= newest - window_ns]
    state.recent = state.recent[-rule.count:]
    state.last_ns = max(state.last_ns or 0, int(snapshot["time_ns"]))
    if state.active:
        return _ongoing(snapshot)
    if len(state.recent) < rule.count:
        return None
    return _raise(state, snapshot["time_ns"], tuple(state.recent))


def _event_due_ns(rule: EventRule, state: RuleState) -> int | None:
    if not state.active or not state.recent:
        return None
    return received_ns(state.recent[-1]) + round(rule.within_s * NS_PER_S)


# --- silence rules -------------------------------------------------------------------------

def on_heard(state: RuleState, received_ns: int, snapshot: Snapshot) -> Transition | None:
    """Any message (telemetry, event or an `online` status) shows the device is there."""
    state.heard_ns = max(state.heard_ns or received_ns, received_ns)
    state.recent = [snapshot]
    return _clear(state, received_ns, (snapshot,)) if state.active else None


def on_offline(rule: SilenceRule, state: RuleState, snapshot: Snapshot) -> Transition | None:
    if not rule.offline_status or state.active:
        return None
    return _raise(state, snapshot["time_ns"], (snapshot,))


def _silence_due_ns(rule: SilenceRule, state: RuleState,
                    device_interval_s: float | None) -> int | None:
    silence_ns = rule.silence_ns(device_interval_s)
    if state.active or silence_ns is None or state.heard_ns is None:
        return None
    return state.heard_ns + silence_ns


# --- deadlines -----------------------------------------------------------------------------

def due_ns(rule: Rule, state: RuleState, device_interval_s: float | None) -> int | None:
    """When this state must be looked at even if no message arrives (None: never)."""
    if isinstance(rule, ConditionRule):
        return _condition_due_ns(rule, state) if rule.for_s else None
    if isinstance(rule, EventRule):
        return _event_due_ns(rule, state)
    return _silence_due_ns(rule, state, device_interval_s)


def on_due(rule: Rule, state: RuleState, now_ns: int,
           device_interval_s: float | None) -> Transition | None:
    due = due_ns(rule, state, device_interval_s)
    if due is None or now_ns < due:
        return None
    if isinstance(rule, ConditionRule):
        return _fire_if_held(rule, state, now_ns)
    if isinstance(rule, EventRule):
        state.recent = []
        return _clear(state, due, ())
    return _raise(state, due, tuple(state.recent))
